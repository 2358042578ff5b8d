"""The demo database: the bundled pooling areas and the cast of the emulator's card profiles.

API: ensure_demo_db(cfg) -> Path   creates cfg.db_path when missing and loads regions.jsonl, then
demo_export.jsonl, when it holds no person; a loaded file is only opened (and migrated), so a demo keeps
its history. The load is judged by the configured mutual-aid rules (as `cashier db import` is) and its
audit rows carry the configured operator and window.
"""

from __future__ import annotations

from pathlib import Path

from terminal.services.bindings import policy_of
from terminal.store.db import open_from_config
from terminal.store.importer import import_file, refusal

DATA = Path(__file__).resolve().parent.parent / "data"
DEMO_FILES = (DATA / "regions.jsonl", DATA / "demo_export.jsonl")


def ensure_demo_db(cfg) -> Path:
    path = Path(cfg.db_path)
    db = open_from_config(cfg, create=True)
    try:
        if db.execute("SELECT count(*) FROM persons").fetchone()[0] == 0:  # new, or an earlier load failed
            for export in DEMO_FILES:
                report = import_file(db, export, policy=policy_of(cfg), operator=cfg.terminal.operator,
                                     window=cfg.terminal.window)
                if not report.imported:
                    raise refusal(report)
    finally:
        db.close()
    return path
