"""Bring the centre's schema up to date: the steps of `schema.STEPS`, each once, each in one transaction.

The applied steps are rows of `centre_migrations`. A database that has a step this code does not know was
written by a newer version: it is refused before anything is read or written.
"""

from __future__ import annotations

import datetime as dt

from centre.errors import Refused
from centre.store.engine import Database
from centre.store.schema import STEPS

_TABLE = "CREATE TABLE IF NOT EXISTS centre_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"


def applied(db: Database) -> list[str]:
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
            for statement in build(db.dialect):
                db.execute(statement)
            db.execute("INSERT INTO centre_migrations (name, applied_at) VALUES (?, ?)",
                       [name, dt.datetime.now().isoformat(timespec="seconds")])
        pending.append(name)
    return pending
