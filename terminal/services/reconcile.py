"""Day-end reconciliation per window and day (like the national 3201): settlements vs the ledger,
and every balance, quota and accumulator vs its start and its recorded movements.

API: `reconcile(db, cfg, date=None, window=None) -> ReconcileReport` (date default today; window
None = every window, each reported in `windows`). The sums come from the settlement rows (a
reversal row carries negated amounts, so sums are net); the same sums are recomputed from the
ledger entries of that day and window; each settlement's entries must match its own row, and each
settlement must have entries: `mismatches` says what differs.
The books (whatever the date and window): every account's balance must be its opening minus its
ledger entries on a balance minus its binding moves; every binding's quota its opening minus its
ledger entries on the quota plus its binding moves; every person's accumulators of a year the sums
of their settlements' act_pay_dedc and fund_pay_sumamt that year. `books` names each row that
differs (a hand edit, or money moved outside the services). `ok` only when both lists are empty.
`count` = settlements made minus reversals made (net), with `settled` and `reversals` beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from centre.interface.codes import RECONCILE_FIELDS
from terminal import clock
from terminal.store import reconcile_rows as rows


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
class BookMismatch:
    """A stored figure that its start and movements do not explain."""
    table: str            # accounts | bindings | accumulators
    key: str              # psn_no, binding id, or psn_no/year
    field: str            # balc | quota | deductible_used | fund_paid
    stored: int | None    # None: the row is missing
    expected: int

    def __str__(self) -> str:
        from terminal.domain.money import yuan_text
        stored = "missing" if self.stored is None else f"{yuan_text(self.stored)} ({self.stored} fen)"
        source = "the settlements of that year give" if self.table == "accumulators" else \
            "its opening and recorded movements give"
        return (f"{self.table} {self.key}: {self.field} is {stored}, but {source} "
                f"{yuan_text(self.expected)} ({self.expected} fen)")


@dataclass
class WindowTotals:
    window: str
    count: int = 0
    settled: int = 0
    reversals: int = 0
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECONCILE_FIELDS, 0))
    ledger: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECONCILE_FIELDS, 0))


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
    books: list[BookMismatch] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"date": self.date, "window": self.window, "count": self.count,
                               "settled": self.settled, "reversals": self.reversals, **self.sums,
                               "ledger": self.ledger, "ok": self.ok,
                               "mismatches": [{**asdict(m), "message": str(m)} for m in self.mismatches],
                               "books": [{**asdict(b), "message": str(b)} for b in self.books],
                               "windows": [asdict(w) for w in self.windows]}
        return out

    def problems(self) -> list[str]:
        """Every mismatch and every unexplained balance, quota or accumulator, one line each."""
        return [str(m) for m in self.mismatches] + [str(b) for b in self.books]

    def text(self) -> str:
        from terminal.domain.money import yuan
        lines = [f"对账 reconciliation {self.date} window {self.window or 'all'}: {'OK' if self.ok else 'MISMATCH'}",
                 f"  count {self.count} (settled {self.settled}, reversals {self.reversals})"]
        lines += [f"  {f:<16} {yuan(self.sums[f]):>14}  ledger {yuan(self.ledger[f]):>14}" for f in RECONCILE_FIELDS]
        lines.append(f"  books (every balance, quota, accumulator): {'OK' if not self.books else 'MISMATCH'}")
        lines += [f"  !! {p}" for p in self.problems()]
        return "\n".join(lines)


def reconcile(db: sqlite_utils.Database, cfg, date: str | None = None, window: str | None = None) -> ReconcileReport:
    day = date or clock.day()
    totals: dict[str, WindowTotals] = {}
    for row in rows.settlement_sums(db, day, window):
        w = totals.setdefault(row[0], WindowTotals(row[0]))
        w.settled, w.reversals = row[1], row[2]
        w.count = w.settled - w.reversals
        w.sums = dict(zip(RECONCILE_FIELDS, row[3:]))
    for row in rows.ledger_sums(db, day, window):
        totals.setdefault(row[0], WindowTotals(row[0])).ledger = dict(zip(RECONCILE_FIELDS, row[1:]))
    mismatches = [Mismatch(f, w.sums[f], w.ledger[f], window=w.window)
                  for w in totals.values() for f in RECONCILE_FIELDS if w.sums[f] != w.ledger[f]]
    mismatches += _per_settlement(db, day, window)
    books = check_books(db)
    windows = sorted(totals.values(), key=lambda w: w.window)
    sums = {f: sum(w.sums[f] for w in windows) for f in RECONCILE_FIELDS}
    ledger = {f: sum(w.ledger[f] for w in windows) for f in RECONCILE_FIELDS}
    return ReconcileReport(date=day, window=window, count=sum(w.count for w in windows),
                           settled=sum(w.settled for w in windows), reversals=sum(w.reversals for w in windows),
                           sums=sums, ledger=ledger, ok=not mismatches and not books, mismatches=mismatches,
                           windows=windows, books=books)


def check_books(db: sqlite_utils.Database) -> list[BookMismatch]:
    """Every balance, quota and accumulator against its start and its recorded movements."""
    out = [BookMismatch("accounts", psn_no, "balc", stored, expected)
           for psn_no, stored, expected in rows.account_differences(db)]
    out += [BookMismatch("bindings", str(bid), "quota", stored, expected)
            for bid, stored, expected in rows.binding_differences(db)]
    for psn_no, year, dedc, fund, made_dedc, made_fund in rows.accumulator_differences(db):
        key = f"{psn_no}/{year}"
        if dedc != made_dedc:
            out.append(BookMismatch("accumulators", key, "deductible_used", dedc, made_dedc))
        if fund != made_fund:
            out.append(BookMismatch("accumulators", key, "fund_paid", fund, made_fund))
    return out


def _per_settlement(db: sqlite_utils.Database, day: str, window: str | None) -> list[Mismatch]:
    """Each settlement of the day against its own ledger entries (names the setl_id that differs)."""
    out = []
    for row in rows.per_settlement(db, day, window):
        setl_id, mine, theirs, n = row[0], row[1:6], row[6:11], row[11]
        if not n:
            out.append(Mismatch("entries", 1, 0, setl_id=setl_id))
            continue
        out += [Mismatch(f, a, b, setl_id=setl_id) for f, a, b in zip(RECONCILE_FIELDS, mine, theirs) if a != b]
    return out
