"""Family mutual-aid rules (个人账户家庭共济) as pure functions: no I/O, no database.

Every refusal is a `Refused(code, message_en, message_zh)` naming the reason, so the cashier can
tell the patient why. `check_binding` runs all the checks a new binding needs, in the order a cashier
would explain them; each check is also usable alone.

Who may be bound depends on the rule in force on the binding's date (config `[[mutual_aid.rule]]`):
2021 spouse/parents/children, July 2024 every 近亲属 (Civil Code art. 1045). A relation code is
allowed when it, or its group, is in the rule's set and it is a close relative; in-laws never are.

Cross-province mutual aid works one of two ways (`[mutual_aid.options] cross_province_model`):
- "wallet" (default, as 2025 reports describe it): the binding records who the relative is and pays nothing
  by itself; the owner transfers money into the relative's insurance wallet (医保钱包, `centre.rules.wallet`),
  where it becomes the relative's own money. A cross-province binding takes no quota.
- "quota" (the project's earlier reading, kept for comparison): the owner earmarks a quota moved out of their
  balance, which the relative's settlements draw on and which returns when the binding ends.
A quota already set aside keeps paying under either model until its binding ends.

Regional differences (caps, one owner per user, prior-year balance only, class C, each province's start
date) are data: `centre.rules.regional`; the options here are the national defaults they fall back on.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Iterable

from centre.errors import ConfigProblem, Refused
from centre.interface import relations
from centre.interface.amounts import MAX_FEN, yuan_text
from centre.interface.codes import BindingScope, BindingStatus, Insutype, PsnInsuStas
from centre.rules.regional import RegionalRules, Said, refuse_not_joined, refuse_one_owner, refuse_user_cap
from centre.rules.regions import Region, province_code
from centre.rules.wallet import WalletLimits


@dataclass(frozen=True)
class Party:
    """A person as the rules see them."""

    psn_no: str
    psn_name: str
    insutype: str
    psn_insu_stas: str
    insuplc_admdvs: str
    gend: str | None = None
    balc: int | None = None  # personal account balance in fen; None when the person has no account


@dataclass(frozen=True)
class RelationRule:
    since: str                   # ISO date the rule took effect
    relations: frozenset[str]    # GB/T 4761 codes (a group code admits its close-relative sub-codes)


MODELS = ("wallet", "quota")


@dataclass(frozen=True)
class MutualAidPolicy:
    rules: tuple[RelationRule, ...]
    one_owner_per_user: bool = False
    cross_province_since: str = "2026-01-09"
    cross_province_model: str = "wallet"
    max_users_per_owner: int = 0                # 0: no cap
    share_prior_year_only: bool = False
    account_pays_class_c: bool = True
    wallet: WalletLimits = WalletLimits()

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> "MutualAidPolicy":
        """From config.toml's [mutual_aid] section (cfg.section("mutual_aid"))."""
        
        rules = []
        for i, r in enumerate(section.get("rule", [])):
            since = r.get("since")
            codes = r.get("relations")
            if not is_date(since) or not isinstance(codes, list):
                raise ConfigProblem(f"[[mutual_aid.rule]] #{i + 1}: needs since = \"YYYY-MM-DD\" and relations = [...]")
            unknown = [c for c in codes if not relations.is_known(c)]
            if unknown:
                raise ConfigProblem(f"[[mutual_aid.rule]] since {since}: unknown relation codes {unknown}")
            rules.append(RelationRule(since, frozenset(codes)))
        return cls(tuple(sorted(rules, key=lambda r: r.since)), **parse_options(section.get("options", {})))

    @classmethod
    def default(cls) -> "MutualAidPolicy":
        """The rules as shipped in config.toml (for callers without a config: the demo loader, tests)."""
        return cls((RelationRule("2021-01-01", frozenset({"10", "11", "12", "20", "30", "50", "51", "52"})),
                    RelationRule("2024-07-01", frozenset({"10", "11", "12", "20", "30", "40", "50", "51", "52",
                                                          "60", "70"}))))

    @property
    def wallet_model(self) -> bool:
        return self.cross_province_model == "wallet"

    def regional_defaults(self) -> dict[str, Any]:
        """The national defaults `centre.rules.regional.resolve` falls back on."""
        return {"max_users_per_owner": self.max_users_per_owner, "one_owner_per_user": self.one_owner_per_user,
                "share_prior_year_only": self.share_prior_year_only,
                "account_pays_class_c": self.account_pays_class_c,
                "cross_province_since": self.cross_province_since}

    def rule_on(self, on_date: str) -> RelationRule | None:
        """The rule in force on a date: the latest whose `since` is on or before it."""
        current = None
        for rule in self.rules:
            if rule.since <= on_date:
                current = rule
        return current

    def allows(self, rule: RelationRule, code: str) -> bool:
        rel = relations.get(code)
        if rel is None or not rel.close_relative:
            return False
        return code in rule.relations or rel.group in rule.relations


