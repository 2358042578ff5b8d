"""`cashier db init | import FILE [--skip-bad] | stats` (docs/interfaces.md): the window's local cache.

`db import` of a file already imported says so and changes nothing (exit 0); a newer export keeps the
local balance of accounts the window used since the last import, and says how many (see
terminal.store.importer)."""

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
        regions = None
        if args.regions:
            from terminal.services.demo_db import DATA
            from terminal.store.importer import import_file, refusal
            report = import_file(db, DATA / "regions.jsonl", operator=cfg.terminal.operator,
                                 window=cfg.terminal.window)
            if not report.imported:
                raise refusal(report)
            regions = report.changes
    finally:
        db.close()
    obj = {"db": str(cfg.db_path), "migrations": applied, "regions_loaded": regions}
    return emit(args, obj, f"database ready: {cfg.db_path} ({len(applied)} migrations applied)")


def cmd_import(args: argparse.Namespace) -> int:
    from terminal.services.configured import mutual_aid_of
    from terminal.store.importer import import_file, refusal, terminal_progress
    cfg, db = open_db(args, create=True)
    try:
        report = import_file(db, args.file, skip_bad=args.skip_bad, progress=terminal_progress(),
                             policy=mutual_aid_of(cfg), operator=cfg.terminal.operator, window=cfg.terminal.window)
    finally:
        db.close()
    if not report.imported:
        raise refusal(report)
    summary = report.summary()
    centre_note = _centre_import(args, cfg, summary)
    if report.already:
        return emit(args, summary, f"{args.file} was already imported (sha256 {report.sha256[:16]}...): "
                                   "nothing changed" + centre_note)
    lines = [f"imported {args.file}: {report.lines} lines, {report.changes} rows changed, "
             f"{report.seconds:.2f} s"]
    for kind, c in summary["kinds"].items():
        if c["lines"]:
            lines.append(f"  {kind:8} {c['lines']:>9} lines  {c['inserted']:>9} new  {c['updated']:>9} updated  "
                         f"{c['unchanged']:>9} unchanged" + (f"  {c['kept']:>9} kept" if c["kept"] else ""))
    if report.kept_accounts:
        lines.append(f"local balance kept for {len(report.kept_accounts)} accounts with window activity "
                     f"since the last import: {', '.join(report.kept_accounts[:20])}")
    if report.bad:
        lines.append(f"skipped {report.bad} bad line(s):")
        lines += [f"  {e}" for e in report.errors[:20]]
    return emit(args, summary, "\n".join(lines) + centre_note)


def _centre_import(args: argparse.Namespace, cfg, summary: dict) -> str:
    """The window is the centre's client: the export goes into the embedded centre too (the money is there);
    a remote centre imports on its own machine. Returns the line to print; `summary["centre"]` says the same."""
    from terminal.error_codes import E
    if cfg.centre.url:
        summary["centre"] = {"imported": False, "url": cfg.centre.url}
        return (f"\nnote: this window's centre is at {cfg.centre.url}: only the window's cache was loaded; import the "
                f"export on the centre's machine (`cashier centre import FILE`) 医保中心在远端,请在中心所在机器上执行 "
                f"cashier centre import")
    from centre.api import import_export
    where = cfg.resolve(cfg.centre.db)
    report = import_export(cfg.raw, where, args.file, skip_bad=args.skip_bad)
    if not report.imported:
        raise E.CENTRE_IMPORT_REFUSED.error(f"the embedded centre ({where}) refused {args.file}: "
                           + "; ".join(str(e) for e in report.errors[:5]), "嵌入式医保中心拒绝导入该文件")
    summary["centre"] = {"imported": True, "db": str(where), "already_imported": report.already}
    if report.already:
        return f"\nembedded centre {where}: already imported, nothing changed"
    return f"\nembedded centre {where}: imported ({report.lines} lines)"


def cmd_stats(args: argparse.Namespace) -> int:
    from terminal.store.people import counts
    cfg, db = open_db(args)
    try:
        obj = {"db": str(cfg.db_path), **counts(db)}
    finally:
        db.close()
    return emit(args, obj, "\n".join(f"{k:16} {v}" for k, v in obj.items()))
