"""The window's own record when the insurance centre keeps the books: the persons and family answers it
caches (so a window can still show them when the centre cannot be reached), the request ids it has sent,
and its settlements (`window_settlements`) for its day-end and its slips. Plain rows; the centre client in
terminal.services.centre_ledger decides what to keep.

API (all take a sqlite_utils.Database opened on this thread; writes inside the caller's `write_tx`):
  cache_person(db, person: {column: value}, at)       forgets stale holders of its card or ID number first
  cache_family(db, psn_no, family_json, at); cached_family(db, psn_no) -> str | None
  psn_no_by_card(db, card_no) -> str | None
  request(db, request_id) -> (fingerprint, setl_id | None) | None; remember_request(db, ...)
  insert_settlement(db, row: {column: value}); set_wallet; set_slip_path; mark_reversed
  settlement_row(db, setl_id) -> {column: value} | None; rows_of_day(db, day, window) -> [{...}] newest first
  clearing(db, setl_id) -> (clr_type, mdtrt_cert_type) | None
  insured_groups, group_sums, cash_only_sums, settled_and_reversals: the day end's sums (window None: all)
"""

from __future__ import annotations

from typing import Any, Sequence

import sqlite_utils

from terminal.store.schema_settlement import AMOUNT_COLUMNS

PERSON_COLUMNS = ("psn_no", "certno", "psn_name", "gend", "naty", "brdy", "card_no", "card_sn", "insuplc_admdvs",
                  "insutype", "psn_insu_stas")
SETTLEMENT_COLUMNS = ("setl_id", "msgid", "kind", "mdtrt_id", "psn_no", "psn_name", "certno_masked", "insutype",
                      "med_type", "clr_type", "mdtrt_cert_type", "acct_used_flag", *AMOUNT_COLUMNS, "overlmt_selfpay",
                      "own_acct_pay", "balc", "mulaid", "bill", "status", "setl_time", "setl_date", "reversal_of",
                      "window", "operator", "request_id", "slip_path")
_INSERT_SETTLEMENT = (f"INSERT INTO window_settlements ({', '.join(chr(34) + c + chr(34) for c in SETTLEMENT_COLUMNS)})"
                      f" VALUES ({', '.join('?' * len(SETTLEMENT_COLUMNS))})")


