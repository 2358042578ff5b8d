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
from datetime import date as Date
from typing import Any

import sqlite_utils

from centre.interface.codes import RECONCILE_FIELDS

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


def _window_filter(window: str | None) -> tuple[str, list[str]]:
    return ('AND "window" = ?', [window]) if window else ("", [])


def reconcile(db: sqlite_utils.Database, cfg, date: str | None = None, window: str | None = None) -> ReconcileReport:
    day = date or Date.today().isoformat()
    cond, args = _window_filter(window)
    totals: dict[str, WindowTotals] = {}
    for row in db.conn.execute(
            f'SELECT "window", sum(status != \'reversal\'), sum(status = \'reversal\'), '
            f'{", ".join(f"sum({f})" for f in RECONCILE_FIELDS)} FROM settlements WHERE setl_date = ? {cond} '
            f'GROUP BY "window" ORDER BY "window"', [day, *args]):
        w = totals.setdefault(row[0], WindowTotals(row[0]))
        w.settled, w.reversals = row[1], row[2]
        w.count = w.settled - w.reversals
        w.sums = dict(zip(RECONCILE_FIELDS, row[3:]))
    for row in db.conn.execute(
            f'SELECT "window", {", ".join(f"sum({LEDGER_SUMS[f]})" for f in RECONCILE_FIELDS)} FROM ledger '
            f'WHERE setl_date = ? {cond} GROUP BY "window"', [day, *args]):
        totals.setdefault(row[0], WindowTotals(row[0])).ledger = dict(zip(RECONCILE_FIELDS, row[1:]))
    mismatches = [Mismatch(f, w.sums[f], w.ledger[f], window=w.window)
                  for w in totals.values() for f in RECONCILE_FIELDS if w.sums[f] != w.ledger[f]]
    mismatches += _per_settlement(db, day, cond, args)
    books = check_books(db)
    windows = sorted(totals.values(), key=lambda w: w.window)
    sums = {f: sum(w.sums[f] for w in windows) for f in RECONCILE_FIELDS}
    ledger = {f: sum(w.ledger[f] for w in windows) for f in RECONCILE_FIELDS}
    return ReconcileReport(date=day, window=window, count=sum(w.count for w in windows),
                           settled=sum(w.settled for w in windows), reversals=sum(w.reversals for w in windows),
                           sums=sums, ledger=ledger, ok=not mismatches and not books, mismatches=mismatches,
                           windows=windows, books=books)


# balc = opening - ledger entries on a balance - binding moves; a ledger or move with no account is missing
_ACCOUNTS_SQL = """
WITH spent AS (SELECT psn_no, sum(amount) AS amount FROM ledger WHERE source = 'balc' GROUP BY psn_no),
     moved AS (SELECT psn_no, sum(amount) AS amount FROM binding_moves GROUP BY psn_no),
     expected AS (SELECT a.psn_no, a.balc AS stored,
                         a.opening - coalesce(s.amount, 0) - coalesce(m.amount, 0) AS expected
                  FROM accounts a LEFT JOIN spent s ON s.psn_no = a.psn_no LEFT JOIN moved m ON m.psn_no = a.psn_no
                  UNION ALL
                  SELECT x.psn_no, NULL, -sum(x.amount) FROM (SELECT psn_no, amount FROM spent UNION ALL
                                                              SELECT psn_no, amount FROM moved) x
                  WHERE x.psn_no NOT IN (SELECT psn_no FROM accounts) GROUP BY x.psn_no)
SELECT psn_no, stored, expected FROM expected WHERE stored IS NOT expected ORDER BY psn_no"""

