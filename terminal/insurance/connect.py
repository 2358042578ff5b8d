"""Open this window's connection to the centre from its config (`[centre]`).

`url` empty: the embedded centre, in this process, on its own database file (`[centre] db`); `url =
"http://host:port"`: a centre on another machine, over HTTP with the configured timeouts.
"""

from __future__ import annotations

import re
from typing import Any

from terminal.config import Config
from terminal.insurance.client import CentreClient, Identity
from terminal.insurance.transport import EmbeddedTransport, HttpTransport, Transport


def centre_section(cfg: Config) -> dict[str, Any]:
    return cfg.section("centre")


def identity(cfg: Config, *, kiosk: bool = False) -> Identity:
    c = centre_section(cfg)
    digits = re.sub(r"[^0-9]", "", cfg.terminal.window) or "1"
    return Identity(fixmedins_code=c.get("fixmedins_code") or cfg.terminal.hospital_code or "H00000000000",
                    fixmedins_name=cfg.terminal.hospital_name, mdtrtarea_admvs=c.get("mdtrtarea_admvs") or "410100",
                    opter=c.get("opter") or cfg.terminal.operator, opter_name=cfg.terminal.operator,
                    opter_type="2" if kiosk else "1", window_no=int(digits[-2:]))


def open_transport(cfg: Config) -> Transport:
    c = centre_section(cfg)
    url = (c.get("url") or "").strip()
    if url:
        return HttpTransport(url, connect_timeout_s=float(c.get("connect_timeout_s", 3.0)),
                             read_timeout_s=float(c.get("read_timeout_s", 15.0)))
    from centre.api import open_centre
    centre = open_centre(cfg.raw, cfg.resolve(c.get("db") or "var/centre.db"), faults=list(c.get("faults", [])),
                         synchronous=cfg.database.synchronous)
    return EmbeddedTransport(centre)


def open_client(cfg: Config, *, kiosk: bool = False) -> CentreClient:
    """The window's client: transport, identity, and its own database for the log."""
    from terminal.store.db import open_from_config
    c = centre_section(cfg)
    return CentreClient(open_transport(cfg), identity(cfg, kiosk=kiosk), lambda: open_from_config(cfg, create=True),
                        slow_ms=float(c.get("slow_ms", 1000.0)))
