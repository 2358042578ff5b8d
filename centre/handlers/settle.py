"""2206 pre-settle, 2207 settle, 2208 reverse, 5203 query: the money.

2207 runs in one write transaction: send back the wallet transfers whose return time has come (of the patient
and the owners who may pay), re-read the patient's standing, apply the formula, debit each account and the
wallet with a conditional update (never below zero), append the settlement, its ledger entries, its wallet
movement and the audit, move the year accumulators. A reversal (2208, or 2601 of a 2207) credits back exactly
what each source paid (prior-year money to the prior-year balance, wallet money to the wallet), as new rows.

The policy is the insured place's: the rules keyed to the patient's `insuplc_admdvs` when config has them
(`[[policy.rule]] admdvs`), else the centre's own; the catalogue is the centre's (就医地目录、参保地政策).
Whether accounts may pay class C items is the insured area's regional rule.
Every answer carries `setlinfo` in yuan with the national fields, and the project's `ext_` figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.handlers.family import relatives_of
from centre.handlers.person import age_on
from centre.handlers.visit import own_visit
from centre.handlers.voucher import check_credential
from centre.handlers.wallet import return_due
from centre.interface.amounts import fen_to_yuan, yuan_text, yuan_to_fen
from centre.interface.codes import (
    BindingScope,
    Insutype,
    MedType,
    PsnInsuStas,
    SetlStatus,
    clr_type_of,
    fund_pay_type_of,
)
from centre.interface.transactions import query as query_tx
from centre.interface.transactions import settle as tx
from centre.rules.presettle import PreSettlement, RelativeSource, YearToDate, presettle
from centre.store import money, people, visits
from centre.store.people import Person

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Standing:
    person: Person
    pre: PreSettlement
    hosp_lv: str
    class_c_rule_by: str = ""       # who says whether accounts pay class C (for the process text)


def _standing(ctx: Ctx, d: tx.Settle2206) -> Standing:
    """Everything 2206 and 2207 check and compute, from the store as it is now."""
    p = ctx.person(d.psn_no)
    check_credential(ctx, p, d.mdtrt_cert_type, d.mdtrt_cert_no, acct_used=d.acct_used_flag == "1")
    v = own_visit(ctx, d.mdtrt_id, d.psn_no)
    if v.insutype != d.insutype or p.insutype != d.insutype:
        raise Refused("insutype_mismatch", f"insutype {d.insutype} is not the visit's ({v.insutype})",
                      f"险种{d.insutype}与就诊登记的险种{v.insutype}不符")
    if MedType.get(d.med_type) is None:
        raise Refused("med_type_unknown", f"med_type {d.med_type} is not one this centre settles", f"医疗类别{d.med_type}不支持")
    if v.med_type and v.med_type != d.med_type:
        raise Refused("med_type_mismatch", f"med_type {d.med_type} is not the visit's ({v.med_type}, from 2203)",
                      f"医疗类别{d.med_type}与就诊信息(2203)中的{v.med_type}不符")
    if p.psn_insu_stas != PsnInsuStas.ACTIVE:
        stas = PsnInsuStas.get(p.psn_insu_stas)
        raise Refused("insurance_inactive", f"{p.psn_name}'s insurance is {stas.en if stas else p.psn_insu_stas}: "
                      "cannot settle with insurance (self-pay in full)",
                      f"{p.psn_name}的参保状态为{stas.zh if stas else p.psn_insu_stas},不能医保结算(请全额自费)")
    items = visits.uploaded(ctx.db, d.mdtrt_id, d.chrg_bchno)
    if not items:
        raise Refused("no_fees", f"visit {d.mdtrt_id} has no unsettled fee details (upload them with 2204)",
                      f"就诊{d.mdtrt_id}没有待结算的费用明细(请先上传2204)")
    total = sum(i.amount for i in items)
    if yuan_to_fen(d.medfee_sumamt, "medfee_sumamt") != total:
        raise Refused("medfee_mismatch", f"medfee_sumamt {d.medfee_sumamt} is not the sum of the uploaded details "
                      f"({fen_to_yuan(total)})", f"医疗费总额{d.medfee_sumamt}与上传的明细合计{fen_to_yuan(total)}不符")
    hosp_lv = ctx.hosp_lv()
    rule = ctx.settings.policy.rule_for(p.insutype, d.med_type, hosp_lv, p.insuplc_admdvs)
    use_account = d.acct_used_flag == "1"
    own_balc = people.balance(ctx.db, p.psn_no) if p.insutype == Insutype.EMPLOYEE else None
    sources = _sources(ctx, p, d.ext_mulaid_owners) if use_account else []
    ytd = YearToDate(*money.year_to_date(ctx.db, p.psn_no, ctx.now.year, rule.pool))
    class_c = ctx.regional(p.insuplc_admdvs).account_pays_class_c
    pre = presettle(items, rule, ytd=ytd, own_balc=own_balc, relatives=sources, acct_used_flag=use_account,
                    wallet_balc=people.wallet_balance(ctx.db, p.psn_no), class_c_from_account=bool(class_c.value))
    return Standing(p, pre, hosp_lv, class_c.where_zh)


def _sources(ctx: Ctx, p: Person, chosen: list[str] | None) -> list[RelativeSource]:
    """The bindings to draw on: every usable one in registration order, or the chosen owners in their order."""
    usable = [u.source for u in relatives_of(ctx, p, ctx.today)]
    if chosen is None:
        return usable
    by_owner = {s.owner_psn_no: s for s in usable}
    out: list[RelativeSource] = []
    for owner in chosen:
        if owner not in by_owner:
            raise Refused("no_binding", f"{owner} has no usable mutual-aid binding for {p.psn_no}",
                          f"{owner}与{p.psn_no}之间没有可用的共济绑定")
        if by_owner[owner] not in out:
            out.append(by_owner[owner])
    return out


def pre_settle(ctx: Ctx, inp: tx.In2206) -> tx.OutSettle:
    s = _standing(ctx, inp.data)
    d = inp.data
    row = _row(ctx, s, d, setl_id=None, status="presettle")
    return answer(ctx, row, s.person)


def settle(ctx: Ctx, inp: tx.In2207) -> tx.OutSettle:
    d = inp.data
    db = ctx.db
    db.lock("persons", "psn_no", [d.psn_no])
    # every account this settlement may draw on, locked before anything is read from it (on PostgreSQL)
    db.lock("accounts", "psn_no", [d.psn_no, *people.owners_of_user(db, d.psn_no)])
    return_due(ctx, [d.psn_no, *people.owners_of_user(db, d.psn_no)])
    s = _standing(ctx, d)
    pre = s.pre
    for field in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"):
        sent = getattr(d, field)
        if sent is not None and yuan_to_fen(sent, field) != getattr(pre, field):
            raise Refused("presettle_stale", f"{field} {sent} is not what the centre computes now "
                          f"({fen_to_yuan(getattr(pre, field))}): pre-settle again (2206)",
                          f"{field}{sent}与中心当前计算的{fen_to_yuan(getattr(pre, field))}不符,请重新预结算(2206)")
    if not d.ext_cash_allowed and pre.psn_cash_pay > 0:
        raise Refused("accounts_short", f"the accounts cover all but {yuan_text(pre.psn_cash_pay)}, and cash is not "
                      "taken here: nothing was charged", f"账户余额不足以支付个人负担部分(尚差{yuan_text(pre.psn_cash_pay)}),"
                      "此处不收现金,本次未扣费")
    setl_id = ctx.new_id("S")
    entries = _debit(ctx, s, setl_id)
    row = _row(ctx, s, d, setl_id=setl_id, status=SetlStatus.SETTLED.value)
    money.insert_settlement(db, row)
    money.insert_ledger(db, entries)
    money.add_to_year(db, s.person.psn_no, ctx.now.year, pre.act_pay_dedc, pre.fund_pay_sumamt, pre.rule.pool)
    visits.mark_fees(db, d.mdtrt_id, d.chrg_bchno, setl_id=setl_id, status="settled", from_status="uploaded")
    money.add_audit(db, at=ctx.at, fixmedins_code=ctx.env.fixmedins_code, opter=ctx.env.opter, action="settle",
                    subject=s.person.psn_no, detail={"setl_id": setl_id, "msgid": ctx.env.msgid,
                                                     "medfee_sumamt": pre.medfee_sumamt, "acct_pay": pre.acct_pay,
                                                     "wallet_pay": pre.wallet_pay,
                                                     "acct_mulaid_pay": pre.acct_mulaid_pay,
                                                     "psn_cash_pay": pre.psn_cash_pay})
    return answer(ctx, row, s.person)


def _debit(ctx: Ctx, s: Standing, setl_id: str) -> list[tuple[Any, ...]]:
    """Take each account's part and the wallet's with a conditional update; the ledger rows (the wallet's part is a
    movement, written here too). Refuses if any would overdraw."""
    db, pre, p = ctx.db, s.pre, s.person
    at, day, hosp, year = ctx.at, ctx.today, ctx.env.fixmedins_code, ctx.now.year
    entries: list[tuple[Any, ...]] = []
    if pre.own_acct_pay:
        taken = people.take_balance(db, p.psn_no, pre.own_acct_pay, year=year)
        if taken is None:
            raise Refused("insufficient_balance", f"{p.psn_name}'s account no longer holds {yuan_text(pre.own_acct_pay)}",
                          f"{p.psn_name}的个人账户余额不足{yuan_text(pre.own_acct_pay)}")
        entries.append((setl_id, "own", "balc", p.psn_no, None, pre.own_acct_pay, taken[0], at, hosp, day, taken[1]))
    if pre.wallet_pay:
        if people.take_wallet(db, p.psn_no, pre.wallet_pay) is None:
            raise Refused("insufficient_balance", f"{p.psn_name}'s wallet no longer holds {yuan_text(pre.wallet_pay)}",
                          f"{p.psn_name}的医保钱包余额不足{yuan_text(pre.wallet_pay)}")
        people.add_movement(db, kind="wallet_pay", psn_no=p.psn_no, binding_id=None, balc_delta=0, quota_delta=0,
                            at=at, ref=setl_id, wallet_delta=-pre.wallet_pay)
    for part in pre.mulaid:
        prior_part = 0
        if part.scope == BindingScope.CROSS_PROVINCE:
            after = people.take_quota(db, part.binding_id, part.amount)
            source = "quota"
        else:
            taken = people.take_balance(db, part.owner_psn_no, part.amount, year=year, prior_only=part.prior_only)
            after, prior_part = (None, 0) if taken is None else taken
            source = "balc"
        if after is None:
            raise Refused("insufficient_balance", f"{part.owner_name}'s account no longer holds {yuan_text(part.amount)}",
                          f"共济人{part.owner_name}的账户余额不足{yuan_text(part.amount)}")
        entries.append((setl_id, "binding", source, part.owner_psn_no, part.binding_id, part.amount, after, at, hosp,
                        day, prior_part))
    entries.append((setl_id, "fund", None, p.psn_no, None, pre.fund_pay_sumamt, None, at, hosp, day, 0))
    entries.append((setl_id, "cash", None, p.psn_no, None, pre.psn_cash_pay, None, at, hosp, day, 0))
    return entries


def _row(ctx: Ctx, s: Standing, d: tx.Settle2206, *, setl_id: str | None, status: str) -> dict[str, Any]:
    pre, p = s.pre, s.person
    return {
        "setl_id": setl_id, "mdtrt_id": d.mdtrt_id, "msgid": ctx.env.msgid, "psn_no": p.psn_no,
        "fixmedins_code": ctx.env.fixmedins_code, "opter": ctx.env.opter, "med_type": d.med_type,
        "insutype": p.insutype, "mdtrt_cert_type": d.mdtrt_cert_type, "mdtrt_cert_no": d.mdtrt_cert_no,
        "hosp_lv": s.hosp_lv, "acct_used_flag": d.acct_used_flag,
        **{f: getattr(pre, f) for f in ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt",
                                        "inscp_scp_amt", "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt",
                                        "acct_pay", "acct_mulaid_pay", "psn_cash_pay")},
        # the stored own_acct_pay is the patient's own money (acct_pay = own_acct_pay + acct_mulaid_pay): the own
        # account and the wallet; wallet_pay says how much of it the wallet paid
        "own_acct_pay": pre.own_acct_pay + pre.wallet_pay, "wallet_pay": pre.wallet_pay,
        "pool": pre.rule.pool, "policy_admdvs": pre.rule.admdvs or "",
        "balc": pre.balc or 0, "has_account": 1 if pre.balc is not None else 0,
        "mulaid": [{"owner_psn_no": m.owner_psn_no, "owner_name": m.owner_name, "binding_id": m.binding_id,
                    "scope": m.scope, "amount": m.amount, **({"prior_only": True} if m.prior_only else {})}
                   for m in pre.mulaid],
        "status": status, "setl_time": ctx.at, "setl_date": ctx.today, "reversal_of": None,
        "clr_type": clr_type_of(d.med_type).value, "insuplc_admdvs": p.insuplc_admdvs,
        "pool_prop_selfpay": str(pre.rule.ratio),
        # for setldetail: the cap left before this settlement, and how the fund's share was reached
        "_cap_left": max(0, pre.rule.annual_cap - (pre.ytd_after.fund_paid - pre.fund_pay_sumamt)),
        "_proc": _process_text(s),
        "_wallet_balc": pre.wallet_balc, "_class_c": pre.class_c_from_account,
        "_class_c_cash": 0 if pre.class_c_from_account else pre.fulamt_ownpay_amt, "_class_c_by": s.class_c_rule_by,
    }


POOL_ZH = {"shared": "", "outpatient": "(门诊累计)", "inpatient": "(住院累计)"}


def _process_text(s: Standing) -> str:
    """How the fund's share and the accounts' part were reached, in the cashier's words (setl_proc_info)."""
    pre, rule = s.pre, s.pre.rule
    text = (f"{rule.describe()[1]}:起付线{yuan_text(rule.deductible)}"
            f"({'年度' if rule.deductible_scope == 'year' else '每次'}{POOL_ZH[rule.pool]}),"
            f"本次起付{yuan_text(pre.act_pay_dedc)},支付比例{rule.ratio},年度限额{yuan_text(rule.annual_cap)}"
            f"{POOL_ZH[rule.pool]}")
    if pre.wallet_pay:
        text += f";医保钱包支付{yuan_text(pre.wallet_pay)}"
    if not pre.class_c_from_account and pre.fulamt_ownpay_amt:
        text += f";{s.class_c_rule_by}规定丙类费用{yuan_text(pre.fulamt_ownpay_amt)}不得使用个人账户,须现金支付"
    return text


