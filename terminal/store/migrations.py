"""Versioned schema migrations (sqlite-utils `Migrations`).

Each schema module registers its steps on MIGRATIONS; they apply in the order of
SCHEMA_MODULES (each module's steps in the order it registers them), each in its
own transaction. Never edit an applied step: add a new one.
"""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from typing import Iterator

import sqlite_utils
from sqlite_utils import Migrations

# Application order. A schema module imports this one, so the order the modules happen to be imported in
# (a service may import schema_settlement first) must not decide the order the steps are applied in.
SCHEMA_MODULES = ("terminal.store.schema_people", "terminal.store.schema_settlement", "terminal.store.schema_books",
                  "terminal.store.schema_window")


class _Steps(Migrations):
    """Migrations applied in SCHEMA_MODULES order, whichever module registered first."""

    def steps(self) -> list[Migrations._Migration]:
        return sorted(self._migrations, key=lambda m: SCHEMA_MODULES.index(m.fn.__module__))  # stable

    def pending(self, db: sqlite_utils.Database) -> list[Migrations._Migration]:
        applied = {m.name for m in self.applied(db)}
        return [m for m in self.steps() if m.name not in applied]


MIGRATIONS = _Steps("cashier")

# Every schema module, so that every step is registered (SCHEMA_MODULES orders them).
from terminal.store import (  # noqa: E402  after MIGRATIONS, which each schema module registers into
    schema_books,  # noqa: F401  openings, binding_moves: every balance explained
    schema_people,  # noqa: F401  persons, accounts, bindings, regions, audit
    schema_settlement,  # noqa: F401  settlements, ledger, year accumulators
    schema_window,  # noqa: F401  the centre client: log, settlements as answered
)


def known_steps() -> list[str]:
    """The names of every step this version knows, in application order."""
    return [m.name for m in MIGRATIONS.steps()]


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply pending steps; returns their names (those this process applied).

    Windows started together on a database made by an older version would each find the same steps
    pending and apply them twice (the second "duplicate column"); so they take turns on `<db>.lock`
    (the writers' queue) and look again once it is theirs."""
    if not MIGRATIONS.pending(db):
        return []
    with _exclusive(db):
        pending = [m.name for m in MIGRATIONS.pending(db)]
        if pending:
            MIGRATIONS.apply(db)
    return pending


@contextmanager
def _exclusive(db: sqlite_utils.Database) -> Iterator[None]:
    """flock() on `<db>.lock` for as long as the steps run (nothing for a database in memory)."""
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    if not path:
        yield
        return
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)       # released when the file closes
        yield
