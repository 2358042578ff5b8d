"""Bring the centre's schema up to date: the steps of `schema.STEPS`, each once, each in one transaction.

The applied steps are rows of `centre_migrations`. A database that has a step this code does not know was
written by a newer version: it is refused before anything is read or written. On PostgreSQL several centre
processes may start at once: each step is applied under a transaction-level advisory lock, by whichever
process gets there first (the others find it applied).
"""

from __future__ import annotations

import datetime as dt

from centre.errors import Refused
from centre.store.engine import Database
from centre.store.schema import STEPS

_TABLE = "CREATE TABLE IF NOT EXISTS centre_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
_PG_LOCK = "SELECT pg_advisory_xact_lock(7346110245)"     # any fixed number: the centre's migrations


def applied(db: Database) -> list[str]:
    if db.dialect == "postgres":    # two processes creating the table at once would collide
        with db.write():
            db.execute(_PG_LOCK)
            db.execute(_TABLE)
    else:
        db.execute(_TABLE)
    return [r[0] for r in db.all("SELECT name FROM centre_migrations ORDER BY name")]


def migrate(db: Database) -> list[str]:
    """Apply the pending steps; returns their names. Refuses a database from a newer version."""
    known = [name for name, _ in STEPS]
    done = applied(db)
    newer = sorted(set(done) - set(known))
    if newer:
        raise Refused("centre_db_newer",
                      f"the centre's database was written by a newer version (steps {', '.join(newer)} are unknown "
                      f"here): use that version, or a copy of the database made before it",
                      f"医保中心数据库由更新的版本写入(未知的迁移步骤 {', '.join(newer)}),请使用该版本")
    pending = []
    for name, build in STEPS:
        if name in done:
            continue
        with db.write():
            if db.dialect == "postgres":
                db.execute(_PG_LOCK)
                if db.one("SELECT 1 FROM centre_migrations WHERE name = ?", [name]) is not None:
                    continue            # another process applied it while this one waited
            for statement in build(db.dialect):
                db.execute(statement)
            db.execute("INSERT INTO centre_migrations (name, applied_at) VALUES (?, ?)",
                       [name, dt.datetime.now().isoformat(timespec="seconds")])
        pending.append(name)
    return pending
