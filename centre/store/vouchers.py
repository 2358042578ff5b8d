"""The e-voucher codes the centre has resolved: a code (its nonce) is used once, by the person it names."""

from __future__ import annotations

from dataclasses import dataclass

from centre.store.engine import Database


@dataclass(frozen=True)
class Use:
    psn_no: str
    fixmedins_code: str
    used_at: str
    expires_at: str


def use(db: Database, *, nonce: str, psn_no: str, fixmedins_code: str, used_at: str, expires_at: str,
        msgid: str) -> bool:
    """Record the code's first use; False (nothing written) when it was used before."""
    row = db.one("INSERT INTO voucher_uses (nonce, psn_no, fixmedins_code, used_at, expires_at, msgid) "
                 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
                 [nonce, psn_no, fixmedins_code, used_at, expires_at, msgid])
    return row is not None


def used(db: Database, nonce: str) -> Use | None:
    """How the code was used, if it was."""
    row = db.one("SELECT psn_no, fixmedins_code, used_at, expires_at FROM voucher_uses WHERE nonce = ?", [nonce])
    return Use(*row) if row else None
