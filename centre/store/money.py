"""Settlements, their ledger entries, the year accumulators, and the checks that tie balances to the ledger.

A settlement row carries the amounts (fen); its ledger entries say which source paid what (own balance,
a binding's owner balance or quota, the fund, cash), so every balance is its opening plus its movements
minus what it paid. The patient's insurance wallet pays through `movements` (kind `wallet_pay`, ref = the
setl_id; `wallet_refund` on a reversal), so every wallet is the sum of its movements too. A reversal is a row
of its own with negated amounts; the original becomes `reversed`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from centre.interface.codes import RECONCILE_FIELDS
from centre.store.engine import Database
from centre.store.schema import SETTLEMENT_ADDED, SETTLEMENT_FIXED

SETTLEMENT_COLUMNS = (*SETTLEMENT_FIXED, *SETTLEMENT_ADDED, "status")
_INSERT = (f"INSERT INTO settlements ({', '.join(SETTLEMENT_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(SETTLEMENT_COLUMNS))})")
_LEDGER = ("INSERT INTO ledger (setl_id, account, source, psn_no, binding_id, amount, balc_after, at, fixmedins_code, "
           "setl_date, prior_part) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
WALLET_KINDS = "('wallet_pay', 'wallet_refund')"


def insert_settlement(db: Database, row: dict[str, Any]) -> None:
    db.execute(_INSERT, [json.dumps(row[c], ensure_ascii=False) if c == "mulaid" else row[c]
                         for c in SETTLEMENT_COLUMNS])


def insert_ledger(db: Database, entries: list[tuple[Any, ...]]) -> None:
    """Entries (setl_id, account, source, psn_no, binding_id, amount, balc_after, at, fixmedins_code, setl_date,
    prior_part): prior_part is how much of an amount paid from a balance was prior-year money."""
    db.executemany(_LEDGER, entries)


def settlement(db: Database, setl_id: str) -> dict[str, Any] | None:
    rows = db.dicts("SELECT * FROM settlements WHERE setl_id = ?", [setl_id])
    return _decoded(rows[0]) if rows else None


def settlement_by_msgid(db: Database, msgid: str) -> dict[str, Any] | None:
    rows = db.dicts("SELECT * FROM settlements WHERE msgid = ?", [msgid])
    return _decoded(rows[0]) if rows else None


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row["mulaid"] = json.loads(row["mulaid"])
    return row


def mark_reversed(db: Database, setl_id: str) -> bool:
    return db.execute("UPDATE settlements SET status = 'reversed' WHERE setl_id = ? AND status = 'settled'",
                      [setl_id]).rowcount == 1


def ledger_of(db: Database, setl_id: str) -> list[tuple[str, str | None, str, int | None, int, int]]:
    """(account, source, psn_no, binding_id, amount, prior_part) of a settlement, in the order written."""
    return [(r[0], r[1], r[2], r[3], int(r[4]), int(r[5])) for r in db.all(
        "SELECT account, source, psn_no, binding_id, amount, prior_part FROM ledger WHERE setl_id = ? ORDER BY id",
        [setl_id])]


def year_to_date(db: Database, psn_no: str, year: int, pool: str = "shared") -> tuple[int, int]:
    row = db.one("SELECT deductible_used, fund_paid FROM accumulators WHERE psn_no = ? AND year = ? AND pool = ?",
                 [psn_no, year, pool])
    return (int(row[0]), int(row[1])) if row else (0, 0)


def add_to_year(db: Database, psn_no: str, year: int, deductible: int, fund: int, pool: str = "shared") -> None:
    db.execute("INSERT INTO accumulators (psn_no, year, pool, deductible_used, fund_paid) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (psn_no, year, pool) DO UPDATE SET "
               "deductible_used = accumulators.deductible_used + excluded.deductible_used, "
               "fund_paid = accumulators.fund_paid + excluded.fund_paid", [psn_no, year, pool, deductible, fund])


def take_from_year(db: Database, psn_no: str, year: int, deductible: int, fund: int, pool: str = "shared") -> None:
    """A reversal moves the accumulators back (the row exists: its settlement made it)."""
    db.execute("UPDATE accumulators SET deductible_used = deductible_used - ?, fund_paid = fund_paid - ? "
               "WHERE psn_no = ? AND year = ? AND pool = ?", [deductible, fund, psn_no, year, pool])


def add_audit(db: Database, *, at: str, fixmedins_code: str | None, opter: str | None, action: str,
              subject: str | None, detail: dict[str, Any]) -> None:
    db.execute("INSERT INTO audit (at, fixmedins_code, opter, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)",
               [at, fixmedins_code, opter, action, subject, json.dumps(detail, ensure_ascii=False)])


# ---------------------------------------------------------------- day-end totals (3201)

@dataclass(frozen=True)
class Totals:
    count: int                      # settlements minus reversals (net)
    sums: dict[str, int]            # RECONCILE_FIELDS, net of reversals


def totals(db: Database, *, fixmedins_code: str, insutype: str, clr_type: str, begin: str, end: str,
           setl_optins: str = "") -> Totals:
    """The hospital's settlements of an insurance type and clearing class between two dates (inclusive)."""
    area = " AND insuplc_admdvs LIKE ?" if setl_optins else ""
    args: list[Any] = [fixmedins_code, insutype, clr_type, begin, end] + ([setl_optins[:4] + "%"] if setl_optins else [])
    row = db.one("SELECT coalesce(sum(CASE WHEN status = 'reversal' THEN -1 ELSE 1 END), 0), "
                 + ", ".join(f"coalesce(sum({f}), 0)" for f in RECONCILE_FIELDS)
                 + " FROM settlements WHERE fixmedins_code = ? AND insutype = ? AND clr_type = ? "
                 f"AND setl_date >= ? AND setl_date <= ?{area}", args)
    return Totals(int(row[0]), {f: int(v) for f, v in zip(RECONCILE_FIELDS, row[1:])})


