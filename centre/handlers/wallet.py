"""The insurance wallet (医保钱包) at the insurance office: X111 transfer, X112 accept, X113 a wallet, X114 the
return of unaccepted transfers, and X121 the regional rules of an area. Project-defined (see
`centre.interface.transactions.wallet`).

A transfer needs an active binding from the owner to the relative that still passes the rules (the relation,
both insured and active, for two provinces both pooling areas open and both provinces joined): the binding
says who the relative is; the wallet carries the money. The owner's account pays it at once (this year's
balance first, or only the prior-year balance where the owner's area shares only 历年结余); it waits as
`pending` until the relative accepts, or goes back to the owner at the return time. Every movement of money is
a `movements` row (ref `transfer:<id>`), so `centre.store.money.drifts` ties wallets and transfers to their
history. Due returns happen before any wallet transaction and any 2207 that touches the people concerned,
and for everyone with X114.
"""

from __future__ import annotations

import datetime as dt

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.interface.amounts import fen_to_yuan, yuan_text, yuan_to_fen
from centre.interface.envelope import time_text
from centre.interface.transactions import wallet as tx
from centre.rules import mutual_aid as rules
from centre.rules.regional import FIELDS, explain, refuse_prior_year_only
from centre.rules.wallet import WalletLimits, check_transfer, hm
from centre.store import people
from centre.store.money import add_audit
from centre.store.people import Person, Transfer

STATE_ZH = {"pending": "待接收", "accepted": "已接收", "returned": "已退回"}
HISTORY_DAYS = 30


def _ref(transfer_id: int) -> str:
    return f"transfer:{transfer_id}"


def record(ctx: Ctx, t: Transfer) -> tx.TransferRecord:
    names = people.names(ctx.db, [t.owner_psn_no, t.user_psn_no])
    return tx.TransferRecord(transfer_id=t.id, owner_psn_no=t.owner_psn_no, owner_name=names.get(t.owner_psn_no, ""),
                             user_psn_no=t.user_psn_no, user_name=names.get(t.user_psn_no, ""),
                             amount=fen_to_yuan(t.amount), state=t.state, state_name=STATE_ZH[t.state],
                             made_at=t.made_at, due_at=t.due_at, closed_at=t.closed_at)


def limits_out(limits: WalletLimits) -> tx.Limits:
    en, zh = limits.explain()
    return tx.Limits(transfers_per_day=limits.transfers_per_day, max_transfer=fen_to_yuan(limits.max_transfer),
                     closed_from=hm(limits.closed_from), closed_until=hm(limits.closed_until),
                     return_at=hm(limits.return_at), en=en, zh=zh)


def return_due(ctx: Ctx, psn_nos: list[str] | None) -> list[Transfer]:
    """Send back every pending transfer of these persons (None: everyone's) whose return time has come."""
    db = ctx.db
    due = people.due_transfers(db, ctx.at, psn_nos)
    if not due:
        return []
    db.lock("accounts", "psn_no", sorted({t.owner_psn_no for t in due}))
    out = []
    for t in due:
        if not people.close_transfer(db, t.id, "returned", t.due_at):
            continue
        # this year's money of a transfer made last year is prior-year money by now
        prior = t.amount if int(t.made_date[:4]) < ctx.now.year else t.prior_part
        if people.give_balance(db, t.owner_psn_no, t.amount, year=ctx.now.year, prior_part=prior) is None:
            raise Refused("account_missing", f"{t.owner_psn_no}'s account is gone: transfer {t.id} cannot go back",
                          f"{t.owner_psn_no}的个人账户不存在,转账{t.id}无法退回")
        people.add_movement(db, kind="wallet_return", psn_no=t.owner_psn_no, binding_id=t.binding_id,
                            balc_delta=t.amount, quota_delta=0, at=ctx.at, ref=_ref(t.id), prior_delta=prior)
        add_audit(db, at=ctx.at, fixmedins_code=ctx.env.fixmedins_code, opter=ctx.env.opter, action="wallet_return",
                  subject=f"transfer:{t.id}", detail={"owner_psn_no": t.owner_psn_no, "user_psn_no": t.user_psn_no,
                                                      "amount": t.amount, "due_at": t.due_at})
        done = people.transfer(db, t.id)
        assert done is not None
        out.append(done)
    return out