POOL_WORDS = {"outpatient": ("outpatient", "门诊"), "inpatient": ("inpatient", "住院")}


def explain(row: dict[str, Any]) -> list[tx.Explained]:
    """What a window tells the patient about how this settlement was reached, beyond the figures (en, zh)."""
    out = []
    area = row.get("policy_admdvs")
    if area:
        out.append(tx.Explained(
            en=f"Settled with the policy of the insured place {area}: its deductible, ratio and annual cap; the "
               "catalogue (which items are class A, B or C) is this place's",
            zh=f"按参保地({area})政策结算:起付线、支付比例、年度限额按参保地规定,目录按就医地"))
    pool = row.get("pool", "shared")
    if pool in POOL_WORDS:
        en, zh = POOL_WORDS[pool]
        out.append(tx.Explained(
            en=f"This policy keeps outpatient and inpatient yearly totals apart: this settlement counts toward the "
               f"{en} deductible and cap", zh=f"该政策门诊、住院分别累计起付线和年度限额,本次计入{zh}累计"))
    wallet = abs(int(row.get("wallet_pay") or 0))
    if wallet:
        out.append(tx.Explained(
            en=f"{yuan_text(wallet)} from the patient's insurance wallet: money a relative transferred earlier, now "
               "the patient's own; it counts as account payment (acct_pay), not as mutual aid",
            zh=f"医保钱包支付{yuan_text(wallet)}:亲属此前转入、已属本人的资金,计入个人账户支出,不计入共济支付"))
    for m in row["mulaid"]:
        if m.get("prior_only"):
            amount = yuan_text(abs(m["amount"]))
            out.append(tx.Explained(
                en=f"{m.get('owner_name', '')}'s area shares only the prior-year balance: {amount} from it",
                zh=f"{m.get('owner_name', '')}所在地只允许历年结余共济,本次使用其历年结余{amount}"))
    if row.get("_class_c_cash"):
        cash = yuan_text(row["_class_c_cash"])
        out.append(tx.Explained(
            en=f"{row.get('_class_c_by', '')} does not let accounts pay class C (fully self-paid) items: {cash} in cash",
            zh=f"{row.get('_class_c_by', '')}规定丙类(全自费)费用不得使用个人账户,{cash}须现金支付"))
    return out


