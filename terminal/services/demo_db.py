"""The demo database: the bundled pooling areas and the cast of the emulator's card profiles.

API: ensure_demo_db(cfg) -> Path   creates cfg.db_path when missing and loads regions.jsonl, then
demo_export.jsonl, when it holds no person; a loaded file is only opened (and migrated), so a demo keeps
its history. With the embedded centre (`[centre] enabled`, `url` empty) its database (`[centre] db`) gets the
demo data too (areas, their rules, the catalogue, the cast): the demo needs no server. A file the centre has
imported before is not imported again (the centre keeps each file's sha256), so its balances stay. The load is judged by the configured mutual-aid rules (as `cashier db import` is) and its
audit rows carry the configured operator and window.
"""

from __future__ import annotations

from pathlib import Path

from terminal.services.bindings import policy_of
from terminal.store.db import open_from_config
from terminal.store.importer import import_file, refusal
from terminal.store.people import has_persons

DATA = Path(__file__).resolve().parent.parent / "data"
DEMO_FILES = (DATA / "regions.jsonl", DATA / "demo_export.jsonl")
CENTRE_DATA = Path(__file__).resolve().parent.parent.parent / "centre" / "data"
CENTRE_DEMO_FILES = (DATA / "regions.jsonl", CENTRE_DATA / "region_rules.jsonl", CENTRE_DATA / "demo_catalogue.jsonl",
                     DATA / "demo_export.jsonl")


def ensure_demo_db(cfg) -> Path:
    path = Path(cfg.db_path)
    db = open_from_config(cfg, create=True)
    try:
        if not has_persons(db):  # new, or an earlier load failed
            for export in DEMO_FILES:
                report = import_file(db, export, policy=policy_of(cfg), operator=cfg.terminal.operator,
                                     window=cfg.terminal.window)
                if not report.imported:
                    raise refusal(report)
    finally:
        db.close()
    if cfg.centre.enabled and not cfg.centre.url:
        ensure_demo_centre(cfg)
    return path


def ensure_demo_centre(cfg) -> Path:
    """The embedded centre's database with the demo data (each file once)."""
    from centre.api import import_export
    from terminal.error_codes import E
    where = cfg.resolve(cfg.centre.db)
    for export in CENTRE_DEMO_FILES:
        report = import_export(cfg.raw, where, export)
        if not report.imported:
            raise E.DEMO_CENTRE.error(f"the demo data could not be loaded into the centre at {where}: "
                               f"{'; '.join(str(e) for e in report.errors[:3])}", "演示数据无法导入医保中心")
    return Path(where)
