"""Where a centre command's database is: `--db` (a SQLite file), `--dsn` or `[centre] dsn` (PostgreSQL), else
`[centre] db`, relative to the config's folder. Shared by `cashier centre import|serve|check`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


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