# quota = opening - ledger entries on the quota + binding moves
_BINDINGS_SQL = """
WITH drawn AS (SELECT binding_id, sum(amount) AS amount FROM ledger WHERE source = 'quota' GROUP BY binding_id),
     moved AS (SELECT binding_id, sum(amount) AS amount FROM binding_moves GROUP BY binding_id)
SELECT b.id, b.quota, b.opening - coalesce(d.amount, 0) + coalesce(m.amount, 0) AS expected
FROM bindings b LEFT JOIN drawn d ON d.binding_id = b.id LEFT JOIN moved m ON m.binding_id = b.id
WHERE b.quota IS NOT b.opening - coalesce(d.amount, 0) + coalesce(m.amount, 0) ORDER BY b.id"""

# accumulators = the year's settlement rows (reversals carry negated amounts); a row missing or left over
_ACCUMULATORS_SQL = """
WITH made AS (SELECT psn_no, CAST(substr(setl_date, 1, 4) AS INTEGER) AS year,
                     sum(act_pay_dedc) AS dedc, sum(fund_pay_sumamt) AS fund
              FROM settlements GROUP BY psn_no, substr(setl_date, 1, 4))
SELECT a.psn_no, a.year, a.deductible_used, a.fund_paid, coalesce(m.dedc, 0), coalesce(m.fund, 0)
FROM accumulators a LEFT JOIN made m ON m.psn_no = a.psn_no AND m.year = a.year
WHERE a.deductible_used IS NOT coalesce(m.dedc, 0) OR a.fund_paid IS NOT coalesce(m.fund, 0)
UNION ALL
SELECT m.psn_no, m.year, NULL, NULL, m.dedc, m.fund FROM made m
WHERE (m.dedc <> 0 OR m.fund <> 0)
  AND NOT EXISTS (SELECT 1 FROM accumulators a WHERE a.psn_no = m.psn_no AND a.year = m.year)
ORDER BY 1, 2"""


def check_books(db: sqlite_utils.Database) -> list[BookMismatch]:
    """Every balance, quota and accumulator against its start and its recorded movements."""
    out = [BookMismatch("accounts", psn_no, "balc", stored, expected)
           for psn_no, stored, expected in db.conn.execute(_ACCOUNTS_SQL)]
    out += [BookMismatch("bindings", str(bid), "quota", stored, expected)
            for bid, stored, expected in db.conn.execute(_BINDINGS_SQL)]
    for psn_no, year, dedc, fund, made_dedc, made_fund in db.conn.execute(_ACCUMULATORS_SQL):
        key = f"{psn_no}/{year}"
        if dedc != made_dedc:
            out.append(BookMismatch("accumulators", key, "deductible_used", dedc, made_dedc))
        if fund != made_fund:
            out.append(BookMismatch("accumulators", key, "fund_paid", fund, made_fund))
    return out


def _per_settlement(db: sqlite_utils.Database, day: str, cond: str, args: list[str]) -> list[Mismatch]:
    """Each settlement of the day against its own ledger entries (names the setl_id that differs)."""
    s_cond = cond.replace('"window"', 's."window"')
    ledger_cols = ", ".join(f"sum({LEDGER_SUMS[f]}) AS l_{f}" for f in RECONCILE_FIELDS)
    query = (f"SELECT s.setl_id, {', '.join('s.' + f for f in RECONCILE_FIELDS)}, {', '.join('l.l_' + f for f in RECONCILE_FIELDS)}, "
             f"l.n FROM settlements s LEFT JOIN (SELECT setl_id, count(*) AS n, {ledger_cols} FROM ledger "
             f"GROUP BY setl_id) l ON l.setl_id = s.setl_id WHERE s.setl_date = ? {s_cond}")
    out = []
    for row in db.conn.execute(query, [day, *args]):
        setl_id, mine, theirs, n = row[0], row[1:6], row[6:11], row[11]
        if not n:
            out.append(Mismatch("entries", 1, 0, setl_id=setl_id))
            continue
        out += [Mismatch(f, a, b, setl_id=setl_id) for f, a, b in zip(RECONCILE_FIELDS, mine, theirs) if a != b]
    return out
