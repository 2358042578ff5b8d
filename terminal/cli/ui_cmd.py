"""`cashier demo` (in-process emulator with a card tray, demo database created if missing) and
`cashier ui` (the configured reader: [reader].spec or --reader)."""

from __future__ import annotations

import argparse


def register(sub, common: argparse.ArgumentParser) -> None:
    demo = sub.add_parser("demo", help="the cashier UI on the in-process emulator with a card tray and the demo database")
    demo.add_argument("--profile", help="the card selected in the tray at start (default [emulator].default_profile)")
    _lang_option(demo)
    demo.set_defaults(handler=run_demo)
    ui = sub.add_parser("ui", help="the cashier UI on the configured reader ([reader].spec, or --reader)")
    ui.add_argument("--reader", help="emulator:PROFILE, pcsc, pcsc:NAME or serial:URL")
    _lang_option(ui)
    ui.set_defaults(handler=run_ui)


def _lang_option(parser: argparse.ArgumentParser) -> None:
    """`cashier demo --lang en` as well as `cashier --lang en demo` (unset here keeps the global one)."""
    parser.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS,
                        help="language of the UI (default [terminal].lang, zh)")


def run_demo(args: argparse.Namespace) -> int:
    from terminal.cli.main import load_cfg
    from terminal.services.demo_db import ensure_demo_db
    from terminal.ui.app import build_app
    cfg = load_cfg(args)
    ensure_demo_db(cfg)
    spec = f"emulator:{args.profile}" if args.profile else None
    build_app(cfg, reader_spec=spec, demo=True, lang=getattr(args, "lang", None)).run()
    return 0


def run_ui(args: argparse.Namespace) -> int:
    from terminal.cli.main import load_cfg
    from terminal.ui.app import build_app
    cfg = load_cfg(args)
    build_app(cfg, reader_spec=args.reader, lang=getattr(args, "lang", None)).run()
    return 0
