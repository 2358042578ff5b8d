"""`cashier web`: serve the kiosk (or the cashier app) to browsers with textual-serve."""

from __future__ import annotations

import argparse
import re

from terminal.web.settings import HOST, MODES, PUBLIC_URL


def port_arg(text: str) -> int:
    """--port: a whole number from 1 to 65535 (argparse turns the ValueError into a usage error, exit 2)."""
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {_quoted(text)}")
    return int(text)


def host_arg(text: str) -> str:
    if not re.fullmatch(HOST, text):
        raise argparse.ArgumentTypeError(f"must be a host name or an IP address, not {_quoted(text)}")
    return text


def public_url_arg(text: str) -> str:
    if not re.fullmatch(PUBLIC_URL, text):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// address, not {_quoted(text)}")
    return text


def _quoted(text: str) -> str:
    from terminal.domain.text import shown
    return shown(text)


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("web", parents=[common], help="serve the kiosk or the cashier app to a browser",
                       description="Serve the app to a browser. Each tab runs its own app; one tab at a "
                                   "time holds the reader. Defaults come from config.toml [web].")
    p.add_argument("--host", type=host_arg, help="address to listen on (default [web].host, 127.0.0.1)")
    p.add_argument("--port", type=port_arg, help="port, 1 to 65535 (default [web].port, 8000)")
    p.add_argument("--mode", choices=MODES, help="kiosk: patient self-service (default); cashier: the full app")
    p.add_argument("--reader", help="reader spec: emulator[:PROFILE], pcsc, pcsc:NAME, serial:URL")
    p.add_argument("--public-url", type=public_url_arg,
                   help="the address browsers use (a LAN address or a proxy's), http:// or https://")
    p.set_defaults(handler=run_web)


def run_web(args: argparse.Namespace) -> int:
    from terminal.cli.main import load_cfg
    from terminal.error_codes import E
    from terminal.web.settings import WebSettings
    cfg = load_cfg(args)
    settings = WebSettings.from_config(cfg)
    spec = settings.reader_spec(cfg, args.reader)
    kind = spec.partition(":")[0]
    if kind not in ("emulator", "pcsc", "serial"):
        raise E.BAD_READER.error(f"unknown reader spec {_quoted(spec)}: use emulator[:PROFILE], pcsc[:NAME] "
                                       "or serial:URL", f"无法识别的读卡器 {_quoted(spec)}")
    if kind == "emulator":  # the emulator's people in the database, once, before any tab starts
        from terminal.services.demo_db import ensure_demo_db
        ensure_demo_db(cfg)
    from terminal.web.server import AppCommand, serve
    command = AppCommand(mode=args.mode or settings.mode, reader=spec,
                         config=str(cfg.path.resolve()) if cfg.path else None,
                         db=str(cfg.db_path) if args.db else None, lang=args.lang)
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    _check_free(host, port)
    serve(command, host, port, args.public_url or settings.public_url or None, max_sessions=settings.max_sessions)
    return 0


def _check_free(host: str, port: int) -> None:
    """A clear message instead of aiohttp's traceback when the address is taken."""
    import socket

    from terminal.domain.text import printable
    from terminal.error_codes import E
    where = f"{printable(host)}:{port}"
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except (OSError, OverflowError, UnicodeError) as exc:  # taken, no such address, a name IDNA cannot encode
        why = getattr(exc, "strerror", None) or exc
        raise E.ADDRESS_IN_USE.error(f"cannot listen on {where}: {why} "
                           "(another `cashier web`? use --port)", f"无法在 {where} 上监听:{why}") from None

