"""Queries on persons, accounts, bindings, regions and the audit trail (the tables docs/data-and-rules.md describes).

API (all take a sqlite_utils.Database opened on this thread):
  write_transaction(db)                      BEGIN IMMEDIATE ... COMMIT (a savepoint when nested)
  find_person(db, card_no=|certno=|psn_no=)  -> Person | None
  account_of(db, psn_no)                     -> Account | None
  bindings_of_user(db, psn_no, active_only)  -> [Binding]   (oldest first)
  bindings_of_owner(db, psn_no, active_only) -> [Binding]
  region(db, admdvs)                         -> Region | None
  pooling_area(db, admdvs)                   -> Region | None  (the area, else its city)
  add_audit(db, operator, window, action, subject, detail, at=None)   at: the act's stamp (terminal.clock)
  has_persons(db)                            -> bool
  counts(db)                                 -> {table: rows}
The window's cache: filled by `cashier db import` from what the centre holds (terminal/store/importer.py) and by
the centre's answers;
writes go through terminal.store.write_lock.write_tx (the lock queue in front of write_transaction).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
from dataclasses import dataclass, fields
from typing import Any, Iterator

import sqlite_utils

from terminal import clock
from terminal.error_codes import E


@dataclass(frozen=True)
class Person:
    psn_no: str
    certno: str
    psn_name: str
    gend: str | None
    naty: str | None
    brdy: str | None
    card_no: str | None
    card_sn: str | None
    insuplc_admdvs: str
    insutype: str
    psn_insu_stas: str


@dataclass(frozen=True)
class Region:
    """A pooling area (统筹区) and whether cross-province mutual aid is open there, as the centre last said."""

    admdvs: str
    name: str
    province: str
    cross_province: bool


@dataclass(frozen=True)
class Account:
    psn_no: str
    balc: int
    year: int | None
    version: int


@dataclass(frozen=True)
class Binding:
    id: int
    owner_psn_no: str
    user_psn_no: str
    relation: str
    scope: str
    quota: int
    begin_date: str
    end_date: str | None
    status: str
    created_by: str | None
    created_at: str | None
    created_window: str | None
    ended_by: str | None
    ended_at: str | None
    ended_window: str | None
    end_reason: str | None


def _columns(cls) -> str:
    return ", ".join(f.name for f in fields(cls))


PERSON_COLS = _columns(Person)
BINDING_COLS = _columns(Binding)


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction taking the write lock up front (BEGIN IMMEDIATE), so a read-then-write
    never fails half-way when another window writes; nested use becomes a savepoint."""
    conn = db.conn
    if conn.in_transaction:
        name = f"sp_{secrets.token_hex(6)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:  # another window kept the write lock past busy_timeout
        raise E.DB_BUSY.error(f"the database is busy (another window is writing): {exc}",
                         "数据库忙(其他窗口正在写入),请稍后重试") from None
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def now_iso() -> str:
    """The stamp of this instant (terminal.clock: local time with its offset)."""
    return clock.stamp()


def find_person(db: sqlite_utils.Database, *, card_no: str | None = None, certno: str | None = None,
                psn_no: str | None = None) -> Person | None:
    """By exactly one of card number, ID number (upper-cased X) or psn_no."""
    if psn_no is not None:
        where, value = "psn_no = ?", psn_no
    elif card_no is not None:
        where, value = "card_no = ?", card_no.strip().upper()
    elif certno is not None:
        where, value = "certno = ?", certno.strip().upper()
    else:
        raise ValueError("find_person needs card_no, certno or psn_no")
    row = db.execute(f"SELECT {PERSON_COLS} FROM persons WHERE {where}", [value]).fetchone()
    return Person(*row) if row else None


def person_names(db: sqlite_utils.Database, psn_nos: list[str]) -> dict[str, str]:
    if not psn_nos:
        return {}
    marks = ",".join("?" * len(psn_nos))
    return dict(db.execute(f"SELECT psn_no, psn_name FROM persons WHERE psn_no IN ({marks})", psn_nos).fetchall())


def has_persons(db: sqlite_utils.Database) -> bool:
    return db.conn.execute("SELECT EXISTS (SELECT 1 FROM persons)").fetchone()[0] == 1


def account_of(db: sqlite_utils.Database, psn_no: str) -> Account | None:
    row = db.execute("SELECT psn_no, balc, year, version FROM accounts WHERE psn_no = ?", [psn_no]).fetchone()
    return Account(*row) if row else None


def bindings_of_user(db: sqlite_utils.Database, psn_no: str, active_only: bool = True) -> list[Binding]:
    sql = f"SELECT {BINDING_COLS} FROM bindings WHERE user_psn_no = ?"
    if active_only:
        sql += " AND status = 'active'"
    return [Binding(*r) for r in db.execute(sql + " ORDER BY id", [psn_no]).fetchall()]


def bindings_of_owner(db: sqlite_utils.Database, psn_no: str, active_only: bool = True) -> list[Binding]:
    sql = f"SELECT {BINDING_COLS} FROM bindings WHERE owner_psn_no = ?"
    if active_only:
        sql += " AND status = 'active'"
    return [Binding(*r) for r in db.execute(sql + " ORDER BY id", [psn_no]).fetchall()]


def region(db: sqlite_utils.Database, admdvs: str) -> Region | None:
    row = db.execute("SELECT admdvs, name, province, cross_province FROM regions WHERE admdvs = ?",
                     [admdvs]).fetchone()
    return Region(row[0], row[1], row[2] or "", bool(row[3])) if row else None


def pooling_area(db: sqlite_utils.Database, admdvs: str) -> Region | None:
    """The pooling area of an insured-area code: the area itself, else its city (a district's 410102 -> 410100)."""
    found = region(db, admdvs)
    if found is None and len(admdvs) == 6 and not admdvs.endswith("00"):
        found = region(db, admdvs[:4] + "00")
    return found


def add_audit(db: sqlite_utils.Database, *, operator: str | None, window: str | None, action: str,
              subject: str | None, detail: dict[str, Any] | None = None, at: str | None = None) -> int:
    """Append one audit row (never certno or PIN in detail: psn_no identifies people); `at`: the stamp of
    the act it records (default: now), so a settlement and its audit row carry the same instant."""
    cur = db.conn.execute('INSERT INTO audit (at, operator, "window", action, subject, detail) '
                          'VALUES (?, ?, ?, ?, ?, ?)',
                     [at or now_iso(), operator, window, action, subject,
                      json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail is not None else None])
    return cur.lastrowid or 0


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Rows per table (bindings split active/ended)."""
    out = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
           for t in ("persons", "accounts", "regions", "audit")}
    for status, n in db.execute("SELECT status, count(*) FROM bindings GROUP BY status").fetchall():
        out[f"bindings_{status}"] = n
    out.setdefault("bindings_active", 0)
    out.setdefault("bindings_ended", 0)
    out["balc_total"] = db.execute("SELECT coalesce(sum(balc), 0) FROM accounts").fetchone()[0]
    out["quota_total"] = db.execute(
        "SELECT coalesce(sum(quota), 0) FROM bindings WHERE status = 'active'").fetchone()[0]
    return out
