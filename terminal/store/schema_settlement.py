"""Schema of the money (docs/data-and-rules.md): settlements, ledger entries, year accumulators.

- `settlements`: one row per settlement (status 'settled'), and one per reversal (status
  'reversal', amounts negated, `reversal_of` = the original). The only update a trigger allows is
  an original going 'settled' -> 'reversed', every other column unchanged; no delete.
- `ledger`: append-only (triggers refuse UPDATE and DELETE). One entry per source that paid
  toward a settlement: `account` own | binding | fund | cash; `source` balc | quota (what a
  binding drew on) ; `amount` = what that source paid (a reversal writes the negation), so a
  balance is its start minus the sum of its entries, and a settlement's entries sum to its total.
- `accumulators`: per person and calendar year, deductible used and fund paid.
- step 0002: `settlements.request_fp`, the sha256 of the canonical request (patient, bill, flag,
  relatives) so a reused request id with another request is refused; NULL on reversals and on rows
  written before the step.
Never edit an applied step; add a new one below.
"""

from __future__ import annotations

import sqlite_utils

from terminal.store.migrations import MIGRATIONS

AMOUNT_COLUMNS = ("medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc",
                  "fund_pay_sumamt", "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")

# The columns of step 0001, frozen: its SQL (the trigger's list) must never change.
_COLUMNS_0001 = ("setl_id", "mdtrt_id", "msgid", "request_id", "psn_no", "window", "operator", "med_type",
                 "insutype", "hosp_lv", "acct_used_flag", *AMOUNT_COLUMNS, "own_acct_pay", "balc",
                 "mulaid", "bill", "status", "created_at", "setl_date", "reversal_of")
# Every column a settlement row is written with, as of the newest step.
SETTLEMENT_COLUMNS = (*_COLUMNS_0001, "request_fp")

_amounts = ",\n        ".join(f"{c} INTEGER NOT NULL CHECK (typeof({c}) = 'integer')" for c in AMOUNT_COLUMNS)


def _unchanged_sql(columns: tuple[str, ...]) -> str:
    return " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in columns if c != "status")


_unchanged = _unchanged_sql(_COLUMNS_0001)

_SETTLEMENT_SQL: tuple[str, ...] = (
    f"""CREATE TABLE settlements (
        setl_id TEXT PRIMARY KEY,
        mdtrt_id TEXT NOT NULL,
        msgid TEXT NOT NULL,
        request_id TEXT NOT NULL UNIQUE,
        psn_no TEXT NOT NULL REFERENCES persons(psn_no),
        "window" TEXT NOT NULL,
        operator TEXT NOT NULL,
        med_type TEXT NOT NULL,
        insutype TEXT NOT NULL,
        hosp_lv TEXT NOT NULL,
        acct_used_flag TEXT NOT NULL CHECK (acct_used_flag IN ('0', '1')),
        {_amounts},
        own_acct_pay INTEGER NOT NULL,
        balc INTEGER,
        mulaid TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(mulaid)),
        bill TEXT NOT NULL CHECK (json_valid(bill)),
        status TEXT NOT NULL CHECK (status IN ('settled', 'reversed', 'reversal')),
        created_at TEXT NOT NULL,
        setl_date TEXT NOT NULL,
        reversal_of TEXT UNIQUE REFERENCES settlements(setl_id),
        CHECK (medfee_sumamt = fund_pay_sumamt + acct_pay + psn_cash_pay),
        CHECK (psn_part_amt = acct_pay + psn_cash_pay),
        CHECK ((status = 'reversal') = (reversal_of IS NOT NULL))
    )""",
    """CREATE INDEX settlements_day ON settlements(setl_date, "window")""",
    """CREATE INDEX settlements_psn ON settlements(psn_no)""",
    """CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,
        setl_id TEXT NOT NULL REFERENCES settlements(setl_id),
        account TEXT NOT NULL CHECK (account IN ('own', 'binding', 'fund', 'cash')),
        source TEXT CHECK (source IS NULL OR source IN ('balc', 'quota')),
        psn_no TEXT NOT NULL,
        binding_id INTEGER REFERENCES bindings(id),
        amount INTEGER NOT NULL CHECK (typeof(amount) = 'integer'),
        balc_after INTEGER,
        at TEXT NOT NULL,
        "window" TEXT NOT NULL,
        setl_date TEXT NOT NULL,
        CHECK ((account = 'binding') = (binding_id IS NOT NULL)),
        CHECK ((account IN ('own', 'binding')) = (source IS NOT NULL))
    )""",
    """CREATE INDEX ledger_setl ON ledger(setl_id)""",
    """CREATE INDEX ledger_day ON ledger(setl_date, "window")""",
    """CREATE INDEX ledger_psn ON ledger(psn_no, account)""",
    """CREATE TABLE accumulators (
        psn_no TEXT NOT NULL REFERENCES persons(psn_no),
        year INTEGER NOT NULL,
        deductible_used INTEGER NOT NULL DEFAULT 0 CHECK (deductible_used >= 0),
        fund_paid INTEGER NOT NULL DEFAULT 0 CHECK (fund_paid >= 0),
        PRIMARY KEY (psn_no, year)
    )""",
    """CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only: write a new entry'); END""",
    """CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only: write a new entry'); END""",
    """CREATE TRIGGER settlements_no_delete BEFORE DELETE ON settlements
    BEGIN SELECT RAISE(ABORT, 'settlements are append-only: reverse instead'); END""",
    f"""CREATE TRIGGER settlements_only_reverse BEFORE UPDATE ON settlements
    WHEN NOT (OLD.status = 'settled' AND NEW.status = 'reversed' AND {_unchanged})
    BEGIN SELECT RAISE(ABORT, 'settlements are append-only: only settled -> reversed is allowed'); END""",
)


@MIGRATIONS(name="settlement_0001_tables")
def settlement_0001_tables(db: sqlite_utils.Database) -> None:
    """settlements (append-only but for status), ledger (append-only), accumulators."""
    for statement in _SETTLEMENT_SQL:
        db.execute(statement)


_ONLY_REVERSE_0002 = f"""CREATE TRIGGER settlements_only_reverse BEFORE UPDATE ON settlements
    WHEN NOT (OLD.status = 'settled' AND NEW.status = 'reversed' AND {_unchanged_sql(SETTLEMENT_COLUMNS)})
    BEGIN SELECT RAISE(ABORT, 'settlements are append-only: only settled -> reversed is allowed'); END"""


@MIGRATIONS(name="settlement_0002_request_fingerprint")
def settlement_0002_request_fingerprint(db: sqlite_utils.Database) -> None:
    """settlements.request_fp (a retry must be the same request); the append-only trigger covers it."""
    db.execute("ALTER TABLE settlements ADD COLUMN request_fp TEXT CHECK (request_fp IS NULL OR length(request_fp) = 64)")
    db.execute("DROP TRIGGER settlements_only_reverse")
    db.execute(_ONLY_REVERSE_0002)
