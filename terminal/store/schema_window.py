"""The window's own record, now that the centre holds the money: the messages it sent and what came back,
the settlements as the centre returned them, its msgid numbering, and request ids mapped to msgids.

- `msgid_reserved`: the last second (yyyyMMddHHmmss) this window reserved for its msgids; a new process
  starts after it, so no msgid is ever used twice, even across restarts or a clock set back.
- `centre_log`: one row per message (ID numbers masked, never a PIN), its state: sent → answered |
  uncertain (no answer: resolved by 2601/5203 before anything else) | unreachable | resolved.
- `window_settlements`: each settlement and reversal as the centre answered it (amounts in fen), and the
  cash-only settlements made here when the centre could not be reached; what `reconcile` (3201) counts.
- `request_ids`: `--request-id` → the msgid it was first sent as, so a retry replays and never charges twice.
The older tables (persons, accounts, bindings, settlements, ledger) stay: the first three are the cache of
what the centre last answered, the last two the history from before the centre.
"""

from __future__ import annotations

import sqlite_utils

from terminal.store.migrations import MIGRATIONS

_AMOUNTS = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
            "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay",
            "own_acct_pay")
WINDOW_SETTLEMENT_AMOUNTS = _AMOUNTS

_SQL = (
    """CREATE TABLE msgid_reserved (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        stamp TEXT NOT NULL
    )""",
    """CREATE TABLE centre_log (
        id INTEGER PRIMARY KEY,
        msgid TEXT NOT NULL UNIQUE,
        infno TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        request TEXT NOT NULL CHECK (json_valid(request)),
        state TEXT NOT NULL CHECK (state IN ('sent', 'answered', 'uncertain', 'unreachable', 'resolved')),
        answered_at TEXT,
        ms REAL,
        infcode INTEGER,
        err_code TEXT,
        err_msg TEXT,
        answer TEXT CHECK (answer IS NULL OR json_valid(answer)),
        note TEXT
    )""",
    "CREATE INDEX centre_log_state ON centre_log(state, infno)",
    f"""CREATE TABLE window_settlements (
        id INTEGER PRIMARY KEY,
        setl_id TEXT NOT NULL UNIQUE,
        msgid TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('insurance', 'cash_only')),
        mdtrt_id TEXT,
        psn_no TEXT NOT NULL,
        psn_name TEXT NOT NULL,
        certno_masked TEXT NOT NULL,
        insutype TEXT NOT NULL,
        med_type TEXT NOT NULL,
        clr_type TEXT NOT NULL,
        mdtrt_cert_type TEXT NOT NULL,
        acct_used_flag TEXT NOT NULL,
        {", ".join(f"{c} INTEGER NOT NULL CHECK (typeof({c}) = 'integer')" for c in _AMOUNTS)},
        balc INTEGER,
        mulaid TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(mulaid)),
        bill TEXT NOT NULL CHECK (json_valid(bill)),
        status TEXT NOT NULL CHECK (status IN ('settled', 'reversed', 'reversal')),
        setl_time TEXT NOT NULL,
        setl_date TEXT NOT NULL,
        reversal_of TEXT,
        "window" TEXT NOT NULL,
        operator TEXT NOT NULL,
        request_id TEXT,
        slip_path TEXT,
        CHECK (medfee_sumamt = fund_pay_sumamt + acct_pay + psn_cash_pay)
    )""",
    'CREATE INDEX window_settlements_day ON window_settlements(setl_date, "window")',
    """CREATE TABLE request_ids (
        request_id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        msgid TEXT NOT NULL,
        setl_id TEXT,
        at TEXT NOT NULL
    )""",
    # the cache: when each person was last answered by the centre
    "ALTER TABLE persons ADD COLUMN cached_at TEXT",
)


@MIGRATIONS(name="window_0001_centre_client")
def window_0001_centre_client(db: sqlite_utils.Database) -> None:
    """msgid_reserved, centre_log, window_settlements, request_ids; persons.cached_at."""
    for statement in _SQL:
        db.execute(statement)


@MIGRATIONS(name="window_0002_family_cache")
def window_0002_family_cache(db: sqlite_utils.Database) -> None:
    """family_cache: each person's accounts (own and relatives') as the centre last answered (X101), so the
    card read and the family lookup still show something, marked as cached, while the centre is down."""
    db.execute("""CREATE TABLE family_cache (
        psn_no TEXT PRIMARY KEY,
        family TEXT NOT NULL CHECK (json_valid(family)),
        cached_at TEXT NOT NULL
    )""")


@MIGRATIONS(name="window_0003_settlement_wallet")
def window_0003_settlement_wallet(db: sqlite_utils.Database) -> None:
    """window_settlements.wallet: the centre's wallet part of a settlement (ext_wallet_pay, ext_wallet_balc,
    ext_explain, as 2207/2208 answered), so a reprinted slip and a replayed request say what the first slip said."""
    db.execute("ALTER TABLE window_settlements ADD COLUMN wallet TEXT CHECK (wallet IS NULL OR json_valid(wallet))")