def _binding_problem(ctx: Ctx, owner: Person, user: Person) -> Refused | None:
    """Why the owner may not transfer to this relative now (no binding, or it no longer passes the rules)."""
    db = ctx.db
    b = people.active_binding(db, owner.psn_no, user.psn_no)
    if b is None or not rules.in_force(b.status, b.begin_date, b.end_date, ctx.today):
        return Refused("no_binding", f"{owner.psn_name} has not bound {user.psn_name}: bind them at the insurance "
                       "office first (`cashier bind`, the owner's card and PIN)",
                       f"{owner.psn_name}未绑定{user.psn_name},请先在医保经办窗口办理家庭共济绑定(`cashier bind`,"
                       "需授权人社保卡和密码)")
    crossing = b.scope == "cross_province"
    areas = ((people.pooling_area(db, owner.insuplc_admdvs), people.pooling_area(db, user.insuplc_admdvs))
             if crossing else (None, None))
    since = ((ctx.regional(owner.insuplc_admdvs).cross_province_since,
              ctx.regional(user.insuplc_admdvs).cross_province_since) if crossing else (None, None))
    return rules.payable_problem(ctx.settings.mutual_aid, owner.party(people.balance(db, owner.psn_no)),
                                 user.party(None), b.relation, b.begin_date, b.scope, *areas, *since)


def transfer(ctx: Ctx, inp: tx.InX111) -> tx.OutX111:
    d = inp.data
    policy = ctx.settings.mutual_aid
    if not policy.wallet_model:
        raise _wallet_off()
    owner = ctx.person(d.owner_psn_no)
    from centre.handlers.family import _named
    user = _named(ctx, d.user)
    amount = yuan_to_fen(d.amount, "amount")
    db = ctx.db
    db.lock("accounts", "psn_no", [owner.psn_no])
    return_due(ctx, [owner.psn_no, user.psn_no])
    prior_only, balc = _check(ctx, owner, user, amount)
    taken = people.take_balance(db, owner.psn_no, amount, year=ctx.now.year, prior_only=prior_only)
    if taken is None:
        raise _short(owner, balc, amount)
    binding = people.active_binding(db, owner.psn_no, user.psn_no)
    tid = people.add_transfer(db, owner=owner.psn_no, user=user.psn_no, binding_id=binding.id if binding else None,
                              amount=amount, prior_part=taken[1], made_at=ctx.at,
                              due_at=time_text(policy.wallet.due(ctx.now)), msgid=ctx.env.msgid,
                              fixmedins_code=ctx.env.fixmedins_code, opter=ctx.env.opter)
    people.add_movement(db, kind="wallet_out", psn_no=owner.psn_no, binding_id=binding.id if binding else None,
                        balc_delta=-amount, quota_delta=0, at=ctx.at, ref=_ref(tid), prior_delta=-taken[1])
    add_audit(db, at=ctx.at, fixmedins_code=ctx.env.fixmedins_code, opter=ctx.env.opter, action="wallet_transfer",
              subject=_ref(tid), detail={"owner_psn_no": owner.psn_no, "user_psn_no": user.psn_no, "amount": amount,
                                         "msgid": ctx.env.msgid})
    t = people.transfer(db, tid)
    assert t is not None
    after = people.split(db, owner.psn_no, ctx.now.year) or (0, 0)
    return tx.OutX111(transfer=record(ctx, t), owner_balc=fen_to_yuan(after[0]), owner_prior_balc=fen_to_yuan(after[1]),
                      transfers_left_today=_left_today(ctx, owner.psn_no), limits=limits_out(policy.wallet))


def _wallet_off() -> Refused:
    return Refused("wallet_off", "this centre runs cross-province mutual aid by quota ([mutual_aid.options] "
                   "cross_province_model = \"quota\"): no wallet transfers",
                   "本中心跨省共济采用共济额度方式,不办理医保钱包转账")


def _check(ctx: Ctx, owner: Person, user: Person, amount: int) -> tuple[bool, int]:
    """Every rule a transfer must pass, in the order X111 refuses (the pair, the binding, the hours, the amount,
    the transfers today, the region's prior-year rule, the balance); nothing moved. (prior-year only, balance)."""
    db = ctx.db
    rules.check_not_self(owner.party(None), user.party(None))
    problem = _binding_problem(ctx, owner, user)
    if problem is not None:
        raise problem
    check_transfer(ctx.settings.mutual_aid.wallet, amount=amount, at=ctx.now,
                   made_today=people.transfers_made_on(db, owner.psn_no, ctx.today))
    owner_rules = ctx.regional(owner.insuplc_admdvs)
    prior_only = bool(owner_rules.share_prior_year_only.value)
    balc, prior = people.split(db, owner.psn_no, ctx.now.year) or (0, 0)
    if prior_only and amount > prior:
        raise refuse_prior_year_only(owner_rules, owner.psn_name, amount, prior)
    if not prior_only and amount > balc:
        raise _short(owner, balc, amount)
    return prior_only, balc