# ---------------------------------------------------------------- integrity: every figure from its history

@dataclass(frozen=True)
class Drift:
    """A stored figure that its history does not explain (a hand edit, a lost write)."""

    what: str          # "account" | "binding" | "wallet" | "transfer" | "accumulator" | "settlement"
    key: str
    field: str
    stored: int
    expected: int

    def text(self) -> str:
        return f"{self.what} {self.key}: {self.field} is {self.stored} fen but its history gives {self.expected} fen"


def drifts(db: Database) -> list[Drift]:
    """Every balance = opening + movements − what it paid; every quota = its movements − what it paid; every
    wallet = its movements; every transfer's money is where its state says; every accumulator = the sum of its
    year's (and pool's) settlements; every settlement = the sum of its ledger entries and wallet movements."""
    out: list[Drift] = []
    for psn_no, balc, expected in db.all(
            "SELECT a.psn_no, a.balc, a.opening "
            " + coalesce((SELECT sum(m.balc_delta) FROM movements m WHERE m.psn_no = a.psn_no), 0)"
            " - coalesce((SELECT sum(l.amount) FROM ledger l WHERE l.psn_no = a.psn_no AND l.source = 'balc'), 0) "
            "FROM accounts a"):
        if balc != expected:
            out.append(Drift("account", psn_no, "balc", int(balc), int(expected)))
    for bid, quota, expected in db.all(
            "SELECT b.id, b.quota, coalesce((SELECT sum(m.quota_delta) FROM movements m WHERE m.binding_id = b.id), 0)"
            " - coalesce((SELECT sum(l.amount) FROM ledger l WHERE l.binding_id = b.id AND l.source = 'quota'), 0) "
            "FROM bindings b"):
        if quota != expected:
            out.append(Drift("binding", str(bid), "quota", int(quota), int(expected)))
    out += _wallet_drifts(db)
    out += _accumulator_drifts(db)
    for setl_id, field, stored, expected in _settlement_drifts(db):
        out.append(Drift("settlement", setl_id, field, stored, expected))
    return out


