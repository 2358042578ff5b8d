"""2601 冲正: undo whatever the message `omsgid` did, if it did anything, and say which.

This is what a window sends when a 2207 got no answer. The message's record says what it did:
- never seen: it never took effect, and never will: its msgid is now taken, so a late arrival is refused;
- refused: it never took effect;
- a 2207 that settled: the settlement is reversed (new rows, every account credited back);
- a 2201 registration: the visit is cancelled (unless settled); a 2204 upload: its items are cancelled;
- already undone: said so again (the answer is the same, a retry of 2601 is harmless).
"""

from __future__ import annotations

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.handlers.settle import reverse_settlement
from centre.interface.codes import SetlStatus
from centre.interface.transactions import query as tx
from centre.store import money, traffic, visits

UNDOABLE = ("2201", "2204", "2207")


def revoke(ctx: Ctx, inp: tx.In2601) -> tx.Out2601:
    d = inp.data
    ctx.person(d.psn_no)
    db = ctx.db
    db.lock("persons", "psn_no", [d.psn_no])            # the patient's messages, one at a time

    def out(took: bool, text: str, setl_id: str | None = None, reversal: str | None = None) -> tx.Out2601:
        return tx.Out2601(data=tx.Revoked(omsgid=d.omsgid, oinfno=d.oinfno, ext_took_effect=took, ext_setl_id=setl_id,
                                          ext_reversal_setl_id=reversal, ext_dscr=text))

    if d.omsgid[:12] != ctx.env.fixmedins_code:
        raise Refused("omsgid_foreign", "omsgid is not one of this hospital's messages", "原报文ID不属于本机构")
    found = traffic.seen(db, d.omsgid)
    if found is None:
        if traffic.claim(db, msgid=d.omsgid, infno=d.oinfno, fixmedins_code=ctx.env.fixmedins_code, at=ctx.at,
                         state="revoked"):
            return out(False, "原交易未到达医保中心,未生效;该报文ID已作废")
        found = traffic.seen(db, d.omsgid)          # the original committed while this waited for its msgid
        if found is None:
            raise Refused("centre_busy", f"message {d.omsgid} is being processed: send 2601 again",
                          f"原报文{d.omsgid}正在处理中,请重新冲正")
    infno, state, effect = found
    if infno != d.oinfno:
        raise Refused("oinfno_mismatch", f"message {d.omsgid} was a {infno}, not a {d.oinfno}",
                      f"原报文{d.omsgid}的交易编号为{infno},与{d.oinfno}不符")
    if state in ("refused", "revoked"):
        return out(False, "原交易未成功,无需冲正")
    if state == "reversed":
        return out(True, "原交易已冲正", effect.get("setl_id"), effect.get("reversal_setl_id"))
    if infno not in UNDOABLE:
        raise Refused("not_revocable", f"a {infno} cannot be undone by 2601", f"交易{infno}不支持冲正")
    if infno == "2207":
        orig = money.settlement_by_msgid(db, d.omsgid)
        if orig is None:
            return out(False, "原交易未生效,无需冲正")
        if orig["psn_no"] != d.psn_no:
            raise Refused("settlement_not_yours", "the original settlement is not this person's", "原结算不属于该人员")
        if orig["status"] == SetlStatus.REVERSED:
            traffic.set_effect(db, d.omsgid, {**effect, "setl_id": orig["setl_id"]}, "reversed")
            return out(True, "原结算已撤销", orig["setl_id"])
        row = reverse_settlement(ctx, orig, same_day=False)
        traffic.set_effect(db, d.omsgid, {**effect, "setl_id": orig["setl_id"], "reversal_setl_id": row["setl_id"]},
                           "reversed")
        return out(True, "原结算已冲正,各账户已退回", orig["setl_id"], row["setl_id"])
    if infno == "2201":
        mdtrt_id = effect.get("mdtrt_id", "")
        if visits.visit_settled(db, mdtrt_id):
            raise Refused("visit_settled", "the visit has a settlement: reverse it first", "该就诊已结算,请先撤销结算")
        visits.mark_fees(db, mdtrt_id, "0000", setl_id=None, status="cancelled", from_status="uploaded")
        visits.cancel_visit(db, mdtrt_id)
    else:  # 2204
        for sn_batch in effect.get("batches", []):
            visits.mark_fees(db, effect.get("mdtrt_id", ""), sn_batch, setl_id=None, status="cancelled",
                             from_status="uploaded")
    traffic.set_effect(db, d.omsgid, effect, "reversed")
    return out(True, "原交易已冲正")