def answer(ctx: Ctx, row: dict[str, Any], p: Person) -> tx.OutSettle:
    """setlinfo and setldetail of a settlement row (stored, about to be, or a pre-settlement)."""
    y = fen_to_yuan
    day = dt.date.fromisoformat(row["setl_date"])
    info = tx.SetlInfo(
        mdtrt_id=row["mdtrt_id"], setl_id=row["setl_id"], psn_no=p.psn_no, psn_name=p.psn_name, psn_cert_type="01",
        certno=p.certno, gend=p.gend or "", naty=p.naty or "", brdy=p.brdy or None, age=age_on(p.brdy, day),
        insutype=row["insutype"], psn_type=p.psn_type or ("11" if p.insutype == Insutype.EMPLOYEE else "15"),
        cvlserv_flag=p.cvlserv_flag or "0",
        setl_time=row["setl_time"] if row["status"] != "presettle" else None,
        mdtrt_cert_type=row["mdtrt_cert_type"], med_type=row["med_type"],
        medfee_sumamt=y(row["medfee_sumamt"]), fulamt_ownpay_amt=y(row["fulamt_ownpay_amt"]),
        overlmt_selfpay=y(row["overlmt_selfpay"]), preselfpay_amt=y(row["preselfpay_amt"]),
        inscp_scp_amt=y(row["inscp_scp_amt"]), act_pay_dedc=y(row["act_pay_dedc"]),
        hifp_pay=y(row["fund_pay_sumamt"]), pool_prop_selfpay=Decimal(row["pool_prop_selfpay"]),
        cvlserv_pay=ZERO, hifes_pay=ZERO, hifmi_pay=ZERO, hifob_pay=ZERO, maf_pay=ZERO, oth_pay=ZERO,
        fund_pay_sumamt=y(row["fund_pay_sumamt"]), psn_part_amt=y(row["psn_part_amt"]), acct_pay=y(row["acct_pay"]),
        psn_cash_pay=y(row["psn_cash_pay"]), hosp_part_amt=ZERO, balc=y(row["balc"]),
        acct_mulaid_pay=y(row["acct_mulaid_pay"]), medins_setl_id=row["msgid"], clr_optins=p.insuplc_admdvs,
        clr_way="1", clr_type=row["clr_type"], ext_own_acct_pay=y(row["own_acct_pay"] - row.get("wallet_pay", 0)),
        ext_wallet_pay=y(row.get("wallet_pay", 0)),
        ext_wallet_balc=y(row["_wallet_balc"] if "_wallet_balc" in row else people.wallet_balance(ctx.db, p.psn_no)),
        ext_policy_admdvs=row.get("policy_admdvs") or None, ext_pool=row.get("pool", "shared"),
        ext_class_c_from_account=row.get("_class_c"), ext_explain=explain(row),
        ext_mulaid=[tx.MulaidPart(owner_psn_no=m["owner_psn_no"], owner_name=m.get("owner_name", ""),
                                  binding_id=m["binding_id"], scope=m["scope"], amount=y(m["amount"]))
                    for m in row["mulaid"]],
        ext_status=row["status"], ext_reversal_of=row.get("reversal_of"), ext_has_account=bool(row["has_account"]))
    sign = -1 if row["status"] == SetlStatus.REVERSAL else 1
    detail = tx.SetlDetail(
        fund_pay_type=fund_pay_type_of(row["insutype"]).value, inscp_scp_amt=y(row["inscp_scp_amt"]),
        crt_payb_lmt_amt=y(sign * row.get("_cap_left", 0)), fund_payamt=y(row["fund_pay_sumamt"]),
        fund_pay_type_name=fund_pay_type_of(row["insutype"]).zh, setl_proc_info=row.get("_proc", ""))
    return tx.OutSettle(setlinfo=info, setldetail=[detail])


