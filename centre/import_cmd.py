"""`cashier centre import` and `cashier centre check`: the command-line side of the importer and of the
books' check (`centre.importer` does the work; `centre.api.import_export` opens the store)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from centre.errors import Refused
from centre.importer import refusal, terminal_progress
from centre.interface.text import printable
from centre.store import money
from centre.store.engine import Database
from centre.where import config_of, store_where


def run_cli(args: argparse.Namespace) -> int:
    """`cashier centre import FILE (--db PATH | --dsn DSN) [--skip-bad] [--json]`: exit 0 imported, 1 refused."""
    from centre.api import import_export
    raw, _base = config_of(args)
    report = import_export(raw, store_where(args), args.file, skip_bad=args.skip_bad, progress=terminal_progress())
    if not report.imported:
        raise refusal(report)
    _emit(args, report.summary(), report.text())
    return 0


def check_cli(args: argparse.Namespace) -> int:
    """`cashier centre check (--db PATH | --dsn DSN) [--json]`: exit 0 when every figure agrees with its history,
    else 1 with every drift named."""
    where = store_where(args)
    drifts = check_database(where)
    path = where if isinstance(where, Path) else _shown_dsn(where)
    if not drifts:
        _emit(args, {"db": str(path), "ok": True, "drifts": []}, f"ok: every balance, quota, accumulator and "
              f"settlement of {printable(path)} agrees with its history")
        return 0
    texts = [d.text() for d in drifts]
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": "centre_drift", "message": "\n".join(texts), "drifts": [
            {"what": d.what, "key": d.key, "field": d.field, "stored": d.stored, "expected": d.expected}
            for d in drifts]}}, ensure_ascii=False))
    else:
        print("\n".join(texts))
        print(f"{len(drifts)} figure(s) of {printable(path)} disagree with their history")
    return 1


def _shown_dsn(dsn: str) -> str:
    from centre.store.postgres import describe
    return describe(dsn)


def check_database(path: str | Path) -> list[money.Drift]:
    """Every drift of an existing centre database (Refused when there is none at that path); a PostgreSQL
    connection string names a database instead of a file."""
    from centre.store.engine import is_dsn
    if is_dsn(path):
        return _check_postgres(str(path))
    path = Path(path)
    if not path.is_file():
        raise Refused("centre_db_missing", f"no centre database at {printable(path)} (load one with `cashier centre "
                      "import FILE --db PATH`)", f"医保中心数据库不存在: {printable(path)}")
    db = Database(path)
    try:
        if db.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'accounts'") is None:
            raise Refused("centre_db_empty", f"{printable(path)} is not a centre database (no accounts table)",
                          f"{printable(path)} 不是医保中心数据库")
        return money.drifts(db)
    finally:
        db.close()


def _check_postgres(dsn: str) -> list[money.Drift]:
    from centre.store.postgres import PgStore
    store = PgStore(dsn, min_size=1, max_size=1)
    try:
        db: Any = store.db()
        if db.one("SELECT to_regclass('accounts')")[0] is None:
            raise Refused("centre_db_empty", f"{store.where} is not a centre database (no accounts table)",
                          f"{store.where} 不是医保中心数据库")
        return money.drifts(db)
    finally:
        store.close()


def _emit(args: argparse.Namespace, obj: dict[str, Any], text: str) -> None:
    print(json.dumps(obj, ensure_ascii=False) if getattr(args, "json", False) else text)
