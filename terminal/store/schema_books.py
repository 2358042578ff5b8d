"""Schema of the books: every balance and quota explained by a recorded start plus recorded movements.

- `accounts.opening`: the balance the centre's exports gave this account, before any of the window's own
  movements. The import sets it with the balance; a later export that overwrites a balance moves it by
  the same amount. So, for every account:
      balc = opening - (its ledger entries drawn on a balance) - (its binding_moves)
- `bindings.opening`: likewise the quota the centre's export gave a binding (0 for one made at the window):
      quota = opening - (its ledger entries drawn on the quota) + (its binding_moves)
- `binding_moves`: append-only; money moved between an owner's balance and a binding's quota at the
  window: `amount` > 0 when a bind earmarks it (balance -> quota), < 0 when an unbind or a lapsed binding
  returns it (quota -> balance).
- accumulators carry no start of their own: a person's deductible_used and fund_paid for a year are the
  sums of act_pay_dedc and fund_pay_sumamt over their settlement rows of that year (reversals negated).
`cashier reconcile` checks all three. Step books_0001 records the start of a database made before it:
bind/unbind movements recovered from the audit trail, and each opening set so that the books hold as
they stand at the migration.
Never edit an applied step; add a new one below.
"""

from __future__ import annotations

import sqlite_utils

from terminal.store.migrations import MIGRATIONS

_BOOKS_SQL: tuple[str, ...] = (
    "ALTER TABLE accounts ADD COLUMN opening INTEGER NOT NULL DEFAULT 0 CHECK (typeof(opening) = 'integer')",
    "ALTER TABLE bindings ADD COLUMN opening INTEGER NOT NULL DEFAULT 0 CHECK (typeof(opening) = 'integer')",
    """CREATE TABLE binding_moves (
        id INTEGER PRIMARY KEY,
        binding_id INTEGER NOT NULL REFERENCES bindings(id),
        psn_no TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount <> 0),
        reason TEXT NOT NULL,
        at TEXT NOT NULL,
        "window" TEXT,
        operator TEXT
    )""",
    "CREATE INDEX binding_moves_binding ON binding_moves(binding_id)",
    "CREATE INDEX binding_moves_psn ON binding_moves(psn_no)",
    """CREATE TRIGGER binding_moves_no_update BEFORE UPDATE ON binding_moves
    BEGIN SELECT RAISE(ABORT, 'binding_moves is append-only: write a new entry'); END""",
    """CREATE TRIGGER binding_moves_no_delete BEFORE DELETE ON binding_moves
    BEGIN SELECT RAISE(ABORT, 'binding_moves is append-only: write a new entry'); END""",
    # the movements made before this step, as the audit trail recorded them (bind: quota; unbind: returned)
    """INSERT INTO binding_moves (binding_id, psn_no, amount, reason, at, "window", operator)
    SELECT b.id, b.owner_psn_no,
           CASE a.action WHEN 'bind' THEN json_extract(a.detail, '$.quota')
                         ELSE -json_extract(a.detail, '$.returned') END,
           CASE a.action WHEN 'bind' THEN 'bind' ELSE coalesce(json_extract(a.detail, '$.reason'), 'unbind') END,
           a.at, a."window", a.operator
    FROM audit a JOIN bindings b ON a.subject = 'binding:' || b.id
         AND b.owner_psn_no = json_extract(a.detail, '$.owner_psn_no')
    WHERE (a.action = 'bind' AND typeof(json_extract(a.detail, '$.quota')) = 'integer'
           AND json_extract(a.detail, '$.quota') > 0)
       OR (a.action = 'unbind' AND typeof(json_extract(a.detail, '$.returned')) = 'integer'
           AND json_extract(a.detail, '$.returned') > 0)
    ORDER BY a.id""",
    """UPDATE accounts SET opening = balc
        + coalesce((SELECT sum(l.amount) FROM ledger l WHERE l.psn_no = accounts.psn_no AND l.source = 'balc'), 0)
        + coalesce((SELECT sum(m.amount) FROM binding_moves m WHERE m.psn_no = accounts.psn_no), 0)""",
    """UPDATE bindings SET opening = quota
        + coalesce((SELECT sum(l.amount) FROM ledger l WHERE l.binding_id = bindings.id AND l.source = 'quota'), 0)
        - coalesce((SELECT sum(m.amount) FROM binding_moves m WHERE m.binding_id = bindings.id), 0)""",
)


@MIGRATIONS(name="books_0001_openings_and_binding_moves")
def books_0001_openings_and_binding_moves(db: sqlite_utils.Database) -> None:
    """accounts.opening, bindings.opening, binding_moves (append-only); the start of an existing database."""
    for statement in _BOOKS_SQL:
        db.execute(statement)
