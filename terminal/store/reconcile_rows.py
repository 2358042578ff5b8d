"""The day-end's queries (like the national 3201): each window's sums from the settlement rows and from the
ledger, each settlement against its own entries, and the books (every balance, quota and accumulator against
its opening and recorded movements). Plain rows; terminal.services.reconcile names what differs.

API (all take a sqlite_utils.Database opened on this thread; window None = every window):
  settlement_sums(db, day, window) -> [(window, settled, reversals, *sums in RECONCILE_FIELDS order)]
  ledger_sums(db, day, window)     -> [(window, *sums)]
  per_settlement(db, day, window)  -> [(setl_id, *row sums, *ledger sums, entry count)]
  account_differences(db)          -> [(psn_no, stored | None, expected)]
  binding_differences(db)          -> [(binding id, stored, expected)]
  accumulator_differences(db)      -> [(psn_no, year, deductible_used | None, fund_paid | None, dedc made, fund made)]
"""

from __future__ import annotations

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



def _window_filter(window: str | None, column: str = '"window"') -> tuple[str, list[str]]:
    return (f"AND {column} = ?", [window]) if window else ("", [])


def settlement_sums(db: sqlite_utils.Database, day: str, window: str | None) -> list[Any]:
    cond, args = _window_filter(window)
    return db.conn.execute(
        f'SELECT "window", sum(status != \'reversal\'), sum(status = \'reversal\'), '
        f'{", ".join(f"sum({f})" for f in RECONCILE_FIELDS)} FROM settlements WHERE setl_date = ? {cond} '
        f'GROUP BY "window" ORDER BY "window"', [day, *args]).fetchall()


def ledger_sums(db: sqlite_utils.Database, day: str, window: str | None) -> list[Any]:
    cond, args = _window_filter(window)
    return db.conn.execute(
        f'SELECT "window", {", ".join(f"sum({LEDGER_SUMS[f]})" for f in RECONCILE_FIELDS)} FROM ledger '
        f'WHERE setl_date = ? {cond} GROUP BY "window"', [day, *args]).fetchall()


def per_settlement(db: sqlite_utils.Database, day: str, window: str | None) -> list[Any]:
    """Each settlement of the day beside the sums of its own ledger entries (NULL sums: no entries)."""
    s_cond, args = _window_filter(window, 's."window"')
    ledger_cols = ", ".join(f"sum({LEDGER_SUMS[f]}) AS l_{f}" for f in RECONCILE_FIELDS)
    query = (f"SELECT s.setl_id, {', '.join('s.' + f for f in RECONCILE_FIELDS)}, "
             f"{', '.join('l.l_' + f for f in RECONCILE_FIELDS)}, "
             f"l.n FROM settlements s LEFT JOIN (SELECT setl_id, count(*) AS n, {ledger_cols} FROM ledger "
             f"GROUP BY setl_id) l ON l.setl_id = s.setl_id WHERE s.setl_date = ? {s_cond}")
    return db.conn.execute(query, [day, *args]).fetchall()


def account_differences(db: sqlite_utils.Database) -> list[Any]:
    return db.conn.execute(_ACCOUNTS_SQL).fetchall()


def binding_differences(db: sqlite_utils.Database) -> list[Any]:
    return db.conn.execute(_BINDINGS_SQL).fetchall()


def accumulator_differences(db: sqlite_utils.Database) -> list[Any]:
    return db.conn.execute(_ACCUMULATORS_SQL).fetchall()
