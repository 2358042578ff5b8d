"""`cashier centre import|serve|check`: the centre's own commands, attached to the `cashier` command line.

The centre never imports the window: the command line hands it the parsed config through
`args.centre_config()` -> (the config as a dict, the folder relative paths start from).
"""

from __future__ import annotations

import argparse

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
    serve.add_argument("--request-timeout", type=_seconds, default=30.0, metavar="S",
                       help="a request must arrive whole within S seconds of its first byte, or its connection is "
                            "closed (default 30; the centre's own time answering it does not count)")
    serve.set_defaults(handler=_serve)

    check = sub.add_parser("check", parents=[common, where],
                           help="check every balance, quota and accumulator against the ledger")
    check.set_defaults(handler=_check)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds, not {text!r}") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"from 0.1 to 3600 seconds, not {text}")
    return value


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


def _import(args: argparse.Namespace) -> int:
    from centre.import_cmd import run_cli
    return run_cli(args)


def _serve(args: argparse.Namespace) -> int:
    Faults.parse(args.fault)   # a wrong --fault is a usage error before anything starts
    from centre.serve import run_cli
    return run_cli(args)


def _check(args: argparse.Namespace) -> int:
    from centre.import_cmd import check_cli
    return check_cli(args)
