"""Sign-ins and every message's msgid: a msgid is used once; what a message did is kept for 2601."""

from __future__ import annotations

import json
from typing import Any

from centre.store.engine import Database


def add_signin(db: Database, *, sign_no: str, fixmedins_code: str, opter_no: str, sign_time: str,
               valid_until: str) -> None:
    db.execute("INSERT INTO signins (sign_no, fixmedins_code, opter_no, sign_time, valid_until) VALUES (?, ?, ?, ?, ?)",
               [sign_no, fixmedins_code, opter_no, sign_time, valid_until])


def signin(db: Database, sign_no: str) -> tuple[str, str, str | None, str] | None:
    """(fixmedins_code, opter_no, signed_out_at, valid_until) of a sign-in."""
    row = db.one("SELECT fixmedins_code, opter_no, signed_out_at, valid_until FROM signins WHERE sign_no = ?",
                 [sign_no])
    return (row[0], row[1], row[2], row[3]) if row else None


def sign_out(db: Database, sign_no: str, at: str) -> bool:
    return db.execute("UPDATE signins SET signed_out_at = ? WHERE sign_no = ? AND signed_out_at IS NULL",
                      [at, sign_no]).rowcount == 1


def expire_signins(db: Database, at: str) -> int:
    """Every sign-in ends now (the fault `expire-sign`)."""
    return db.execute("UPDATE signins SET valid_until = ? WHERE valid_until > ?", [at, at]).rowcount


def seen(db: Database, msgid: str) -> tuple[str, str, dict[str, Any]] | None:
    """(infno, state, effect) of a msgid seen before."""
    row = db.one("SELECT infno, state, effect FROM messages WHERE msgid = ?", [msgid])
    if row is None:
        return None
    return row[0], row[1], json.loads(row[2]) if row[2] else {}


def claim(db: Database, *, msgid: str, infno: str, fixmedins_code: str, at: str, state: str = "done") -> bool:
    """Record a msgid; False when it was seen before (nothing written)."""
    row = db.one("INSERT INTO messages (msgid, infno, fixmedins_code, at, state) VALUES (?, ?, ?, ?, ?) "
                 "ON CONFLICT (msgid) DO NOTHING RETURNING msgid", [msgid, infno, fixmedins_code, at, state])
    return row is not None


def set_effect(db: Database, msgid: str, effect: dict[str, Any], state: str | None = None) -> None:
    if state is None:
        db.execute("UPDATE messages SET effect = ? WHERE msgid = ?", [json.dumps(effect), msgid])
    else:
        db.execute("UPDATE messages SET effect = ?, state = ? WHERE msgid = ?", [json.dumps(effect), state, msgid])
