"""The window's own record of its traffic with the centre (tables in `schema_window`).

All functions take the window's `sqlite_utils.Database` opened on the calling thread.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import sqlite_utils

from terminal.store.people import write_transaction

_ID18 = re.compile(r"^[0-9]{17}[0-9Xx]$")
#: an e-voucher code (or a scan that begins like one): a bearer credential while it lives, masked like an ID number
_VOUCHER = re.compile(r"YBEV:[A-Za-z0-9]*", re.IGNORECASE)
STAMP = "%Y%m%d%H%M%S"


def reserve_second(db: sqlite_utils.Database, now: dt.datetime) -> str:
    """A second (yyyyMMddHHmmss) no msgid of this window has used: now, or the one after the last reserved."""
    with write_transaction(db):
        row = db.execute("SELECT stamp FROM msgid_reserved WHERE id = 1").fetchone()
        stamp = now.strftime(STAMP)
        if row is not None and row[0] >= stamp:
            stamp = (dt.datetime.strptime(row[0], STAMP) + dt.timedelta(seconds=1)).strftime(STAMP)
        db.execute("INSERT INTO msgid_reserved (id, stamp) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET "
                   "stamp = excluded.stamp", [stamp])
    return stamp


def masked(obj: Any) -> Any:
    """A copy with every ID number and every e-voucher code masked (first 6 and last 4): what the log and its
    screen keep."""
    from drivers.certno import mask
    if isinstance(obj, dict):
        return {k: (mask(v) if isinstance(v, str) and (k in ("certno", "mdtrt_cert_no") and _ID18.match(v))
                    else masked(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [masked(v) for v in obj]
    if isinstance(obj, str) and _ID18.match(obj):
        return mask(obj)
    if isinstance(obj, str) and "YBEV:" in obj.upper():
        return mask_vouchers(obj)
    return obj


def mask_vouchers(text: str) -> str:
    """Every e-voucher code in `text` masked like an ID number (YBEV:A**…**WXYZ)."""
    from drivers.certno import mask
    return _VOUCHER.sub(lambda m: mask(m.group(0)), text)


def _text(obj: Any) -> str:
    from centre.interface import jsonio
    return jsonio.dumps(masked(obj))


def log_sent(db: sqlite_utils.Database, envelope: dict[str, Any], at: str) -> None:
    """Written (and synced) before a message that changes money leaves: after a crash, it is known to be in flight."""
    with write_transaction(db):
        db.execute("INSERT INTO centre_log (msgid, infno, sent_at, request, state) VALUES (?, ?, ?, ?, 'sent')",
                   [envelope["msgid"], envelope["infno"], at, _text(envelope)])


def log_outcome(db: sqlite_utils.Database, envelope: dict[str, Any], *, sent_at: str, at: str, state: str,
                ms: float | None = None, answer: dict[str, Any] | None = None, note: str | None = None) -> None:
    """The answer (or its absence) of a message, whether or not `log_sent` wrote it first."""
    infcode = answer.get("infcode") if answer else None
    err_code = answer.get("ext_err_code") if answer else None
    err_msg = answer.get("err_msg") if answer else None
    with write_transaction(db):
        db.execute(
            "INSERT INTO centre_log (msgid, infno, sent_at, request, state, answered_at, ms, infcode, err_code, "
            "err_msg, answer, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msgid) DO UPDATE SET "
            "state = excluded.state, answered_at = excluded.answered_at, ms = excluded.ms, "
            "infcode = excluded.infcode, err_code = excluded.err_code, err_msg = excluded.err_msg, "
            "answer = excluded.answer, note = excluded.note",
            [envelope["msgid"], envelope["infno"], sent_at, _text(envelope), state, at, ms, infcode, err_code,
             err_msg, _text(answer) if answer is not None else None, note])


def resolve(db: sqlite_utils.Database, msgid: str, note: str) -> None:
    with write_transaction(db):
        db.execute("UPDATE centre_log SET state = 'resolved', note = ? WHERE msgid = ?", [note, msgid])


def in_flight(db: sqlite_utils.Database, infnos: tuple[str, ...] = ("2207",)) -> list[dict[str, Any]]:
    """Messages sent with no answer yet (uncertain, or sent when the window stopped): to settle first."""
    marks = ", ".join("?" * len(infnos))
    cur = db.execute(f"SELECT msgid, infno, sent_at, request FROM centre_log WHERE state IN ('sent', 'uncertain') "
                     f"AND infno IN ({marks}) ORDER BY id", list(infnos))
    return [{"msgid": m, "infno": i, "sent_at": s, "request": json.loads(r)} for m, i, s, r in cur.fetchall()]


def recent(db: sqlite_utils.Database, limit: int = 200) -> list[dict[str, Any]]:
    """The last messages, newest first (the message log screen)."""
    cur = db.execute("SELECT msgid, infno, sent_at, state, ms, infcode, err_code, err_msg, note, request "
                     "FROM centre_log ORDER BY id DESC LIMIT ?", [limit])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
