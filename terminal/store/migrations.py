"""Versioned schema migrations (sqlite-utils `Migrations`).

Each schema module registers its steps on MIGRATIONS; they apply in the order
the modules are imported below, each in its own transaction. Never edit an
applied step: add a new one.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

MIGRATIONS = Migrations("cashier")

# Registration order is application order.
from terminal.store import schema_people  # noqa: E402,F401  persons, accounts, bindings, regions, audit
from terminal.store import schema_settlement  # noqa: E402,F401  settlements, ledger, year accumulators


def known_steps() -> list[str]:
    """The names of every step this version knows, in application order."""
    return [m.name for m in MIGRATIONS._migrations]


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply pending steps; returns their names."""
    pending = [m.name for m in MIGRATIONS.pending(db)]
    if pending:
        MIGRATIONS.apply(db)
    return pending
