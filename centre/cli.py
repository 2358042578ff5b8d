"""`cashier centre import|serve|check`: the centre's own commands, attached to the `cashier` command line.

The centre never imports the window: the command line hands it the parsed config through
`args.centre_config()` -> (the config as a dict, the folder relative paths start from).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from centre.faults import Faults


def register_cli(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `centre import`, `centre serve` and `centre check` to `sub` (the `centre` group)."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--db", help="the centre's SQLite file (default [centre] db)")
    where.add_argument("--dsn", help="the centre's PostgreSQL database instead of --db, as a connection string "
                                     "(postgresql://user@host/dbname, or host=... dbname=...; default [centre] dsn)")

    imp = sub.add_parser("import", parents=[common, where], help="load a centre export and catalogue (JSON Lines)",
                         description="Load a centre export: region, person, account, binding lines, and the "
                                     "catalogue (医保目录) as kind=catalogue lines. Every line is checked; a file with "
                                     "bad lines imports nothing unless --skip-bad. The same file twice changes nothing.")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--skip-bad", action="store_true", help="import the good lines, report the bad ones")
    imp.set_defaults(handler=_import)

    serve = sub.add_parser(
        "serve", parents=[common, where], help="serve the centre over HTTP",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve POST /fsi/api/rsfComIfsService/callService (the OpenAPI page is at /docs). "
                    "The policy comes from the config given with the global --config.\n\n"
                    "faults (--fault, repeatable):\n"
                    "  lost-answer:INFNO  the next INFNO commits, then its answer is lost (connection closed)\n"
                    "  error:INFNO        the next INFNO is refused with a realistic err_msg\n"
                    "  delay-ms:N         every answer waits N ms\n"
                    "  down               every call is refused (HTTP 503)\n"
                    "  expire-sign        every sign-in expires now\n"
                    "With --workers N, each worker process keeps its own fault counters: lost-answer:2207 then\n"
                    "loses the next 2207 of each worker (up to N answers).")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_port, default=8097, help="port (default 8097)")
    serve.add_argument("--workers", type=_workers, default=1,
                       help="worker processes sharing the port and the database (default 1; with --dsn, "
                            "as many as the machine has cores)")
    serve.add_argument("--fault", action="append", default=[], metavar="FAULT", help="see 'faults' above")
    serve.set_defaults(handler=_serve)

    check = sub.add_parser("check", parents=[common, where],
                           help="check every balance, quota and accumulator against the ledger")
    check.set_defaults(handler=_check)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {value}")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--workers is a number from 1 to 64, not {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"--workers is a number from 1 to 64, not {value}")
    return value


def config_of(args: argparse.Namespace) -> tuple[dict[str, Any], Path]:
    return args.centre_config()


def db_path(args: argparse.Namespace) -> Path:
    """--db, else [centre] db (relative to the config's folder)."""
    raw, base = config_of(args)
    value = args.db or (raw.get("centre") or {}).get("db") or "var/centre.db"
    path = Path(value)
    return path if path.is_absolute() else base / path


def store_where(args: argparse.Namespace) -> str | Path:
    """The centre's database: --db (a SQLite file), else --dsn, else [centre] dsn (PostgreSQL) when it is set,
    else [centre] db. A PostgreSQL connection string comes back as a `str`, a SQLite file as a `Path`."""
    from centre.errors import ConfigProblem
    if args.db and args.dsn:
        raise ConfigProblem("give --db (a SQLite file) or --dsn (a PostgreSQL database), not both")
    if args.db:
        return db_path(args)
    raw, _base = config_of(args)
    dsn = args.dsn if args.dsn is not None else ((raw.get("centre") or {}).get("dsn") or "")
    if not dsn:
        if args.dsn is not None:
            raise ConfigProblem("--dsn is empty: give a PostgreSQL connection string (postgresql://user@host/dbname)")
        return db_path(args)
    from centre.store.engine import is_dsn
    from centre.store.postgres import check_dsn
    check_dsn(dsn)
    if not is_dsn(dsn):
        raise ConfigProblem("--dsn must be a postgresql:// URI or key=value words (host=... dbname=...)")
    return dsn


def _import(args: argparse.Namespace) -> int:
    from centre.importer import run_cli
    return run_cli(args)


def _serve(args: argparse.Namespace) -> int:
    Faults.parse(args.fault)   # a wrong --fault is a usage error before anything starts
    from centre.serve import run_cli
    return run_cli(args)


def _check(args: argparse.Namespace) -> int:
    from centre.importer import check_cli
    return check_cli(args)