def _short(owner: Person, balc: int, amount: int) -> Refused:
    return Refused("insufficient_balance", f"{owner.psn_name}'s account holds {yuan_text(balc)}, less than "
                   f"{yuan_text(amount)}", f"{owner.psn_name}的个人账户余额{yuan_text(balc)},不足{yuan_text(amount)}")


def _left_today(ctx: Ctx, owner: str) -> int:
    limit = ctx.settings.mutual_aid.wallet.transfers_per_day
    return max(0, limit - people.transfers_made_on(ctx.db, owner, ctx.today))


def accept(ctx: Ctx, inp: tx.InX112) -> tx.OutX112:
    d = inp.data
    user = ctx.person(d.user_psn_no)
    db = ctx.db
    return_due(ctx, [user.psn_no])
    t = people.transfer(db, d.transfer_id)
    if t is None or t.user_psn_no != user.psn_no:
        raise Refused("transfer_unknown", f"{user.psn_name} has no transfer {d.transfer_id}",
                      f"{user.psn_name}没有编号为{d.transfer_id}的转账")
    if t.state == "returned":
        raise Refused("transfer_returned", f"transfer {t.id} was not accepted in time: it went back to the owner at "
                      f"{t.closed_at}", f"转账{t.id}未在规定时间内接收,已于{t.closed_at}退回授权人个人账户")
    if t.state == "accepted":
        raise Refused("transfer_accepted", f"transfer {t.id} was accepted already (at {t.closed_at})",
                      f"转账{t.id}已于{t.closed_at}接收")
    if not people.close_transfer(db, t.id, "accepted", ctx.at):
        raise Refused("transfer_unknown", f"transfer {t.id} is no longer pending", f"转账{t.id}已不是待接收状态")
    wallet = people.give_wallet(db, user.psn_no, t.amount)
    people.add_movement(db, kind="wallet_in", psn_no=user.psn_no, binding_id=t.binding_id, balc_delta=0,
                        quota_delta=0, at=ctx.at, ref=_ref(t.id), wallet_delta=t.amount)
    add_audit(db, at=ctx.at, fixmedins_code=ctx.env.fixmedins_code, opter=ctx.env.opter, action="wallet_accept",
              subject=_ref(t.id), detail={"user_psn_no": user.psn_no, "amount": t.amount, "msgid": ctx.env.msgid})
    done = people.transfer(db, t.id)
    assert done is not None
    return tx.OutX112(transfer=record(ctx, done), wallet_balc=fen_to_yuan(wallet))


def wallet(ctx: Ctx, inp: tx.InX113) -> tx.OutX113:
    p = ctx.person(inp.data.psn_no)
    check = inp.data.ext_transfer_check
    if check is not None:     # the transfer the owner means to make: refused as X111 would refuse it, or answered
        if not ctx.settings.mutual_aid.wallet_model:
            raise _wallet_off()
        from centre.handlers.family import _named
        user = _named(ctx, check.user)
        return_due(ctx, [p.psn_no, user.psn_no])
        _check(ctx, p, user, yuan_to_fen(check.amount, "amount"))
    returned = return_due(ctx, [p.psn_no])
    since = (ctx.now.date() - dt.timedelta(days=HISTORY_DAYS)).isoformat()
    mine = people.transfers_of(ctx.db, p.psn_no, since)
    limits = ctx.settings.mutual_aid.wallet
    return tx.OutX113(wallet_balc=fen_to_yuan(people.wallet_balance(ctx.db, p.psn_no)),
                      received=[record(ctx, t) for t in mine if t.user_psn_no == p.psn_no],
                      made=[record(ctx, t) for t in mine if t.owner_psn_no == p.psn_no],
                      transfers_left_today=_left_today(ctx, p.psn_no), transfer_open_now=not limits.closed(ctx.now),
                      limits=limits_out(limits), returned_now=[t.id for t in returned])


def return_all(ctx: Ctx, inp: tx.InX114) -> tx.OutX114:
    return tx.OutX114(returned=[record(ctx, t) for t in return_due(ctx, None)])


def region_rules(ctx: Ctx, inp: tx.InX121) -> tx.OutX121:
    admdvs = inp.data.admdvs
    area = people.pooling_area(ctx.db, admdvs)
    found = ctx.regional(admdvs)
    out = []
    for field in FIELDS:
        said = getattr(found, field)
        en, zh = explain(field, said)
        out.append(tx.RuleText(rule=field, value=said.value, region_admdvs=said.admdvs,
                               region_name=said.name if said.admdvs else "全国默认", en=en, zh=zh))
    policy = ctx.settings.mutual_aid
    return tx.OutX121(admdvs=admdvs, area_name=area.name if area else "", cross_province_open=bool(area and
                      area.cross_province), cross_province_model=policy.cross_province_model, rules=out,
                      wallet=limits_out(policy.wallet))
