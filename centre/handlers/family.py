"""Who may pay for whom: the relatives' accounts a patient may draw on today (X101, and 2206/2207 itself),
and binding at the insurance office (X102 bind, X103 unbind, X104 an owner's bindings). Project-defined.

A relative appears when the binding is active and in force today, the user's insurance is active, and the
binding still passes the rules as they stood on its begin_date (defence in depth, whatever put it in the
database): owner an active employee (310) with an account, relation allowed and agreeing with the user's
sex, scope matching the provinces, a cross-province binding begun on or after the day both provinces joined
(the regional rules) with both pooling areas open. `available` is what the owner may share of their balance
(local: all of it, or only the prior-year balance where the owner's area says so) or the remaining quota
(cross-province; nothing under the wallet model, where the money goes through the patient's wallet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.interface import relations
from centre.interface.amounts import fen_to_yuan, yuan_to_fen
from centre.interface.codes import BindingScope
from centre.interface.transactions import family as tx
from centre.rules import mutual_aid as rules
from centre.rules.mutual_aid import Party
from centre.rules.presettle import RelativeSource
from centre.store import people
from centre.store.people import Binding, Person


@dataclass(frozen=True)
class Usable:
    """A binding that can pay for its user today, and how."""

    source: RelativeSource
    relation: str
    begin_date: str
    pays_by: str        # balance | prior_year | quota | wallet


def relatives_of(ctx: Ctx, user: Person, on_date: str) -> list[Usable]:
    """Each binding that can pay for `user` on the date, oldest first."""
    rows = people.binding_rows_of_user(ctx.db, user.psn_no)
    if not rows:
        return []
    policy = ctx.settings.mutual_aid
    user_party = user.party(None)
    year = int(on_date[:4])
    out = []
    for (bid, owner, owner_name, rel, scope, quota, begin, end, balc, insutype, stas, admdvs, gend) in rows:
        if not rules.in_force("active", begin, end, on_date):
            continue
        owner_party = Party(owner, owner_name, insutype, stas, admdvs, gend, balc)
        owner_rules = ctx.regional(admdvs)
        crossing = scope == BindingScope.CROSS_PROVINCE
        areas = ((people.pooling_area(ctx.db, admdvs), people.pooling_area(ctx.db, user.insuplc_admdvs))
                 if crossing else (None, None))
        since = ((owner_rules.cross_province_since, ctx.regional(user.insuplc_admdvs).cross_province_since)
                 if crossing else (None, None))
        if rules.payable_problem(policy, owner_party, user_party, rel, begin, scope, *areas, *since) is not None:
            continue
        prior_only = bool(owner_rules.share_prior_year_only.value) and not crossing
        share = people.shareable(ctx.db, owner, year, prior_only) if prior_only else balc
        if crossing:
            pays_by = "quota" if quota or not policy.wallet_model else "wallet"
        else:
            pays_by = "prior_year" if prior_only else "balance"
        out.append(Usable(RelativeSource(owner, owner_name, int(bid), scope, rules.available(scope, share, quota),
                                         prior_only), rel, begin, pays_by))
    return out


def family(ctx: Ctx, inp: tx.InX101) -> tx.OutX101:
    p = ctx.person(inp.data.psn_no)
    on_date = inp.data.ext_on_date or ctx.today
    found = people.split(ctx.db, p.psn_no, int(on_date[:4]))
    usable = relatives_of(ctx, p, on_date) if p.psn_insu_stas == "1" else []
    return tx.OutX101(
        own=tx.OwnAccount(has_account=found is not None, balc=fen_to_yuan(found[0] if found else 0),
                          prior_balc=fen_to_yuan(found[1] if found else 0),
                          wallet_balc=fen_to_yuan(people.wallet_balance(ctx.db, p.psn_no))),
        relatives=[tx.Relative(binding_id=u.source.binding_id, owner_psn_no=u.source.owner_psn_no,
                               owner_name=u.source.owner_name, relation=u.relation,
                               relation_name=relations.name(u.relation), scope=u.source.scope,
                               available=fen_to_yuan(u.source.available), begin_date=u.begin_date, pays_by=u.pays_by)
                   for u in usable])


def _named(ctx: Ctx, who: tx.Who) -> Person:
    found = people.person(ctx.db, psn_no=who.psn_no, card_no=who.card_no, certno=who.certno)
    if found is None:
        raise Refused("person_unknown", "no insured person by that number", "未查询到该人员的参保信息")
    return found


def record(ctx: Ctx, b: Binding) -> tx.BindingRecord:
    owner = people.person(ctx.db, psn_no=b.owner_psn_no)
    user = people.person(ctx.db, psn_no=b.user_psn_no)
    return tx.BindingRecord(
        binding_id=b.id, owner_psn_no=b.owner_psn_no, owner_name=owner.psn_name if owner else "",
        user_psn_no=b.user_psn_no, user_name=user.psn_name if user else "", user_card_no=user.card_no if user else None,
        relation=b.relation, relation_name=relations.name(b.relation), scope=b.scope, quota=fen_to_yuan(b.quota),
        begin_date=b.begin_date, end_date=b.end_date, status=b.status)


def bind(ctx: Ctx, inp: tx.InX102) -> tx.OutBinding:
    d = inp.data
    owner = ctx.person(d.owner_psn_no)
    user = _named(ctx, d.user)
    quota = yuan_to_fen(d.quota, "quota")
    if quota < 0:
        raise Refused("amount_invalid", "quota must not be negative", "共济额度不能为负数")
    db = ctx.db
    db.lock("persons", "psn_no", [user.psn_no])         # the user's bindings are counted: one bind at a time
    db.lock("accounts", "psn_no", [owner.psn_no])
    owner_rules, user_rules = ctx.regional(owner.insuplc_admdvs), ctx.regional(user.insuplc_admdvs)
    prior_only = bool(owner_rules.share_prior_year_only.value)
    owner_balc = people.shareable(db, owner.psn_no, ctx.now.year, prior_only)
    rules.check_binding(ctx.settings.mutual_aid, owner.party(owner_balc), user.party(people.balance(db, user.psn_no)),
                        d.relation, on_date=ctx.today, scope=d.scope, quota=quota,
                        active_owners_of_user=people.owners_of_user(db, user.psn_no),
                        owner_area=people.pooling_area(db, owner.insuplc_admdvs),
                        user_area=people.pooling_area(db, user.insuplc_admdvs),
                        owner_rules=owner_rules, user_rules=user_rules,
                        bound_users=len(people.bindings_of_owner(db, owner.psn_no)))
    bid = people.add_binding(db, owner=owner.psn_no, user=user.psn_no, relation=d.relation, scope=d.scope,
                             quota=quota, begin_date=ctx.today, by=ctx.env.opter, at=ctx.at,
                             window=ctx.env.fixmedins_code)
    if quota:
        taken = people.take_balance(db, owner.psn_no, quota, year=ctx.now.year, prior_only=prior_only)
        if taken is None:
            raise Refused("quota_exceeds_balance", "the owner's balance no longer covers the quota",
                          "授权人个人账户余额已不足以设定该额度")
        people.add_movement(db, kind="quota_set", psn_no=owner.psn_no, binding_id=bid, balc_delta=-quota,
                            quota_delta=quota, at=ctx.at, ref=ctx.env.msgid, prior_delta=-taken[1])
    from centre.store.money import add_audit
    add_audit(db, at=ctx.at, fixmedins_code=ctx.env.fixmedins_code, opter=ctx.env.opter, action="bind",
              subject=f"binding:{bid}", detail={"owner_psn_no": owner.psn_no, "user_psn_no": user.psn_no,
                                                "relation": d.relation, "scope": d.scope, "quota": quota})
    b = people.binding(db, bid)
    assert b is not None
    return tx.OutBinding(binding=record(ctx, b), owner_balc=fen_to_yuan(people.balance(db, owner.psn_no) or 0))


def end_binding(ctx: Ctx, b: Binding, reason: str) -> int:
    """End one active binding and return its remaining quota to the owner: the fen returned."""
    return _end(ctx.db, b, reason, year=ctx.now.year, today=ctx.today, at=ctx.at, ref=ctx.env.msgid,
                by=ctx.env.opter, window=ctx.env.fixmedins_code)


def _end(db: Any, b: Binding, reason: str, *, year: int, today: str, at: str, ref: str | None, by: str | None,
         window: str | None) -> int:
    returned = b.quota
    if returned:
        prior = min(returned, people.quota_prior(db, b.id))     # prior-year money goes back to where it came from
        if people.give_balance(db, b.owner_psn_no, returned, year=year, prior_part=prior) is None:
            raise Refused("account_missing", "the owner's account is gone: the quota cannot go back",
                          "授权人个人账户不存在,额度无法退回")
        people.add_movement(db, kind="quota_returned", psn_no=b.owner_psn_no, binding_id=b.id, balc_delta=returned,
                            quota_delta=-returned, at=at, ref=ref, prior_delta=prior)
    people.end_binding_row(db, b.id, on_date=today, by=by, at=at, window=window, reason=reason)
    from centre.store.money import add_audit
    add_audit(db, at=at, fixmedins_code=window, opter=by, action="unbind",
              subject=f"binding:{b.id}", detail={"owner_psn_no": b.owner_psn_no, "user_psn_no": b.user_psn_no,
                                                 "reason": reason, "returned": returned})
    return returned


def end_lapsed_bindings(db: Any, now: datetime) -> list[int]:
    """A binding ends by itself when its owner's insurance ends or is no longer employee insurance (after an
    import says so): each such binding ends, its remaining quota back in the owner's account. The ids ended."""
    ended = []
    at = now.strftime("%Y-%m-%d %H:%M:%S")
    for bid, psn_no, name, insutype, stas, admdvs in people.lapsed_owner_bindings(db):
        reason = rules.end_reason(Party(psn_no, name, insutype, stas, admdvs))
        b = people.binding(db, bid)
        if reason and b is not None:
            _end(db, b, reason, year=now.year, today=now.date().isoformat(), at=at, ref=None, by="centre",
                 window=None)
            ended.append(bid)
    return ended


def unbind(ctx: Ctx, inp: tx.InX103) -> tx.OutBinding:
    d = inp.data
    owner = ctx.person(d.owner_psn_no)
    user = _named(ctx, d.user)
    ctx.db.lock("accounts", "psn_no", [owner.psn_no])
    b = people.active_binding(ctx.db, owner.psn_no, user.psn_no)
    if b is None:
        raise Refused("binding_not_found", f"{owner.psn_name} has no active binding of {user.psn_name}",
                      f"{owner.psn_name}没有绑定{user.psn_name}")
    returned = end_binding(ctx, b, "owner_request")
    ended = people.binding(ctx.db, b.id)
    assert ended is not None
    return tx.OutBinding(binding=record(ctx, ended), owner_balc=fen_to_yuan(people.balance(ctx.db, owner.psn_no) or 0),
                         returned=fen_to_yuan(returned))


def owner_bindings(ctx: Ctx, inp: tx.InX104) -> tx.OutX104:
    owner = ctx.person(inp.data.owner_psn_no)
    return tx.OutX104(bindings=[record(ctx, b) for b in people.bindings_of_owner(ctx.db, owner.psn_no)])
