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
from terminal import clock
from terminal.error_codes import E
from terminal.services.settlement import SettlementResult, _one, _row_result, new_ids
from terminal.store import settlements as rows
from terminal.store.people import account_of, add_audit
from terminal.store.schema_settlement import AMOUNT_COLUMNS
from terminal.store.write_lock import write_tx


def _credit_balc(db: sqlite_utils.Database, psn_no: str, amount: int) -> int:
    balc = rows.credit_balc(db, psn_no, amount)
    if balc is None:
        raise E.ACCOUNT_MISSING.error(f"the account of {psn_no} is gone; cannot credit {amount} fen back",
                          f"{psn_no} 的账户不存在,无法退回")
    return balc


def reverse(db: sqlite_utils.Database, cfg, setl_id: str, now: datetime | None = None,
            save_slip: bool = True) -> SettlementResult:
    now = clock.local(now)
    at, day, window = clock.stamp(now), clock.day(now), cfg.terminal.window
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
        for account, source, psn_no, binding_id, amount in rows.ledger_entries(db, setl_id):
            balc_after = None
            if source == "balc":
                balc_after = _credit_balc(db, psn_no, amount)
            elif source == "quota":
                quota = rows.credit_quota(db, binding_id, amount) if binding_id is not None else None
                if quota is None:      # the binding ended: its quota went home to the owner, so does this
                    source, balc_after = "balc", _credit_balc(db, psn_no, amount)
                else:
                    balc_after = quota
            entries.append((new_id, account, source, psn_no, binding_id, -amount, balc_after, at, window, day))
        year = int(orig["setl_date"][:4])
        rows.take_from_accumulators(db, orig["psn_no"], year, orig["act_pay_dedc"], orig["fund_pay_sumamt"])
        own_now = account_of(db, orig["psn_no"])
        mulaid = [{**m, "amount": -m["amount"]} for m in json.loads(orig["mulaid"])]
        row = {**orig, **{c: -orig[c] for c in (*AMOUNT_COLUMNS, "own_acct_pay")},
               "setl_id": new_id, "mdtrt_id": orig["mdtrt_id"], "msgid": msgid, "request_id": f"reverse:{setl_id}",
               "window": window, "operator": cfg.terminal.operator, "status": SetlStatus.REVERSAL.value,
               "balc": own_now.balc if own_now and orig["balc"] is not None else None,
               "mulaid": json.dumps(mulaid, ensure_ascii=False), "created_at": at, "setl_date": day,
               "reversal_of": setl_id, "request_fp": None}
        rows.mark_reversed(db, setl_id)
        rows.insert_settlement(db, row)
        rows.insert_ledger(db, entries)
        add_audit(db, at=at, operator=cfg.terminal.operator, window=window, action="reverse", subject=orig["psn_no"], detail={
            "setl_id": new_id, "reversal_of": setl_id, "medfee_sumamt": orig["medfee_sumamt"],
            "acct_pay": orig["acct_pay"], "acct_mulaid_pay": orig["acct_mulaid_pay"]})
    result = _row_result(db, row)
    if save_slip:   # after the commit: a slip that cannot be written is a warning on the result
        from terminal.services.slip import keep_slip
        keep_slip(db, cfg, result)
    return result