OPTION_KEYS = ("one_owner_per_user", "cross_province_since", "relatives_order", "cross_province_model",
               "max_users_per_owner", "share_prior_year_only", "account_pays_class_c", "wallet_transfers_per_day",
               "wallet_max_transfer", "wallet_closed_from", "wallet_closed_until", "wallet_return_at")


def parse_options(options: Any) -> dict[str, Any]:
    """`[mutual_aid.options]` -> MutualAidPolicy's keyword arguments; ConfigProblem names a wrong key or value."""
    where = "[mutual_aid.options]"
    if not isinstance(options, dict):
        raise ConfigProblem(f"{where} must be a table")
    unknown = sorted(set(options) - set(OPTION_KEYS))
    if unknown:
        raise ConfigProblem(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(OPTION_KEYS)}")
    out: dict[str, Any] = {}
    for key in ("one_owner_per_user", "share_prior_year_only", "account_pays_class_c"):
        if key in options:
            if not isinstance(options[key], bool):
                raise ConfigProblem(f"{where} {key} must be true or false (got {options[key]!r})")
            out[key] = options[key]
    since = options.get("cross_province_since", "2026-01-09")
    if not is_date(since):
        raise ConfigProblem(f"{where} cross_province_since must be \"YYYY-MM-DD\" (got {since!r})")
    out["cross_province_since"] = since
    model = options.get("cross_province_model", "wallet")
    if model not in MODELS:
        raise ConfigProblem(f"{where} cross_province_model must be \"wallet\" or \"quota\" (got {model!r})")
    out["cross_province_model"] = model
    if "max_users_per_owner" in options:
        out["max_users_per_owner"] = _whole(options["max_users_per_owner"], f"{where} max_users_per_owner", 0, 1000)
    limits = WalletLimits()
    out["wallet"] = WalletLimits(
        transfers_per_day=_whole(options.get("wallet_transfers_per_day", limits.transfers_per_day),
                                 f"{where} wallet_transfers_per_day", 1, 1000),
        max_transfer=_whole(options.get("wallet_max_transfer", limits.max_transfer),
                            f"{where} wallet_max_transfer (fen)", 1, MAX_FEN),
        closed_from=_clock(options.get("wallet_closed_from", "22:00"), f"{where} wallet_closed_from"),
        closed_until=_clock(options.get("wallet_closed_until", "06:00"), f"{where} wallet_closed_until"),
        return_at=_clock(options.get("wallet_return_at", "06:00"), f"{where} wallet_return_at"))
    return out