def _dicts(cur: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def cache_person(db: sqlite_utils.Database, person: dict[str, Any], at: str) -> None:
    """Keep the centre's answer about a person; another cached person holding this card or ID number is out
    of date (its card number cleared; a certno holder without money or bindings here forgotten)."""
    conn, psn_no = db.conn, person["psn_no"]
    if person.get("card_no"):
        conn.execute("UPDATE persons SET card_no = NULL WHERE card_no = ? AND psn_no != ?", [person["card_no"], psn_no])
    if person.get("certno"):
        conn.execute("DELETE FROM persons WHERE certno = ? AND psn_no != ? AND psn_no NOT IN "
                     "(SELECT psn_no FROM accounts) AND psn_no NOT IN (SELECT owner_psn_no FROM bindings)"
                     " AND psn_no NOT IN (SELECT user_psn_no FROM bindings)", [person["certno"], psn_no])
    conn.execute("INSERT INTO persons (psn_no, certno, psn_name, gend, naty, brdy, card_no, card_sn, "
                 "insuplc_admdvs, insutype, psn_insu_stas, cached_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                 "ON CONFLICT (psn_no) DO UPDATE SET psn_name = excluded.psn_name, gend = excluded.gend, "
                 "naty = excluded.naty, brdy = excluded.brdy, card_no = coalesce(excluded.card_no, card_no), "
                 "card_sn = coalesce(excluded.card_sn, card_sn), insuplc_admdvs = excluded.insuplc_admdvs, "
                 "insutype = excluded.insutype, psn_insu_stas = excluded.psn_insu_stas, "
                 "cached_at = excluded.cached_at", [*(person[c] for c in PERSON_COLUMNS), at])


def cache_family(db: sqlite_utils.Database, psn_no: str, family_json: str, at: str) -> None:
    db.conn.execute("INSERT INTO family_cache (psn_no, family, cached_at) VALUES (?, ?, ?) ON CONFLICT (psn_no) "
                    "DO UPDATE SET family = excluded.family, cached_at = excluded.cached_at", [psn_no, family_json, at])


def cached_family(db: sqlite_utils.Database, psn_no: str) -> str | None:
    row = db.conn.execute("SELECT family FROM family_cache WHERE psn_no = ?", [psn_no]).fetchone()
    return row[0] if row else None


def psn_no_by_card(db: sqlite_utils.Database, card_no: str) -> str | None:
    row = db.conn.execute("SELECT psn_no FROM persons WHERE card_no = ?", [card_no]).fetchone()
    return row[0] if row else None


def request(db: sqlite_utils.Database, request_id: str) -> tuple[str, str | None] | None:
    """(fingerprint, setl_id or None while unanswered) of a request id sent before."""
    return db.conn.execute("SELECT fingerprint, setl_id FROM request_ids WHERE request_id = ?",
                           [request_id]).fetchone()


def remember_request(db: sqlite_utils.Database, request_id: str, fingerprint: str, msgid: str,
                     setl_id: str | None, at: str) -> None:
    db.conn.execute("INSERT INTO request_ids (request_id, fingerprint, msgid, setl_id, at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (request_id) DO UPDATE SET msgid = excluded.msgid, setl_id = excluded.setl_id",
                    [request_id, fingerprint, msgid, setl_id, at])


def insert_settlement(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    db.conn.execute(_INSERT_SETTLEMENT, [row[c] for c in SETTLEMENT_COLUMNS])


def set_wallet(db: sqlite_utils.Database, setl_id: str, wallet_json: str) -> None:
    db.conn.execute("UPDATE window_settlements SET wallet = ? WHERE setl_id = ?", [wallet_json, setl_id])


def set_slip_path(db: sqlite_utils.Database, setl_id: str, path: str) -> None:
    db.conn.execute("UPDATE window_settlements SET slip_path = ? WHERE setl_id = ?", [path, setl_id])


def mark_reversed(db: sqlite_utils.Database, setl_id: str) -> None:
    db.conn.execute("UPDATE window_settlements SET status = 'reversed' WHERE setl_id = ?", [setl_id])


def settlement_row(db: sqlite_utils.Database, setl_id: str) -> dict[str, Any] | None:
    found = _dicts(db.conn.execute("SELECT * FROM window_settlements WHERE setl_id = ?", [setl_id]))
    return found[0] if found else None


def rows_of_day(db: sqlite_utils.Database, day: str, window: str) -> list[dict[str, Any]]:
    """A window's settlements and reversals of a day, newest first, in one query."""
    return _dicts(db.conn.execute('SELECT * FROM window_settlements WHERE setl_date = ? AND "window" = ? '
                                  "ORDER BY setl_time DESC, id DESC", [day, window]))


def clearing(db: sqlite_utils.Database, setl_id: str) -> tuple[str, str] | None:
    return db.conn.execute("SELECT clr_type, mdtrt_cert_type FROM window_settlements WHERE setl_id = ?",
                           [setl_id]).fetchone()


def _window(window: str | None) -> tuple[str, list[str]]:
    return ('AND "window" = ?', [window]) if window else ("", [])


def insured_groups(db: sqlite_utils.Database, day: str, window: str | None) -> list[tuple[str, str]]:
    """The (insutype, clr_type) pairs settled through the centre that day."""
    cond, args = _window(window)
    return [(i, c) for i, c in db.conn.execute(
        f"SELECT insutype, clr_type FROM window_settlements WHERE kind = 'insurance' AND "
        f"setl_date = ? {cond} GROUP BY insutype, clr_type", [day, *args]).fetchall()]


def group_sums(db: sqlite_utils.Database, day: str, insutype: str, clr_type: str, window: str | None,
               fields: Sequence[str]) -> tuple[int, ...]:
    """(net count, *sums of `fields`) of one group's settlements through the centre that day."""
    cond, args = _window(window)
    return db.conn.execute(
        "SELECT coalesce(sum(CASE WHEN status = 'reversal' THEN -1 ELSE 1 END), 0), "
        + ", ".join(f"coalesce(sum({f}), 0)" for f in fields)
        + f" FROM window_settlements WHERE kind = 'insurance' AND setl_date = ? AND insutype = ? "
        f"AND clr_type = ? {cond}", [day, insutype, clr_type, *args]).fetchone()


def cash_only_sums(db: sqlite_utils.Database, day: str, window: str | None) -> tuple[int, int, int]:
    """(sales, reversals, net cash in fen) of the day's cash-only settlements (the centre never had them): a
    reversal's row holds the sale's amounts negated, so the sum of every row is what stays in the drawer."""
    cond, args = _window(window)
    return db.conn.execute(f"SELECT coalesce(sum(status != 'reversal'), 0), coalesce(sum(status = 'reversal'), 0), "
                           f"coalesce(sum(psn_cash_pay), 0) FROM window_settlements WHERE "
                           f"kind = 'cash_only' AND setl_date = ? {cond}", [day, *args]).fetchone()


def settled_and_reversals(db: sqlite_utils.Database, day: str, window: str | None) -> tuple[int, int]:
    cond, args = _window(window)
    return db.conn.execute(
        "SELECT coalesce(sum(status != 'reversal'), 0), coalesce(sum(status = 'reversal'), 0) FROM "
        f"window_settlements WHERE kind = 'insurance' AND setl_date = ? {cond}", [day, *args]).fetchone()
