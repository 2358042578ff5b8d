"""Queries on the money tables (settlements, ledger, accumulators) and the account debits and credits a
settlement or a reversal makes. The services decide; these read and write rows, inside the caller's
`write_tx` where they write.

API (all take a sqlite_utils.Database opened on this thread):
  patient_row(db, column, value)          -> (psn_no, psn_name, certno, insutype, psn_insu_stas, insuplc_admdvs) | None
  patient_rows(db, psn_nos)               -> {psn_no: that row}   one query
  standing(db, psn_no, year)              -> (balc | None, deductible_used | None, fund_paid | None)
  settlement_row(db, column, value)       -> {column: value} | None   (column: setl_id | request_id)
  settlement_rows_of_day(db, day, window) -> [{column: value}]  newest first, one query
  take_balc / take_quota                  -> the balance / quota left, None when it would overdraw
  credit_balc / credit_quota              -> the balance / quota after, None when the row is gone (or ended)
  insert_settlement, insert_ledger, add_to_accumulators, take_from_accumulators, mark_reversed
  ledger_entries(db, setl_id)             -> [(account, source, psn_no, binding_id, amount)]
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import sqlite_utils

from terminal.store.schema_settlement import SETTLEMENT_COLUMNS

_PATIENT_COLUMNS = "psn_no, psn_name, certno, insutype, psn_insu_stas, insuplc_admdvs"
_PATIENT_SQL = {column: f"SELECT {_PATIENT_COLUMNS} FROM persons WHERE {column} = ?"
                for column in ("psn_no", "card_no", "certno")}
_SETTLEMENT_SQL = {column: f"SELECT * FROM settlements WHERE {column} = ?" for column in ("setl_id", "request_id")}

_STANDING_SQL = ("SELECT (SELECT balc FROM accounts WHERE psn_no = ?1), "
                 "(SELECT deductible_used FROM accumulators WHERE psn_no = ?1 AND year = ?2), "
                 "(SELECT fund_paid FROM accumulators WHERE psn_no = ?1 AND year = ?2)")

SETTLEMENT_INSERT = (f"INSERT INTO settlements ({', '.join(chr(34) + c + chr(34) for c in SETTLEMENT_COLUMNS)}) "
                     f"VALUES ({', '.join('?' * len(SETTLEMENT_COLUMNS))})")
LEDGER_INSERT = ('INSERT INTO ledger (setl_id, account, source, psn_no, binding_id, amount, balc_after, at, "window", '
                 "setl_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
ACCUMULATE_SQL = ("INSERT INTO accumulators (psn_no, year, deductible_used, fund_paid) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT (psn_no, year) DO UPDATE SET deductible_used = deductible_used + "
                  "excluded.deductible_used, fund_paid = fund_paid + excluded.fund_paid")
TAKE_BALC_SQL = ("UPDATE accounts SET balc = balc - ?, version = version + 1 "
                 "WHERE psn_no = ? AND balc >= ? RETURNING balc")


def patient_row(db: sqlite_utils.Database, column: str, value: str) -> tuple[str, ...] | None:
    """The person's settlement fields by psn_no, card_no or certno."""
    return db.conn.execute(_PATIENT_SQL[column], [value]).fetchone()


def patient_rows(db: sqlite_utils.Database, psn_nos: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The settlement fields of several persons by psn_no, in one query: {psn_no: row}."""
    wanted = sorted(set(psn_nos))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    found = db.conn.execute(f"SELECT {_PATIENT_COLUMNS} FROM persons WHERE psn_no IN ({marks})", wanted).fetchall()
    return {row[0]: row for row in found}


def standing(db: sqlite_utils.Database, psn_no: str, year: int) -> tuple[int | None, int | None, int | None]:
    """(balance, deductible used, fund paid) of the person this year; None where there is no row."""
    return db.conn.execute(_STANDING_SQL, [psn_no, year]).fetchone()


def settlement_row(db: sqlite_utils.Database, column: str, value: str) -> dict[str, Any] | None:
    cur = db.conn.execute(_SETTLEMENT_SQL[column], [value])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def settlement_rows_of_day(db: sqlite_utils.Database, day: str, window: str) -> list[dict[str, Any]]:
    """A window's settlements and reversals of a day, newest first, in one query."""
    cur = db.conn.execute('SELECT * FROM settlements WHERE setl_date = ? AND "window" = ? '
                          "ORDER BY created_at DESC, setl_id DESC", [day, window])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def take_balc(db: sqlite_utils.Database, psn_no: str, amount: int) -> int | None:
    """Debit a balance only if it holds `amount`: the balance left, or None (nothing changed)."""
    row = db.conn.execute(TAKE_BALC_SQL, [amount, psn_no, amount]).fetchone()
    return row[0] if row else None


def take_quota(db: sqlite_utils.Database, binding_id: int, amount: int) -> int | None:
    """Debit an active binding's quota only if it holds `amount`: the quota left, or None."""
    row = db.conn.execute("UPDATE bindings SET quota = quota - ? WHERE id = ? AND status = 'active' "
                          "AND quota >= ? RETURNING quota", [amount, binding_id, amount]).fetchone()
    return row[0] if row else None


def credit_balc(db: sqlite_utils.Database, psn_no: str, amount: int) -> int | None:
    """Credit a balance back: the balance after, or None when the account is gone."""
    row = db.conn.execute("UPDATE accounts SET balc = balc + ?, version = version + 1 WHERE psn_no = ? "
                          "RETURNING balc", [amount, psn_no]).fetchone()
    return row[0] if row else None


def credit_quota(db: sqlite_utils.Database, binding_id: int, amount: int) -> int | None:
    """Credit an active binding's quota back: the quota after, or None when the binding has ended."""
    row = db.conn.execute("UPDATE bindings SET quota = quota + ? WHERE id = ? AND status = 'active' "
                          "RETURNING quota", [amount, binding_id]).fetchone()
    return row[0] if row else None


def insert_settlement(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    db.conn.execute(SETTLEMENT_INSERT, [row[c] for c in SETTLEMENT_COLUMNS])


def insert_ledger(db: sqlite_utils.Database, entries: Iterable[Sequence[Any]]) -> None:
    """Append ledger entries: (setl_id, account, source, psn_no, binding_id, amount, balc_after, at, window, day)."""
    db.conn.executemany(LEDGER_INSERT, entries)


def add_to_accumulators(db: sqlite_utils.Database, psn_no: str, year: int, deductible: int, fund: int) -> None:
    db.conn.execute(ACCUMULATE_SQL, [psn_no, year, deductible, fund])


def take_from_accumulators(db: sqlite_utils.Database, psn_no: str, year: int, deductible: int, fund: int) -> None:
    db.conn.execute("UPDATE accumulators SET deductible_used = deductible_used - ?, fund_paid = fund_paid - ? "
                    "WHERE psn_no = ? AND year = ?", [deductible, fund, psn_no, year])


def ledger_entries(db: sqlite_utils.Database, setl_id: str) -> list[tuple[str, str | None, str, int | None, int]]:
    """What each source paid toward a settlement, in the order written."""
    return db.conn.execute("SELECT account, source, psn_no, binding_id, amount FROM ledger WHERE setl_id = ? "
                           "ORDER BY id", [setl_id]).fetchall()


def mark_reversed(db: sqlite_utils.Database, setl_id: str) -> None:
    """settled -> reversed (the only update the schema allows on a settlement)."""
    db.conn.execute("UPDATE settlements SET status = 'reversed' WHERE setl_id = ? AND status = 'settled'",
                    [setl_id])