def _wallet_drifts(db: Database) -> list[Drift]:
    """A wallet is the sum of its movements; a transfer's money is out of the owner's account unless returned,
    and in the relative's wallet once accepted."""
    out = []
    for psn_no, stored, expected in db.all(
            "SELECT p.psn_no, coalesce(w.balc, 0), coalesce(m.total, 0) FROM "
            "(SELECT psn_no FROM wallets UNION SELECT psn_no FROM movements WHERE wallet_delta <> 0) p "
            "LEFT JOIN wallets w ON w.psn_no = p.psn_no "
            "LEFT JOIN (SELECT psn_no, sum(wallet_delta) AS total FROM movements GROUP BY psn_no) m "
            "ON m.psn_no = p.psn_no"):
        if stored != expected:
            out.append(Drift("wallet", psn_no, "balc", int(stored), int(expected)))
    for tid, state, amount, balc_moved, wallet_moved in db.all(
            "SELECT t.id, t.state, t.amount, coalesce(sum(m.balc_delta), 0), coalesce(sum(m.wallet_delta), 0) "
            "FROM wallet_transfers t LEFT JOIN movements m ON m.ref = 'transfer:' || t.id "
            "GROUP BY t.id, t.state, t.amount"):
        want_balc = 0 if state == "returned" else -int(amount)
        want_wallet = int(amount) if state == "accepted" else 0
        if balc_moved != want_balc:
            out.append(Drift("transfer", str(tid), f"owner's balance moved ({state})", int(balc_moved), want_balc))
        if wallet_moved != want_wallet:
            out.append(Drift("transfer", str(tid), f"wallet moved ({state})", int(wallet_moved), want_wallet))
    return out


def _accumulator_drifts(db: Database) -> list[Drift]:
    """An accumulator moves with each settlement of its year and pool and back with its reversal (dated by the
    original)."""
    rows = db.all(
        "SELECT c.psn_no, c.year, c.pool, c.deductible_used, c.fund_paid, "
        "coalesce(sum(s.act_pay_dedc), 0), coalesce(sum(s.fund_pay_sumamt), 0) "
        "FROM accumulators c LEFT JOIN settlements s ON s.psn_no = c.psn_no AND s.status <> 'reversal' "
        "AND s.status <> 'reversed' AND CAST(substr(s.setl_date, 1, 4) AS INTEGER) = c.year AND s.pool = c.pool "
        "GROUP BY c.psn_no, c.year, c.pool, c.deductible_used, c.fund_paid")
    out = []
    for psn_no, year, pool, dedc, fund, e_dedc, e_fund in rows:
        key = f"{psn_no}/{year}" if pool == "shared" else f"{psn_no}/{year}/{pool}"
        if dedc != e_dedc:
            out.append(Drift("accumulator", key, "deductible_used", int(dedc), int(e_dedc)))
        if fund != e_fund:
            out.append(Drift("accumulator", key, "fund_paid", int(fund), int(e_fund)))
    return out


_LEDGER_OF = {
    "medfee_sumamt": "amount",
    "fund_pay_sumamt": "CASE WHEN account = 'fund' THEN amount ELSE 0 END",
    "acct_pay": "CASE WHEN account IN ('own', 'binding') THEN amount ELSE 0 END",
    "acct_mulaid_pay": "CASE WHEN account = 'binding' THEN amount ELSE 0 END",
    "psn_cash_pay": "CASE WHEN account = 'cash' THEN amount ELSE 0 END",
}


_WITH_WALLET = ("medfee_sumamt", "acct_pay")   # the wallet's part is in these, from its movements


def _settlement_drifts(db: Database) -> list[tuple[str, str, int, int]]:
    """Each figure against its ledger entries; the wallet's part (in medfee_sumamt and acct_pay, and as
    wallet_pay) against the settlement's wallet movements."""
    cols = ", ".join(f"s.{f}, coalesce(l.{f}, 0)" + (" + coalesce(w.paid, 0)" if f in _WITH_WALLET else "")
                     for f in RECONCILE_FIELDS)
    sums = ", ".join(f"sum({_LEDGER_OF[f]}) AS {f}" for f in RECONCILE_FIELDS)
    out = []
    for row in db.all(f"SELECT s.setl_id, s.wallet_pay, coalesce(w.paid, 0), {cols} FROM settlements s LEFT JOIN "
                      f"(SELECT setl_id, {sums} FROM ledger GROUP BY setl_id) l ON l.setl_id = s.setl_id LEFT JOIN "
                      f"(SELECT ref, -sum(wallet_delta) AS paid FROM movements WHERE kind IN {WALLET_KINDS} "
                      "GROUP BY ref) w ON w.ref = s.setl_id"):
        setl_id, wallet_pay, wallet_moved, values = row[0], row[1], row[2], row[3:]
        if wallet_pay != wallet_moved:
            out.append((setl_id, "wallet_pay", int(wallet_pay), int(wallet_moved)))
        for i, f in enumerate(RECONCILE_FIELDS):
            stored, expected = values[2 * i], values[2 * i + 1]
            if stored != expected:
                out.append((setl_id, f, int(stored), int(expected)))
    return out