def reverse_settlement(ctx: Ctx, orig: dict[str, Any], *, same_day: bool) -> dict[str, Any]:
    """Write the reversal of a settled row (new row, negated ledger entries, accumulators back); returns it."""
    db = ctx.db
    setl_id = orig["setl_id"]
    if orig["status"] == SetlStatus.REVERSAL:
        raise Refused("is_reversal", f"{setl_id} is itself a reversal", f"{setl_id}本身是冲正记录,不能撤销")
    if orig["status"] == SetlStatus.REVERSED:
        raise Refused("already_reversed", f"{setl_id} was already reversed: it cannot be reversed again",
                      f"结算{setl_id}已撤销,不能再次撤销")
    if same_day and orig["setl_date"] != ctx.today:
        raise Refused("not_same_day", f"{setl_id} was settled on {orig['setl_date']}: only same-day reversal "
                      f"(today is {ctx.today})", f"只能撤销当日结算({setl_id}结算于{orig['setl_date']})")
    new_id = ctx.new_id("S")
    at, day, hosp, year = ctx.at, ctx.today, ctx.env.fixmedins_code, ctx.now.year
    ledger = money.ledger_of(db, setl_id)
    db.lock("accounts", "psn_no", sorted({psn for _a, src, psn, _b, _x, _p in ledger if src is not None}))
    last_year = int(orig["setl_date"][:4]) < year    # what was this year's money then is prior-year money now
    entries = []
    for account, source, psn_no, binding_id, amount, prior_part in ledger:
        after = None
        back_prior = amount if last_year else prior_part
        if source == "balc":
            after = people.give_balance(db, psn_no, amount, year=year, prior_part=back_prior)
            if after is None:
                raise Refused("account_missing", f"the account of {psn_no} is gone: cannot credit back",
                              f"{psn_no}的个人账户不存在,无法退回")
        elif source == "quota":
            after = people.give_quota(db, binding_id, amount) if binding_id is not None else None
            if after is None:   # the binding ended meanwhile: its quota went home to the owner, so does this
                source, after = "balc", people.give_balance(db, psn_no, amount, year=year,
                                                            prior_part=amount if last_year else 0)
                back_prior = amount if last_year else 0
        entries.append((new_id, account, source, psn_no, binding_id, -amount, after, at, hosp, day,
                        -back_prior if source == "balc" else 0))
    wallet_back = int(orig.get("wallet_pay") or 0)
    if wallet_back:
        people.give_wallet(db, orig["psn_no"], wallet_back)
        people.add_movement(db, kind="wallet_refund", psn_no=orig["psn_no"], binding_id=None, balc_delta=0,
                            quota_delta=0, at=at, ref=new_id, wallet_delta=wallet_back)
    money.take_from_year(db, orig["psn_no"], int(orig["setl_date"][:4]), orig["act_pay_dedc"], orig["fund_pay_sumamt"],
                         orig.get("pool") or "shared")
    money.mark_reversed(db, setl_id)
    own_now = people.balance(db, orig["psn_no"])
    row = {**orig, **{f: -orig[f] for f in ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt",
                                           "inscp_scp_amt", "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt",
                                           "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "own_acct_pay",
                                           "wallet_pay")},
           "setl_id": new_id, "msgid": ctx.env.msgid, "fixmedins_code": hosp, "opter": ctx.env.opter,
           "status": SetlStatus.REVERSAL.value, "balc": own_now or 0, "setl_time": at, "setl_date": day,
           "reversal_of": setl_id, "mulaid": [{**m, "amount": -m["amount"]} for m in orig["mulaid"]]}
    money.insert_settlement(db, row)
    money.insert_ledger(db, entries)
    visits.release_fees(db, setl_id)
    money.add_audit(db, at=at, fixmedins_code=hosp, opter=ctx.env.opter, action="reverse", subject=orig["psn_no"],
                    detail={"setl_id": new_id, "reversal_of": setl_id, "msgid": ctx.env.msgid})
    return row


