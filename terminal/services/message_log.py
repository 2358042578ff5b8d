"""The window's message log as the cashier and support read it: the last messages to the centre, each with
its transaction's name, msgid, outcome and time taken. Only what the log's columns hold (never a request body,
so never a PIN); any ID number or e-voucher code is masked (first 6 and last 4). Each message says the credential
it carried (`mdtrt_cert_type` and its number, masked): which patients came with the card, the e-voucher or the ID
card."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from terminal.store import window_log

_ID18 = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")

#: the log's states as the cashier reads them (an answer with infcode -1 is "refused")
OUTCOMES = {"answered": "ok", "uncertain": "lost", "unreachable": "down", "sent": "sent", "resolved": "lost"}


@dataclass(frozen=True)
class LoggedMessage:
    """One message to the centre and what became of it."""

    at: str                  # sent_at, yyyy-mm-dd hh:mm:ss
    infno: str
    name_zh: str             # the transaction's name ("" when the interface does not know the number)
    name_en: str
    msgid: str
    outcome: str             # ok | refused | lost | down | sent
    infcode: int | None
    err_code: str            # the centre's refusal code, or what happened to a lost answer (2601 ...)
    err_msg: str
    ms: float | None
    cert_type: str = ""      # the credential the message carried (01 e-voucher, 02 ID card, 03 card), if any
    cert_no: str = ""        # its number, masked (an ID number or e-voucher code: first 6 and last 4)


def _masked_text(text: str | None) -> str:
    from drivers.certno import mask
    return window_log.mask_vouchers(_ID18.sub(lambda m: mask(m.group(0)), text or ""))


def _credential(request: str | None) -> tuple[str, str]:
    """The credential a logged request carried, masked (the log keeps it masked already; masked again here so
    an older log written before codes were masked shows none in full)."""
    import json

    from drivers.certno import mask
    try:
        data = json.loads(request or "{}").get("input", {}).get("data", {})
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(data, dict) or not data.get("mdtrt_cert_type"):
        return "", ""
    number = str(data.get("mdtrt_cert_no") or "")
    if "*" not in number and (_ID18.fullmatch(number) or number.upper().startswith("YBEV:")):
        number = mask(number)
    return str(data["mdtrt_cert_type"]), number


def _outcome(row: dict[str, Any]) -> str:
    if row["state"] == "answered" and row["infcode"] not in (0, None):
        return "refused"
    return OUTCOMES.get(str(row["state"]), str(row["state"]))


def recent_messages(db: sqlite_utils.Database, limit: int = 50) -> list[LoggedMessage]:
    """The last `limit` messages of this window, newest first."""
    from centre.interface.transactions.registry import TRANSACTIONS
    out = []
    for row in window_log.recent(db, limit):
        tx = TRANSACTIONS.get(str(row["infno"]))
        note = row["note"] if row["state"] == "resolved" else None
        out.append(LoggedMessage(
            at=str(row["sent_at"] or "").replace("T", " ")[:19], infno=str(row["infno"]),
            name_zh=tx.zh if tx else "", name_en=tx.en if tx else "", msgid=str(row["msgid"]),
            outcome=_outcome(row), infcode=row["infcode"],
            err_code=_masked_text(note or row["err_code"]), err_msg=_masked_text(row["err_msg"]),
            ms=row["ms"], **dict(zip(("cert_type", "cert_no"), _credential(row.get("request"))))))
    return out
