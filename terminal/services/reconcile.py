"""Day-end reconciliation per window and day (like the national 3201): settlements vs the ledger.

API: `reconcile(db, cfg, date=None, window=None) -> ReconcileReport` (date default today; window
None = every window, each reported in `windows`). The sums come from the settlement rows (a
reversal row carries negated amounts, so sums are net); the same sums are recomputed from the
ledger entries of that day and window; `ok` only when every one matches, each settlement's
entries match its own row, and each settlement has entries. `mismatches` says what differs.
`count` = settlements made minus reversals made (net), with `settled` and `reversals` beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date as Date
from typing import Any

import sqlite_utils

FIELDS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")

# Each field as the ledger sees it: which entries add up to it.
LEDGER_SUMS = {
    "medfee_sumamt": "amount",
    "fund_pay_sumamt": "CASE WHEN account = 'fund' THEN amount ELSE 0 END",
    "acct_pay": "CASE WHEN account IN ('own', 'binding') THEN amount ELSE 0 END",
    "acct_mulaid_pay": "CASE WHEN account = 'binding' THEN amount ELSE 0 END",
    "psn_cash_pay": "CASE WHEN account = 'cash' THEN amount ELSE 0 END",
}


@dataclass
class Mismatch:
    field: str
    settlements: int
    ledger: int
    setl_id: str | None = None
    window: str | None = None

    def __str__(self) -> str:
        where = f"{self.setl_id}: " if self.setl_id else (f"window {self.window}: " if self.window else "")
        return f"{where}{self.field} is {self.settlements} in settlements but {self.ledger} in the ledger"


@dataclass
class WindowTotals:
    window: str
    count: int = 0
    settled: int = 0
    reversals: int = 0
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    ledger: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))


@dataclass
class ReconcileReport:
    date: str
    window: str | None
    count: int
    settled: int
    reversals: int
    sums: dict[str, int]
    ledger: dict[str, int]
    ok: bool
    mismatches: list[Mismatch]
    windows: list[WindowTotals]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"date": self.date, "window": self.window, "count": self.count,
                               "settled": self.settled, "reversals": self.reversals, **self.sums,
                               "ledger": self.ledger, "ok": self.ok,
                               "mismatches": [{**asdict(m), "message": str(m)} for m in self.mismatches],
                               "windows": [asdict(w) for w in self.windows]}
        return out

    def text(self) -> str:
        from terminal.domain.money import yuan
        lines = [f"对账 reconciliation {self.date} window {self.window or 'all'}: {'OK' if self.ok else 'MISMATCH'}",
                 f"  count {self.count} (settled {self.settled}, reversals {self.reversals})"]
        lines += [f"  {f:<16} {yuan(self.sums[f]):>14}  ledger {yuan(self.ledger[f]):>14}" for f in FIELDS]
        lines += [f"  !! {m}" for m in self.mismatches]
        return "\n".join(lines)


def _window_filter(window: str | None) -> tuple[str, list[str]]:
    return ('AND "window" = ?', [window]) if window else ("", [])


def reconcile(db: sqlite_utils.Database, cfg, date: str | None = None, window: str | None = None) -> ReconcileReport:
    day = date or Date.today().isoformat()
    cond, args = _window_filter(window)
    totals: dict[str, WindowTotals] = {}
    for row in db.conn.execute(
            f'SELECT "window", sum(status != \'reversal\'), sum(status = \'reversal\'), '
            f'{", ".join(f"sum({f})" for f in FIELDS)} FROM settlements WHERE setl_date = ? {cond} '
            f'GROUP BY "window" ORDER BY "window"', [day, *args]):
        w = totals.setdefault(row[0], WindowTotals(row[0]))
        w.settled, w.reversals = row[1], row[2]
        w.count = w.settled - w.reversals
        w.sums = dict(zip(FIELDS, row[3:]))
    for row in db.conn.execute(
            f'SELECT "window", {", ".join(f"sum({LEDGER_SUMS[f]})" for f in FIELDS)} FROM ledger '
            f'WHERE setl_date = ? {cond} GROUP BY "window"', [day, *args]):
        totals.setdefault(row[0], WindowTotals(row[0])).ledger = dict(zip(FIELDS, row[1:]))
    mismatches = [Mismatch(f, w.sums[f], w.ledger[f], window=w.window)
                  for w in totals.values() for f in FIELDS if w.sums[f] != w.ledger[f]]
    mismatches += _per_settlement(db, day, cond, args)
    windows = sorted(totals.values(), key=lambda w: w.window)
    sums = {f: sum(w.sums[f] for w in windows) for f in FIELDS}
    ledger = {f: sum(w.ledger[f] for w in windows) for f in FIELDS}
    return ReconcileReport(date=day, window=window, count=sum(w.count for w in windows),
                           settled=sum(w.settled for w in windows), reversals=sum(w.reversals for w in windows),
                           sums=sums, ledger=ledger, ok=not mismatches, mismatches=mismatches, windows=windows)


def _per_settlement(db: sqlite_utils.Database, day: str, cond: str, args: list[str]) -> list[Mismatch]:
    """Each settlement of the day against its own ledger entries (names the setl_id that differs)."""
    s_cond = cond.replace('"window"', 's."window"')
    ledger_cols = ", ".join(f"sum({LEDGER_SUMS[f]}) AS l_{f}" for f in FIELDS)
    query = (f"SELECT s.setl_id, {', '.join('s.' + f for f in FIELDS)}, {', '.join('l.l_' + f for f in FIELDS)}, "
             f"l.n FROM settlements s LEFT JOIN (SELECT setl_id, count(*) AS n, {ledger_cols} FROM ledger "
             f"GROUP BY setl_id) l ON l.setl_id = s.setl_id WHERE s.setl_date = ? {s_cond}")
    out = []
    for row in db.conn.execute(query, [day, *args]):
        setl_id, mine, theirs, n = row[0], row[1:6], row[6:11], row[11]
        if not n:
            out.append(Mismatch("entries", 1, 0, setl_id=setl_id))
            continue
        out += [Mismatch(f, a, b, setl_id=setl_id) for f, a, b in zip(FIELDS, mine, theirs) if a != b]
    return out