def reverse(ctx: Ctx, inp: tx.In2208) -> tx.OutSettle:
    d = inp.data
    p = ctx.person(d.psn_no)
    ctx.db.lock("persons", "psn_no", [p.psn_no])       # before the settlement's status is read
    orig = money.settlement(ctx.db, d.setl_id)
    if orig is None or orig["fixmedins_code"] != ctx.env.fixmedins_code:
        raise Refused("settlement_unknown", f"no settlement {d.setl_id} at this hospital", f"结算ID{d.setl_id}不存在")
    if orig["psn_no"] != p.psn_no or orig["mdtrt_id"] != d.mdtrt_id:
        raise Refused("settlement_not_yours", f"settlement {d.setl_id} is not of {d.psn_no}'s visit {d.mdtrt_id}",
                      f"结算ID{d.setl_id}与人员或就诊ID不符")
    return answer(ctx, reverse_settlement(ctx, orig, same_day=True), p)


def query(ctx: Ctx, inp: query_tx.In5203) -> tx.OutSettle:
    d = inp.data
    p = ctx.person(d.psn_no)
    row = money.settlement(ctx.db, d.setl_id)
    if row is None or row["psn_no"] != p.psn_no or row["mdtrt_id"] != d.mdtrt_id \
            or row["fixmedins_code"] != ctx.env.fixmedins_code:
        raise Refused("settlement_unknown", f"no settlement {d.setl_id} of {d.psn_no}'s visit {d.mdtrt_id}",
                      f"未查询到结算信息({d.setl_id})")
    return answer(ctx, row, p)
