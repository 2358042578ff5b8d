"""2201 register an outpatient visit, 2202 cancel it, 2203 say what the visit is for (med_type, disease)."""

from __future__ import annotations

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.handlers.voucher import check_credential
from centre.interface.codes import MedType, PsnInsuStas
from centre.interface.transactions import visit as tx
from centre.store import visits
from centre.store.visits import Visit


def register(ctx: Ctx, inp: tx.In2201) -> tx.Out2201:
    d = inp.data
    p = ctx.person(d.psn_no)
    if p.insutype != d.insutype:
        raise Refused("insutype_mismatch", f"{p.psn_name} is insured under {p.insutype}, not {d.insutype}",
                      f"{p.psn_name}的险种为{p.insutype},与登记的险种{d.insutype}不符")
    if p.psn_insu_stas != PsnInsuStas.ACTIVE:
        stas = PsnInsuStas.get(p.psn_insu_stas)
        raise Refused("insurance_inactive", f"{p.psn_name}'s insurance is {stas.en if stas else p.psn_insu_stas}: "
                      "no insured visit (self-pay)",
                      f"{p.psn_name}的参保状态为{stas.zh if stas else p.psn_insu_stas},不能医保挂号(请按自费就诊)")
    check_credential(ctx, p, d.mdtrt_cert_type, d.mdtrt_cert_no)
    mdtrt_id = ctx.new_id("M")
    visits.add_visit(ctx.db, mdtrt_id=mdtrt_id, psn_no=p.psn_no, insutype=p.insutype,
                     fixmedins_code=ctx.env.fixmedins_code, ipt_otp_no=d.ipt_otp_no, begntime=d.begntime or ctx.at,
                     mdtrt_cert_type=d.mdtrt_cert_type, mdtrt_cert_no=d.mdtrt_cert_no, at=ctx.at,
                     msgid=ctx.env.msgid)
    return tx.Out2201(data=tx.Registered(mdtrt_id=mdtrt_id, psn_no=p.psn_no, ipt_otp_no=d.ipt_otp_no))


def own_visit(ctx: Ctx, mdtrt_id: str, psn_no: str, *, open_only: bool = True) -> Visit:
    """The visit, refused unless it is this hospital's, this person's and (by default) still registered."""
    v = visits.visit(ctx.db, mdtrt_id)
    if v is None or v.fixmedins_code != ctx.env.fixmedins_code:
        raise Refused("visit_unknown", f"no visit {mdtrt_id} at this hospital", f"就诊ID{mdtrt_id}不存在")
    if v.psn_no != psn_no:
        raise Refused("visit_not_yours", f"visit {mdtrt_id} is not {psn_no}'s", f"就诊ID{mdtrt_id}不属于人员{psn_no}")
    if open_only and v.status != "registered":
        raise Refused("visit_cancelled", f"visit {mdtrt_id} was cancelled", f"就诊ID{mdtrt_id}已撤销")
    return v


def cancel(ctx: Ctx, inp: tx.In2202) -> tx.Empty:
    d = inp.data
    ctx.person(d.psn_no)
    ctx.db.lock("persons", "psn_no", [d.psn_no])        # not while a 2207 of the visit is settling it
    own_visit(ctx, d.mdtrt_id, d.psn_no)
    if visits.visit_settled(ctx.db, d.mdtrt_id):
        raise Refused("visit_settled", f"visit {d.mdtrt_id} has a settlement: reverse it first (2208)",
                      f"就诊ID{d.mdtrt_id}已结算,请先撤销结算(2208)")
    visits.mark_fees(ctx.db, d.mdtrt_id, "0000", setl_id=None, status="cancelled", from_status="uploaded")
    visits.cancel_visit(ctx.db, d.mdtrt_id)
    return tx.Empty()


def visit_info(ctx: Ctx, inp: tx.In2203) -> tx.Empty:
    m = inp.mdtrtinfo
    ctx.person(m.psn_no)
    ctx.db.lock("persons", "psn_no", [m.psn_no])
    own_visit(ctx, m.mdtrt_id, m.psn_no)
    if MedType.get(m.med_type) is None:
        raise Refused("med_type_unknown", f"med_type {m.med_type} is not one this centre settles "
                      f"({', '.join(MedType.values())})", f"医疗类别{m.med_type}不支持")
    visits.set_visit_info(ctx.db, m.mdtrt_id, m.med_type, m.dise_codg, m.dise_name)
    return tx.Empty()
