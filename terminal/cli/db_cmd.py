"""`cashier db init | import FILE [--skip-bad] | stats` (docs/interfaces.md): the window's local cache.

`db import` goes through the one importer, the centre's (terminal.store.importer): with the embedded centre the
centre imports the file and the window's cache is filled from it; with a centre over HTTP only the cache is
filled, from the file read by the centre's own checks (the centre imports on its machine). A file the centre
already imported says so and changes nothing there (exit 0)."""

from __future__ import annotations

import argparse

from terminal.cli.main import open_db
from terminal.cli.output import emit


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    db = sub.add_parser("db", help="create, load and inspect the local database")
    cmds = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    init = cmds.add_parser("init", parents=[common], help="create the database or bring its schema up to date")
    init.add_argument("--regions", action="store_true", help="also load the bundled pooling areas")
    init.set_defaults(handler=cmd_init)
    imp = cmds.add_parser("import", parents=[common], help="import a centre export (JSON Lines; docs/interfaces.md)")
    imp.add_argument("file", help="the export file")
    imp.add_argument("--skip-bad", action="store_true", help="import the good lines even when some are bad")
    imp.set_defaults(handler=cmd_import)
    stats = cmds.add_parser("stats", parents=[common], help="row counts and money totals")
    stats.set_defaults(handler=cmd_stats)


def cmd_init(args: argparse.Namespace) -> int:
    from terminal.store.migrations import MIGRATIONS
    cfg, db = open_db(args, create=True)
    try:
        applied = [m.name for m in MIGRATIONS.applied(db)]
    finally:
        db.close()
    regions = None
    if args.regions:
        from terminal.services.demo_db import DATA
        from terminal.store.importer import load
        regions = load(cfg, DATA / "regions.jsonl").cache["region"]
    obj = {"db": str(cfg.db_path), "migrations": applied, "regions_loaded": regions}
    return emit(args, obj, f"database ready: {cfg.db_path} ({len(applied)} migrations applied)")


def cmd_import(args: argparse.Namespace) -> int:
    from centre.api import progress_bar
    from terminal.cli.main import load_cfg
    from terminal.store.importer import load
    cfg = load_cfg(args)
    loaded = load(cfg, args.file, skip_bad=args.skip_bad, progress=progress_bar())
    report = loaded.report
    summary = {**report.summary(), "centre": loaded.centre, "cache": loaded.cache}
    cache = ("window cache: already filled from this file, nothing changed" if report.already else
             "window cache filled: " + ", ".join(f"{n} {kind}s" for kind, n in loaded.cache.items()))
    if cfg.centre.url:
        text = (f"checked {args.file} with the centre's rules: {report.lines} lines"
                + (f", {report.bad} bad line(s) skipped" if report.bad else "")
                + f"\n{cache}"
                + f"\nnote: this window's centre is at {cfg.centre.url}: its money was not touched; import the "
                  f"export on the centre's machine (`cashier centre import FILE`) 医保中心在远端,请在中心所在机器上执行 "
                  f"cashier centre import")
        return emit(args, summary, text)
    where = loaded.centre["db"]
    head = f"embedded centre {where}: " + (report.text() if not report.already else
                                           f"{args.file} was already imported (sha256 {report.sha256[:16]}...): "
                                           "nothing changed")
    return emit(args, summary, f"{head}\n{cache}")


def cmd_stats(args: argparse.Namespace) -> int:
    from terminal.store.people import counts
    cfg, db = open_db(args)
    try:
        obj = {"db": str(cfg.db_path), **counts(db)}
    finally:
        db.close()
    return emit(args, obj, "\n".join(f"{k:16} {v}" for k, v in obj.items()))
