"""Same-day reversal of a settlement (2208): every balance, quota and accumulator restored exactly.

API: `reverse(db, cfg, setl_id, now=None, save_slip=True) -> SettlementResult` — the new row
(status 'reversal', amounts negated, `reversal_of` = the original); the original goes
'settled' -> 'reversed' (the only update the schema allows). Nothing is deleted: new ledger entries
credit back what each source paid. A cross-province quota whose binding has since ended goes
back to its owner's balance (where an ended binding's quota goes). Refused: unknown id, already
reversed, a reversal itself, or not settled today.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlite_utils

from centre.interface.codes import SetlStatus
from terminal.error_codes import E
from terminal.services.settlement import (
    LEDGER_INSERT,
    SettlementResult,
    _one,
    _row_result,
    insert_settlement,
    new_ids,
    write_tx,
)
from terminal.store.people import add_audit
from terminal.store.schema_settlement import AMOUNT_COLUMNS


def _credit_balc(db: sqlite_utils.Database, psn_no: str, amount: int) -> int:
    row = db.conn.execute("UPDATE accounts SET balc = balc + ?, version = version + 1 WHERE psn_no = ? "
                          "RETURNING balc", [amount, psn_no]).fetchone()
    if row is None:
        raise E.ACCOUNT_MISSING.error(f"the account of {psn_no} is gone; cannot credit {amount} fen back",
                          f"{psn_no} 的账户不存在,无法退回")
    return row[0]


def reverse(db: sqlite_utils.Database, cfg, setl_id: str, now: datetime | None = None,
            save_slip: bool = True) -> SettlementResult:
    now = now or datetime.now()
    at, day, window = now.isoformat(timespec="seconds"), now.date().isoformat(), cfg.terminal.window
    new_id, _, msgid = new_ids(cfg, now)
    with write_tx(db):
        orig = _one(db, "setl_id", setl_id)
        if orig is None:
            raise E.UNKNOWN_SETTLEMENT.error(f"no settlement {setl_id}", f"无此结算记录 {setl_id}")
        if orig["status"] == SetlStatus.REVERSAL:
            raise E.IS_REVERSAL.error(f"{setl_id} is itself a reversal", f"{setl_id} 本身是冲正记录")
        if orig["status"] == SetlStatus.REVERSED:
            raise E.ALREADY_REVERSED.error(f"{setl_id} was already reversed: it cannot be reversed again",
                              f"该笔结算 {setl_id} 已冲正,不能再次冲正")
        if orig["setl_date"] != day:
            raise E.NOT_SAME_DAY.error(f"{setl_id} was settled on {orig['setl_date']}; only same-day "
                              f"reversal is allowed (today is {day})", f"只能当日冲正({setl_id} 结算于 {orig['setl_date']})")
        entries = []
        for account, source, psn_no, binding_id, amount in db.conn.execute(
                "SELECT account, source, psn_no, binding_id, amount FROM ledger WHERE setl_id = ? ORDER BY id",
                [setl_id]).fetchall():
            balc_after = None
            if source == "balc":
                balc_after = _credit_balc(db, psn_no, amount)
            elif source == "quota":
                row = db.conn.execute("UPDATE bindings SET quota = quota + ? WHERE id = ? AND status = 'active' "
                                      "RETURNING quota", [amount, binding_id]).fetchone()
                if row is None:      # the binding ended: its quota went home to the owner, so does this
                    source, balc_after = "balc", _credit_balc(db, psn_no, amount)
                else:
                    balc_after = row[0]
            entries.append((new_id, account, source, psn_no, binding_id, -amount, balc_after, at, window, day))
        year = int(orig["setl_date"][:4])
        db.conn.execute("UPDATE accumulators SET deductible_used = deductible_used - ?, fund_paid = fund_paid - ? "
                        "WHERE psn_no = ? AND year = ?",
                        [orig["act_pay_dedc"], orig["fund_pay_sumamt"], orig["psn_no"], year])
        own_now = db.conn.execute("SELECT balc FROM accounts WHERE psn_no = ?", [orig["psn_no"]]).fetchone()
        mulaid = [{**m, "amount": -m["amount"]} for m in json.loads(orig["mulaid"])]
        row = {**orig, **{c: -orig[c] for c in (*AMOUNT_COLUMNS, "own_acct_pay")},
               "setl_id": new_id, "mdtrt_id": orig["mdtrt_id"], "msgid": msgid, "request_id": f"reverse:{setl_id}",
               "window": window, "operator": cfg.terminal.operator, "status": SetlStatus.REVERSAL.value,
               "balc": own_now[0] if own_now and orig["balc"] is not None else None,
               "mulaid": json.dumps(mulaid, ensure_ascii=False), "created_at": at, "setl_date": day,
               "reversal_of": setl_id, "request_fp": None}
        db.conn.execute("UPDATE settlements SET status = 'reversed' WHERE setl_id = ? AND status = 'settled'",
                        [setl_id])
        insert_settlement(db, row)
        db.conn.executemany(LEDGER_INSERT, entries)
        add_audit(db, operator=cfg.terminal.operator, window=window, action="reverse", subject=orig["psn_no"], detail={
            "setl_id": new_id, "reversal_of": setl_id, "medfee_sumamt": orig["medfee_sumamt"],
            "acct_pay": orig["acct_pay"], "acct_mulaid_pay": orig["acct_mulaid_pay"]})
    result = _row_result(db, row)
    if save_slip:   # after the commit: a slip that cannot be written is a warning on the result
        from terminal.services.slip import keep_slip
        keep_slip(db, cfg, result)
    return result
