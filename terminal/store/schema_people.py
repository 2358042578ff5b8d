"""The local cache of the centre's people (docs/data-and-rules.md): persons, accounts, bindings, regions, audit.

Money is INTEGER fen with CHECKs, so an overdraft is impossible even for a buggy caller.
Column names are a contract: the settlement schema and services read them as they are here.
Never edit an applied step; add a new one below.
"""

from __future__ import annotations

import sqlite_utils

from terminal.store.migrations import MIGRATIONS

# Executed one by one: executescript() would COMMIT the migration's transaction.
_PEOPLE_SQL: tuple[str, ...] = (
    """CREATE TABLE persons (
        psn_no TEXT PRIMARY KEY,
        certno TEXT NOT NULL UNIQUE,
        psn_name TEXT NOT NULL,
        gend TEXT,
        naty TEXT,
        brdy TEXT,
        card_no TEXT UNIQUE,
        card_sn TEXT,
        insuplc_admdvs TEXT NOT NULL,
        insutype TEXT NOT NULL,
        psn_insu_stas TEXT NOT NULL
    )""",
    """CREATE TABLE accounts (
        psn_no TEXT PRIMARY KEY REFERENCES persons(psn_no),
        balc INTEGER NOT NULL DEFAULT 0 CHECK (typeof(balc) = 'integer' AND balc >= 0),
        year INTEGER,
        version INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE bindings (
        id INTEGER PRIMARY KEY,
        owner_psn_no TEXT NOT NULL REFERENCES persons(psn_no),
        user_psn_no TEXT NOT NULL REFERENCES persons(psn_no),
        relation TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT 'local' CHECK (scope IN ('local', 'cross_province')),
        quota INTEGER NOT NULL DEFAULT 0 CHECK (typeof(quota) = 'integer' AND quota >= 0),
        begin_date TEXT NOT NULL,
        end_date TEXT,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
        created_by TEXT,
        created_at TEXT,
        created_window TEXT,
        ended_by TEXT,
        ended_at TEXT,
        ended_window TEXT,
        end_reason TEXT,
        CHECK (owner_psn_no <> user_psn_no)
    )""",
    # at most one active binding per (owner, user); ended ones stay as history
    """CREATE UNIQUE INDEX bindings_active_pair ON bindings(owner_psn_no, user_psn_no) WHERE status = 'active'""",
    # family lookup: "who may pay for this user"
    """CREATE INDEX bindings_user ON bindings(user_psn_no)""",
    # unbinding at the window; ending an owner's bindings when their insurance ends
    """CREATE INDEX bindings_owner ON bindings(owner_psn_no, status)""",
    """CREATE TABLE regions (
        admdvs TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        province TEXT,
        cross_province INTEGER NOT NULL DEFAULT 0 CHECK (cross_province IN (0, 1))
    )""",
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        operator TEXT,
        "window" TEXT,
        action TEXT NOT NULL,
        subject TEXT,
        detail TEXT CHECK (detail IS NULL OR json_valid(detail))
    )""",
    """CREATE INDEX audit_subject ON audit(subject)""",
    # the audit trail is append-only
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END""",
)


@MIGRATIONS(name="people_0001_tables")
def people_0001_tables(db: sqlite_utils.Database) -> None:
    """persons, accounts, bindings (+ active-pair, user and owner indexes), regions, audit (append-only)."""
    for statement in _PEOPLE_SQL:
        db.execute(statement)



@MIGRATIONS(name="people_0002_imports")
def people_0002_imports(db: sqlite_utils.Database) -> None:
    """imports: every centre export committed (sha256, lines, time, counts), so the same file twice changes
    nothing, and the ledger/audit high-water marks at that moment, so a newer export can tell which accounts
    had window activity since (their local balance is kept)."""
    db.execute("""CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL,
        file TEXT NOT NULL,
        lines INTEGER NOT NULL,
        at TEXT NOT NULL,
        changes INTEGER NOT NULL,
        kept INTEGER NOT NULL DEFAULT 0,
        ledger_mark INTEGER NOT NULL DEFAULT 0,
        audit_mark INTEGER NOT NULL DEFAULT 0,
        summary TEXT CHECK (summary IS NULL OR json_valid(summary))
    )""")
    db.execute("CREATE INDEX imports_sha256 ON imports(sha256)")
