"""1101 who is this (by card number + card_sn, ID number, or e-voucher token) and X105 (by psn_no, card or
ID number, for the insurance office): baseinfo and insuinfo as the platform gives them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.interface.amounts import fen_to_yuan
from centre.interface.codes import Insutype, MdtrtCertType
from centre.interface.transactions import family as fam_tx
from centre.interface.transactions import person as tx
from centre.store import people
from centre.store.people import Person


def age_on(brdy: str | None, day: dt.date) -> Decimal:
    """Whole years on `day` (the platform's `age`, 4,1)."""
    try:
        born = dt.date.fromisoformat(brdy or "")
    except ValueError:
        return Decimal(0)
    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return Decimal(max(years, 0))


def base_info(p: Person, day: dt.date) -> tx.BaseInfo:
    return tx.BaseInfo(psn_no=p.psn_no, psn_cert_type="01", certno=p.certno, psn_name=p.psn_name,
                       gend=p.gend or "", naty=p.naty or "", brdy=p.brdy or None, age=age_on(p.brdy, day))


def insu_info(ctx: Ctx, p: Person) -> tx.InsuInfo:
    balc = people.balance(ctx.db, p.psn_no)
    return tx.InsuInfo(balc=fen_to_yuan(balc or 0), insutype=p.insutype,
                       psn_type=p.psn_type or ("11" if p.insutype == Insutype.EMPLOYEE else "15"),
                       psn_insu_stas=p.psn_insu_stas, psn_insu_date=p.psn_insu_date or None,
                       paus_insu_date=p.paus_insu_date or None, cvlserv_flag=p.cvlserv_flag or "0",
                       insuplc_admdvs=p.insuplc_admdvs, emp_name=p.emp_name or "")


def person_out(ctx: Ctx, p: Person) -> tx.Out1101:
    return tx.Out1101(baseinfo=base_info(p, ctx.now.date()), insuinfo=[insu_info(ctx, p)], idetinfo=[],
                      ext_card_no=p.card_no)


def person_info(ctx: Ctx, inp: tx.In1101) -> tx.Out1101:
    q = inp.data
    if q.mdtrt_cert_type == MdtrtCertType.SSCARD:
        found = people.person(ctx.db, card_no=q.mdtrt_cert_no)
        if found is None:
            raise Refused("card_unknown", f"no insured person holds card {q.mdtrt_cert_no}",
                          f"社会保障卡{q.mdtrt_cert_no}未查询到参保信息")
        if (found.card_sn or "").upper() != q.card_sn.upper():
            raise Refused("card_sn_mismatch", f"card {q.mdtrt_cert_no}: the card identification code does not match "
                          "the card issued (a replaced or forged card)",
                          f"社会保障卡{q.mdtrt_cert_no}的卡识别码与发卡信息不符(卡片已挂失、补换或非法)")
    elif q.mdtrt_cert_type == MdtrtCertType.ID_CARD:
        found = people.person(ctx.db, certno=q.mdtrt_cert_no)
        if found is None:
            raise Refused("certno_unknown", "no insured person with that ID number", "未查询到该证件号码的参保信息")
    else:
        from centre.handlers.voucher import person_of_token
        found = person_of_token(ctx, q.mdtrt_cert_no, q.certno)
    if q.certno and q.certno.upper() != found.certno:
        raise Refused("certno_mismatch", "certno does not match the credential's holder", "证件号码与就诊凭证持有人不符")
    return person_out(ctx, found)


def person_lookup(ctx: Ctx, inp: fam_tx.InX105) -> tx.Out1101:
    who = inp.data
    found = people.person(ctx.db, psn_no=who.psn_no, card_no=who.card_no, certno=who.certno)
    if found is None:
        raise Refused("person_unknown", "no insured person by that number", "未查询到该人员的参保信息")
    return person_out(ctx, found)
