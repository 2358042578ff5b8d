"""Which pages may open the app's websocket, and where the page finds it — never from the Host header.

A browser sends the Origin of the page that opens a websocket, and nothing stops a page on another
site (or on another port of this machine) from opening one to the kiosk: without a check it starts
an app and types into it, e.g. a reversal in `--mode cashier`. So a websocket is accepted only from
the server's own origin:
- with a public URL (`--public-url`, `[web].public_url`): exactly that URL's origin;
- else `http://<the address this connection arrived at>:<port>`: the address the socket was
  accepted on, which the machine decides, not the request (a page may send any Host header, and a
  DNS-rebinding site makes the browser send its own name); on a loopback address also its
  names `localhost`, `127.0.0.1` and `[::1]`.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def normalize(origin: str) -> str | None:
    """`HTTP://LocalHost:80` -> `http://localhost`; None for anything that is not scheme://host[:port]."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or parts.path not in ("", "/") or parts.query or parts.username:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + ("" if port in (None, DEFAULT_PORTS[scheme]) else f":{port}")


def url_host(address: str) -> str:
    """An address as it appears in a URL: `::1` -> `[::1]`, `::ffff:10.0.0.2` -> `10.0.0.2`."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ip.ipv4_mapped) if ip.ipv4_mapped else f"[{ip}]"
    return str(ip)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def own_origins(public_url: str | None, local_host: str, port: int) -> frozenset[str]:
    """The origins whose pages may open the websocket (normalized, see `normalize`)."""
    if public_url:
        parts = urlsplit(public_url.strip())
        origin = normalize(f"{parts.scheme}://{parts.netloc}")   # the origin is scheme, host and port: no path
        return frozenset({origin} if origin else ())
    hosts = {url_host(local_host)}
    if is_loopback(local_host):
        hosts.update(LOOPBACK_NAMES)
    return frozenset(filter(None, (normalize(f"http://{h}:{port}") for h in hosts)))


def websocket_url(public_url: str | None, local_host: str, port: int) -> str:
    """`ws[s]://…/ws` from the public URL, else from the address this connection arrived at."""
    if public_url:
        base = public_url.rstrip("/")
        return ("wss:" if base.startswith("https:") else "ws:") + base.split(":", 1)[1] + "/ws"
    return f"ws://{url_host(local_host)}:{port}/ws"