def _whole(value: object, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigProblem(f"{what} must be a whole number from {lo} to {hi} (got {value!r})")
    return value


def _clock(value: object, what: str) -> _dt.time:
    """"HH:MM" -> time."""
    if isinstance(value, str) and len(value) == 5 and value[2] == ":":
        try:
            return _dt.time(int(value[:2]), int(value[3:]))
        except ValueError:
            pass
    raise ConfigProblem(f"{what} must be a time \"HH:MM\" in quotes (got {value!r})")


def is_date(text: object) -> bool:
    """A real calendar date written YYYY-MM-DD."""
    if not isinstance(text, str) or len(text) != 10:
        return False
    try:
        _dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _refuse(code: str, en: str, zh: str, **details: object) -> Refused:
    return Refused(code, en, zh, **details)


def _require_active(p: Party, code: str, rule_en: str, rule_zh: str) -> None:
    """Refuse with the person's insurance status in words unless it is active."""
    if p.psn_insu_stas != PsnInsuStas.ACTIVE:
        stas = PsnInsuStas.get(p.psn_insu_stas)
        en, zh = (stas.en, stas.zh) if stas else (f"status {p.psn_insu_stas}", f"状态{p.psn_insu_stas}")
        raise _refuse(code, f"{p.psn_name}'s insurance is {en}: {rule_en}", f"{p.psn_name}的参保状态为{zh},{rule_zh}")


# --- the checks --------------------------------------------------------------------------------

def check_owner(owner: Party) -> None:
    """Only an employee-insurance (310) person with active insurance and a personal account can be an owner."""
    if owner.insutype != Insutype.EMPLOYEE:
        raise _refuse("owner_not_employee",
                      f"{owner.psn_name} has resident insurance ({owner.insutype}), not employee insurance (310): "
                      "only an employee's personal account can be shared",
                      f"{owner.psn_name}参加的是居民医保({owner.insutype}),只有职工医保(310)个人账户可以共济")
    _require_active(owner, "owner_not_active", "an owner's insurance must be active", "授权人须正常参保")
    if owner.balc is None:
        raise _refuse("owner_no_account", f"{owner.psn_name} has no personal account to share",
                      f"{owner.psn_name}没有职工医保个人账户,无法共济")


def check_user(user: Party) -> None:
    """The user (使用人) must be insured (310 or 390) and active."""
    if user.insutype not in Insutype.values():
        raise _refuse("user_not_insured", f"{user.psn_name} is not in basic medical insurance",
                      f"{user.psn_name}未参加基本医疗保险")
    _require_active(user, "user_not_active", "only an actively insured relative can be bound",
                    "只能绑定正常参保的亲属")


def check_not_self(owner: Party, user: Party) -> None:
    if owner.psn_no == user.psn_no:
        raise _refuse("self_binding", "a person cannot be bound to their own account",
                      "不能绑定本人")


def check_relation(policy: MutualAidPolicy, code: str, on_date: str, user: Party | None = None) -> None:
    """The relation must be a known code, a close relative, allowed by the rule in force on the date,
    and (when the code implies a sex) agree with the user's recorded sex."""
    rel = relations.get(code) if isinstance(code, str) else None
    if rel is None:
        raise _refuse("relation_unknown", f"unknown relation code {code!r} (GB/T 4761 family relationship codes)",
                      f"未知的家庭关系代码 {code!r}(GB/T 4761)")
    if rel.kind == "self":
        raise _refuse("self_binding", "relation 01 (self): a person cannot be bound to their own account",
                      "关系为本人,不能绑定本人")
    if rel.in_law:
        raise _refuse("relation_in_law",
                      f"{rel.en} ({rel.zh}, {code}) is an in-law, not a close relative (近亲属) under Civil Code "
                      "art. 1045: in-laws cannot share a personal account",
                      f"{rel.zh}({code})是姻亲,不属于《民法典》第一千零四十五条规定的近亲属,不能共济")
    if not rel.close_relative:
        raise _refuse("relation_not_close",
                      f"{rel.en} ({rel.zh}, {code}) is not a close relative (近亲属) under Civil Code art. 1045",
                      f"{rel.zh}({code})不属于《民法典》第一千零四十五条规定的近亲属,不能共济")
    rule = policy.rule_on(on_date)
    if rule is None:
        first = policy.rules[0].since if policy.rules else "?"
        raise _refuse("no_rule_in_force", f"no mutual-aid rule was in force on {on_date} (the first is from {first})",
                      f"{on_date}尚无家庭共济政策(最早自{first}起)")
    if not policy.allows(rule, code):
        later = next((r.since for r in policy.rules if r.since > on_date and policy.allows(r, code)), None)
        when = f"; allowed from {later}" if later else ""
        when_zh = f";自{later}起允许" if later else ""
        raise _refuse("relation_not_allowed",
                      f"{rel.en} ({rel.zh}, {code}) may not be bound under the rule in force on {on_date} "
                      f"(since {rule.since}){when}",
                      f"按{on_date}适用的政策(自{rule.since}起),{rel.zh}不在可共济亲属范围内{when_zh}")
    if user is not None and rel.gend and user.gend in ("1", "2") and user.gend != rel.gend:
        raise _refuse("relation_gender_mismatch",
                      f"relation {code} ({rel.en}) does not match {user.psn_name}'s recorded sex",
                      f"关系{rel.zh}与{user.psn_name}登记的性别不符")


def check_no_duplicate(owner: Party, user: Party, active_owners_of_user: Iterable[str]) -> None:
    if owner.psn_no in set(active_owners_of_user):
        raise _refuse("binding_exists", f"{owner.psn_name} has already bound {user.psn_name}",
                      f"{owner.psn_name}已绑定{user.psn_name},不能重复绑定")


def check_one_owner(policy: MutualAidPolicy, owner: Party, user: Party, active_owners_of_user: Iterable[str],
                    owner_rules: RegionalRules | None = None) -> None:
    """Where the owner's area allows only one owner per user (region rule, else the config's default)."""
    others = [o for o in active_owners_of_user if o != owner.psn_no]
    if not others:
        return
    if owner_rules is not None:
        if owner_rules.one_owner_per_user.value:
            raise refuse_one_owner(owner_rules, user.psn_name)
    elif policy.one_owner_per_user:
        raise _refuse("user_has_owner",
                      f"{user.psn_name} is already bound by another owner; this region allows one owner per user",
                      f"{user.psn_name}已被其他授权人绑定,本统筹区只允许一位授权人")


def check_user_cap(owner: Party, bound_users: int, owner_rules: RegionalRules | None) -> None:
    """Where the owner's area caps the users one owner may bind (0: no cap)."""
    cap = owner_rules.max_users_per_owner.value if owner_rules is not None else 0
    if cap and bound_users >= cap:
        raise refuse_user_cap(owner_rules, owner.psn_name, bound_users)  # type: ignore[arg-type]


def needs_cross_province(owner: Party, user: Party) -> bool:
    """True when the two are insured in different provinces."""
    return province_code(owner.insuplc_admdvs) != province_code(user.insuplc_admdvs)


def check_scope(policy: MutualAidPolicy, scope: str, on_date: str, owner: Party, user: Party,
                owner_area: Region | None, user_area: Region | None,
                owner_since: Said | None = None, user_since: Said | None = None) -> None:
    """Local within a province; cross-province only with both pooling areas open and from the day each person's
    province joined (`owner_since`, `user_since`: the regional rules' dates; else the config's default)."""
    if scope not in BindingScope.values():
        raise Refused("scope_unknown", f"scope must be local or cross_province, not {scope!r}",
                       f"共济范围须为 local 或 cross_province,而不是 {scope!r}")
    crossing = needs_cross_province(owner, user)
    if scope == BindingScope.LOCAL and crossing:
        raise _refuse("needs_cross_province",
                      f"{owner.psn_name} ({owner.insuplc_admdvs}) and {user.psn_name} ({user.insuplc_admdvs}) are "
                      "insured in different provinces: bind with scope cross_province"
                      + (", then transfer into the relative's insurance wallet" if policy.wallet_model
                         else " and a quota"),
                      f"{owner.psn_name}与{user.psn_name}不在同一省参保,须办理跨省共济"
                      + (",再向其医保钱包转账" if policy.wallet_model else "并设定共济额度"))
    if scope == BindingScope.CROSS_PROVINCE and not crossing:
        raise _refuse("not_cross_province",
                      f"{owner.psn_name} and {user.psn_name} are insured in the same province: bind as local",
                      f"{owner.psn_name}与{user.psn_name}在同一省参保,请办理省内共济")
    if scope != BindingScope.CROSS_PROVINCE:
        return
    if owner_since is None and user_since is None and on_date < policy.cross_province_since:
        raise _refuse("cross_province_not_yet",
                      f"cross-province mutual aid starts on {policy.cross_province_since}, not in force on {on_date}",
                      f"跨省共济自{policy.cross_province_since}起施行,{on_date}尚未开通")
    for person, since in ((owner, owner_since), (user, user_since)):
        if since is not None and on_date < since.value:
            raise refuse_not_joined(since, person.psn_name, on_date)
    for person, area in ((owner, owner_area), (user, user_area)):
        if area is None or not area.cross_province:
            label = f"{area.name} ({area.admdvs})" if area else person.insuplc_admdvs
            label_zh = f"{area.name}({area.admdvs})" if area else person.insuplc_admdvs
            raise _refuse("area_closed",
                          f"cross-province mutual aid is not open in {person.psn_name}'s pooling area {label}",
                          f"{person.psn_name}的参保统筹区{label_zh}未开通跨省共济")


def check_amount(value: object, what: str = "quota") -> int:
    """An amount in integer fen, 0 ≤ value ≤ MAX_FEN; Refused otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused("amount_invalid", f"{what} must be a whole number of fen, not {value!r}",
                       f"{what}须为整数(分),而不是 {value!r}")
    if value < 0 or value > MAX_FEN:
        raise Refused("amount_invalid", f"{what} {yuan_text(value)} is out of range (0 to {yuan_text(MAX_FEN)})",
                      f"{what} {yuan_text(value)} 超出范围")
    return value


def check_quota(scope: str, quota: int, owner: Party, policy: MutualAidPolicy | None = None) -> None:
    """Local: no quota (draws on the balance). Cross-province under the wallet model: no quota either (money
    goes through the wallet); under the quota model: 0 < quota ≤ owner's balance (it moves out of it)."""
    check_amount(quota)
    if scope == BindingScope.LOCAL:
        if quota:
            raise _refuse("quota_local", "a local binding draws on the owner's account directly: no quota is set",
                          "省内共济直接使用授权人个人账户,无需设定额度")
        return
    if policy is not None and policy.wallet_model:
        if quota:
            raise _refuse("quota_model_off",
                          "cross-province mutual aid goes through the insurance wallet here "
                          "([mutual_aid.options] cross_province_model = \"wallet\"): bind without a quota, then "
                          "transfer into the relative's wallet",
                          "跨省共济通过医保钱包办理:绑定时无需设定共济额度,绑定后向亲属的医保钱包转账")
        return
    if quota == 0:
        raise _refuse("quota_required", "a cross-province binding needs a quota (共济额度) greater than 0",
                      "跨省共济须设定大于0的共济额度")
    balc = owner.balc or 0
    if quota > balc:
        raise _refuse("quota_exceeds_balance",
                      f"quota {yuan_text(quota)} ({quota} fen) exceeds {owner.psn_name}'s balance "
                      f"{yuan_text(balc)} ({balc} fen)",
                      f"共济额度{yuan_text(quota)}超过{owner.psn_name}的个人账户余额{yuan_text(balc)}")


def check_binding(policy: MutualAidPolicy, owner: Party, user: Party, relation: str, *, on_date: str,
                  scope: str = "local", quota: int = 0, active_owners_of_user: Iterable[str] = (),
                  owner_area: Region | None = None, user_area: Region | None = None,
                  owner_rules: RegionalRules | None = None, user_rules: RegionalRules | None = None,
                  bound_users: int = 0) -> None:
    """Every check for a new binding dated on_date; raises the first refusal. With the regional rules of the
    owner's and the user's insured areas: the owner's cap on users (`bound_users`: how many the owner binds
    now), one owner per user, and each province's cross-province start date."""
    owners = list(active_owners_of_user)
    check_not_self(owner, user)
    check_owner(owner)
    check_user(user)
    check_relation(policy, relation, on_date, user)
    check_no_duplicate(owner, user, owners)
    check_one_owner(policy, owner, user, owners, owner_rules)
    check_user_cap(owner, bound_users, owner_rules)
    check_scope(policy, scope, on_date, owner, user, owner_area, user_area,
                owner_rules.cross_province_since if owner_rules else None,
                user_rules.cross_province_since if user_rules else None)
    check_quota(scope, quota, owner, policy)


def check_centre_binding(policy: MutualAidPolicy, owner: Party, user: Party, relation: str, *, begin_date: str,
                         scope: str, status: str = "active", owner_area: Region | None = None,
                         user_area: Region | None = None) -> None:
    """A binding line of a centre export: the rules `bind` applies, as they stood on its begin_date.

    Every line: relation allowed on begin_date (in-laws refused with the Civil Code reason), relation
    agrees with the user's sex, scope matches the provinces, cross-province not before its date.
    An active line also: the owner is employee-insured (310) with an account, and for cross-province both
    pooling areas are open. Not checked: insurance status (the centre may hold a binding of a suspended
    person; `family` does not offer it), duplicates (the database's active-pair index), and the quota
    against the balance (the export's balance is already net of it).
    """
    check_not_self(owner, user)
    if status == BindingStatus.ACTIVE and (owner.insutype != Insutype.EMPLOYEE or owner.balc is None):
        check_owner(Party(owner.psn_no, owner.psn_name, owner.insutype, PsnInsuStas.ACTIVE, owner.insuplc_admdvs,
                          owner.gend, owner.balc))
    check_relation(policy, relation, begin_date, user)
    if status == BindingStatus.ACTIVE or scope == BindingScope.CROSS_PROVINCE and begin_date < policy.cross_province_since:
        check_scope(policy, scope, begin_date, owner, user, owner_area, user_area)


def payable_problem(policy: MutualAidPolicy, owner: Party, user: Party, relation: str, begin_date: str,
                    scope: str, owner_area: Region | None = None, user_area: Region | None = None,
                    owner_since: Said | None = None, user_since: Said | None = None) -> Refused | None:
    """Why a stored binding may not pay for its user now (None: it may). Defence in depth for the family
    lookup: owner an active 310 with an account, user active, and the rules `check_centre_binding` applies
    as they stood on its begin_date: relation allowed and agreeing with the user's sex, scope matching
    the provinces, cross-province not before its start date and with both pooling areas open."""
    try:
        check_owner(owner)
        check_user(user)
        check_relation(policy, relation, begin_date, user)
        check_scope(policy, scope, begin_date, owner, user, owner_area, user_area, owner_since, user_since)
    except Refused as exc:
        return exc
    return None


# --- money and life-cycle ----------------------------------------------------------------------

def balance_after_quota(owner_balc: int, quota: int) -> int:
    """The owner's balance after earmarking a quota (the quota is no longer theirs to spend)."""
    if quota > owner_balc:
        raise _refuse("quota_exceeds_balance", f"quota {yuan_text(quota)} ({quota} fen) exceeds the balance "
                      f"{yuan_text(owner_balc)} ({owner_balc} fen)",
                      f"共济额度{yuan_text(quota)}超过个人账户余额{yuan_text(owner_balc)}")
    return owner_balc - quota


def available(scope: str, owner_balc: int | None, quota: int) -> int:
    """What a binding can pay now: the owner's balance (local) or the remaining quota (cross-province; 0 for a
    binding made under the wallet model, whose money goes through the relative's wallet). `owner_balc` is what
    the owner may share: the prior-year balance only, where the owner's area says so."""
    return quota if scope == BindingScope.CROSS_PROVINCE else (owner_balc or 0)


def end_reason(owner: Party) -> str | None:
    """Why an owner's bindings must end by themselves (insurance ended or changed), or None."""
    if owner.psn_insu_stas == "4":
        return "owner_insurance_ended"
    if owner.insutype != Insutype.EMPLOYEE:
        return "owner_insurance_changed"
    return None


def in_force(status: str, begin_date: str, end_date: str | None, on_date: str) -> bool:
    """A binding pays on a date when active, begun, and not past its end date."""
    return status == BindingStatus.ACTIVE and begin_date <= on_date and (not end_date or on_date <= end_date)
