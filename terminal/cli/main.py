"""`cashier` entry point: global options, then each command group registers itself."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from terminal.cli.output import run_guarded

# Each module has register(subparsers, common) and sets args.handler on its parsers.
COMMAND_MODULES = (
    "terminal.cli.card_cmd",       # card read
    "terminal.cli.emulator_cmd",   # emulator profiles | vpcd | serial
    "terminal.cli.db_cmd",         # db init | import | stats
    "terminal.cli.family_cmd",     # family, bind, unbind
    "terminal.cli.settle_cmd",     # settle, reverse, reconcile
    "terminal.cli.ui_cmd",         # demo, ui
    "terminal.cli.web_cmd",        # web
    "terminal.cli.centre_cmd",     # centre import, serve, check
    "terminal.cli.wallet_cmd",     # wallet transfer | accept | show
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors exit 2, JSON-shaped under --json
        if "--json" in sys.argv:
            import json
            print(json.dumps({"error": {"code": "usage", "message": message}}, ensure_ascii=False))
            raise SystemExit(2)
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object")
    parser = _Parser(prog="cashier", description="Hospital cashier-window card-terminal simulator.")
    parser.add_argument("--config", help="config file (default ./config.toml, env CASHIER_CONFIG)")
    parser.add_argument("--db", help="database file (overrides config, env CASHIER_DB)")
    parser.add_argument("--lang", choices=("zh", "en"), help="language of messages and the UI")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return run_guarded(args, handler)


def load_cfg(args: argparse.Namespace):
    """The config for a command, honouring --config, --db and --lang."""
    from terminal.config import load_config
    return load_config(args.config, args.db, getattr(args, "lang", None))


def open_db(args: argparse.Namespace, create: bool = False):
    """(config, database) for a command that works on the local database."""
    from terminal.store.db import open_from_config
    cfg = load_cfg(args)
    return cfg, open_from_config(cfg, create=create)


if __name__ == "__main__":
    sys.exit(main())
