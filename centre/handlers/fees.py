"""2204 upload a visit's fee details (each classed by the centre's catalogue) and 2205 cancel a batch.

An item's class comes from the catalogue (医保目录) by `med_list_codg`; a code the catalogue does not have is
refused with the code named. Only a centre with no catalogue loaded at all (an old export) takes the class
the hospital declares in `ext_chrgitm_lv`, so that such exports still settle as they did.
"""

from __future__ import annotations

from decimal import Decimal

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.handlers.visit import own_visit
from centre.interface.amounts import fen_to_yuan, yuan_text, yuan_to_fen
from centre.interface.codes import ChrgitmLv
from centre.interface.transactions import fees as tx
from centre.interface.transactions import visit as visit_tx
from centre.rules.charges import charge, item_amount
from centre.store import visits


def upload(ctx: Ctx, inp: tx.In2204) -> tx.Out2204:
    details = inp.feedetail
    first = details[0]
    for d in details:
        if (d.mdtrt_id, d.psn_no) != (first.mdtrt_id, first.psn_no):
            raise Refused("fees_mixed", "one upload carries the fees of one visit of one person",
                          "一次上传只能包含同一人员同一就诊的费用明细")
    ctx.person(first.psn_no)
    ctx.db.lock("persons", "psn_no", [first.psn_no])    # not while a 2207 of the visit is settling it
    own_visit(ctx, first.mdtrt_id, first.psn_no)
    limits = ctx.settings.policy.bill_limits
    known = visits.fee_sns(ctx.db, first.mdtrt_id)
    no_catalogue = visits.catalogue_size(ctx.db) == 0
    results = []
    total = 0
    for d in details:
        if d.feedetl_sn in known:
            raise Refused("feedetl_sn_used", f"fee detail {d.feedetl_sn} was already uploaded for this visit",
                          f"费用明细流水号{d.feedetl_sn}重复上传")
        known.add(d.feedetl_sn)
        entry = visits.catalogue_entry(ctx.db, d.med_list_codg)
        if entry is not None:
            lv = entry.chrgitm_lv
        elif no_catalogue and ChrgitmLv.get(d.ext_chrgitm_lv) is not None:
            lv = ChrgitmLv(d.ext_chrgitm_lv)
        else:
            raise Refused("item_unknown", f"item {d.med_list_codg} is not in the insurance catalogue",
                          f"医疗目录编码{d.med_list_codg}不在医保目录中", med_list_codg=d.med_list_codg)
        pric_fen = d.pric * 100
        if pric_fen > limits.max_item_price:
            raise Refused("price_absurd", f"item {d.feedetl_sn}: unit price {d.pric} yuan is above "
                          f"{yuan_text(limits.max_item_price)}", f"明细{d.feedetl_sn}单价超过上限{yuan_text(limits.max_item_price)}")
        amount = item_amount(d.cnt, d.pric)
        if yuan_to_fen(d.det_item_fee_sumamt, "det_item_fee_sumamt") != amount:
            raise Refused("fee_amount_mismatch",
                          f"item {d.feedetl_sn}: det_item_fee_sumamt {d.det_item_fee_sumamt} is not cnt × pric = "
                          f"{fen_to_yuan(amount)}", f"明细{d.feedetl_sn}金额{d.det_item_fee_sumamt}不等于数量×单价"
                          f"{fen_to_yuan(amount)}")
        total += amount
        item = charge(d.cnt, d.pric, lv, ctx.settings.policy.b_selfpay_ratio, entry)
        visits.add_fee(ctx.db, {
            "mdtrt_id": d.mdtrt_id, "feedetl_sn": d.feedetl_sn, "chrg_bchno": d.chrg_bchno, "psn_no": d.psn_no,
            "med_list_codg": d.med_list_codg, "medins_list_codg": d.medins_list_codg,
            "item_name": entry.name if entry else d.medins_list_name, "fee_ocur_time": d.fee_ocur_time,
            "cnt": str(d.cnt), "pric": str(d.pric), "det_item_fee_sumamt": amount, "chrgitm_lv": lv.value,
            "med_chrgitm_type": entry.med_chrgitm_type if entry else "", "selfpay_prop": str(item.selfpay_prop),
            "pric_uplmt_amt": str(entry.pric_uplmt) if entry and entry.pric_uplmt is not None else None,
            "fulamt_ownpay_amt": item.fulamt_ownpay_amt, "overlmt_amt": item.overlmt_amt,
            "preselfpay_amt": item.preselfpay_amt, "inscp_scp_amt": item.inscp_scp_amt, "status": "uploaded",
            "setl_id": None, "msgid": ctx.env.msgid})
        results.append(tx.FeeResult(
            feedetl_sn=d.feedetl_sn, det_item_fee_sumamt=fen_to_yuan(amount), cnt=d.cnt, pric=d.pric,
            pric_uplmt_amt=entry.pric_uplmt if entry else None, selfpay_prop=_ratio(item.selfpay_prop),
            fulamt_ownpay_amt=fen_to_yuan(item.fulamt_ownpay_amt), overlmt_amt=fen_to_yuan(item.overlmt_amt),
            preselfpay_amt=fen_to_yuan(item.preselfpay_amt), inscp_scp_amt=fen_to_yuan(item.inscp_scp_amt),
            chrgitm_lv=lv.value, med_chrgitm_type=entry.med_chrgitm_type if entry else "",
            lmt_used_flag=entry.lmt_used_flag if entry else "0", memo=""))
    if total > limits.max_bill_total:
        raise Refused("bill_absurd", f"the upload totals {yuan_text(total)}, above {yuan_text(limits.max_bill_total)}",
                      f"费用合计{yuan_text(total)}超过上限{yuan_text(limits.max_bill_total)}")
    return tx.Out2204(result=results)


def _ratio(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001")) if value.as_tuple().exponent < -4 else value  # type: ignore[operator]


def cancel(ctx: Ctx, inp: tx.In2205) -> visit_tx.Empty:
    d = inp.data
    ctx.person(d.psn_no)
    ctx.db.lock("persons", "psn_no", [d.psn_no])
    own_visit(ctx, d.mdtrt_id, d.psn_no)
    if visits.mark_fees(ctx.db, d.mdtrt_id, d.chrg_bchno, setl_id=None, status="cancelled",
                        from_status="uploaded") == 0:
        raise Refused("batch_unknown", f"no unsettled fee details in batch {d.chrg_bchno} of visit {d.mdtrt_id}",
                      f"就诊{d.mdtrt_id}没有可撤销的费用明细(批次{d.chrg_bchno})")
    return visit_tx.Empty()
