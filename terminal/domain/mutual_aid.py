"""Family mutual-aid rules (个人账户家庭共济, docs/data-and-rules.md) as pure functions: no I/O, no database.

The window keeps what its cache needs of them: `check_centre_binding` judges each binding line of a centre
export as `cashier db import` loads it, `payable_problem` whether a cached binding may still pay (the family
lookup while the centre cannot be asked); `MutualAidPolicy.from_config` checks the config's [mutual_aid] at
load. Binding, unbinding and paying are the insurance centre's (centre/rules/mutual_aid.py). Every refusal
is a `RuleRefused` with its catalogue code (`terminal.error_codes`) and a message naming the reason.

Who may be bound depends on the rule in force on the binding's date (config `[[mutual_aid.rule]]`):
2021 spouse/parents/children, July 2024 every 近亲属 (Civil Code art. 1045). A relation code is
allowed when it, or its group, is in the rule's set and it is a close relative; in-laws never are.
Cross-province bindings (2026) are allowed from `cross_province_since`, both pooling areas open.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from centre.interface.amounts import MAX_FEN
from centre.interface.codes import BindingScope, BindingStatus, Insutype, PsnInsuStas
from terminal.config_schema import check_table, key, unknown_keys
from terminal.domain import relations
from terminal.domain.regions import Region, province_code
from terminal.domain.text import shown
from terminal.error_codes import E
from terminal.errors import BadInput, ConfigError, ErrorCode, RuleRefused


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


@dataclass(frozen=True)
class Options:
    """[mutual_aid.options] as written in config.toml."""

    one_owner_per_user: bool = False                  # some regions allow only one owner per user
    cross_province_since: str = key("2026-01-09", pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
                                    hint='a date "YYYY-MM-DD" in quotes')
    relatives_order: str = key("config", choices=("config",))   # bindings in the order they were made
    # read by the centre (centre.rules.mutual_aid), checked here so config.toml loads
    cross_province_model: str = key("wallet", choices=("wallet", "quota"))
    max_users_per_owner: int = key(0, min=0, max=1000)
    share_prior_year_only: bool = False
    account_pays_class_c: bool = True
    wallet_transfers_per_day: int = key(3, min=1, max=1000)
    wallet_max_transfer: int = key(200000, min=1, max=MAX_FEN)
    wallet_closed_from: str = key("22:00", pattern=r"([01][0-9]|2[0-3]):[0-5][0-9]", hint='a time "HH:MM" in quotes')
    wallet_closed_until: str = key("06:00", pattern=r"([01][0-9]|2[0-3]):[0-5][0-9]", hint='a time "HH:MM" in quotes')
    wallet_return_at: str = key("06:00", pattern=r"([01][0-9]|2[0-3]):[0-5][0-9]", hint='a time "HH:MM" in quotes')


@dataclass(frozen=True)
class MutualAidPolicy:
    rules: tuple[RelationRule, ...]
    one_owner_per_user: bool = False
    cross_province_since: str = "2026-01-09"

    @classmethod
    def from_config(cls, section: Any) -> "MutualAidPolicy":
        """From config.toml's [mutual_aid] section (cfg.section("mutual_aid")), every key and value checked
        (ConfigError naming it): `[[mutual_aid.rule]]` since + relations, `[mutual_aid.options]`."""
        if not isinstance(section, dict):
            raise ConfigError(f"[mutual_aid] must be a table, not {shown(section)}")
        unknown_keys(section, ("rule", "options"), "[mutual_aid]")
        raw_rules = section.get("rule", [])
        if not isinstance(raw_rules, list):
            raise ConfigError("[mutual_aid] rule must be [[mutual_aid.rule]] tables of since and relations")
        rules = []
        for i, r in enumerate(raw_rules, 1):
            where = f"[[mutual_aid.rule]] #{i}"
            if not isinstance(r, dict):
                raise ConfigError(f"{where}: must be a table of since and relations, not {shown(r)}")
            unknown_keys(r, ("since", "relations"), where)
            since, codes = r.get("since"), r.get("relations")
            if not is_date(since) or not isinstance(codes, list):
                raise ConfigError(f"{where}: needs since = \"YYYY-MM-DD\" (in quotes) and relations = [...]")
            unknown = [c for c in codes if not relations.is_known(c)]
            if unknown:
                raise ConfigError(f"[[mutual_aid.rule]] since {since}: unknown relation codes "
                                  f"[{', '.join(shown(c) for c in unknown)}]")
            rules.append(RelationRule(str(since), frozenset(codes)))
        options = check_table(Options, section.get("options", {}), "[mutual_aid.options]")
        if not is_date(options.cross_province_since):
            raise ConfigError("[mutual_aid.options] cross_province_since must be \"YYYY-MM-DD\" (a real date)")
        return cls(tuple(sorted(rules, key=lambda r: r.since)), options.one_owner_per_user,
                   options.cross_province_since)

    @classmethod
    def default(cls) -> "MutualAidPolicy":
        """The rules as shipped in config.toml (for callers without a config: the demo loader, tests)."""
        return cls((RelationRule("2021-01-01", frozenset({"10", "11", "12", "20", "30", "50", "51", "52"})),
                    RelationRule("2024-07-01", frozenset({"10", "11", "12", "20", "30", "40", "50", "51", "52",
                                                          "60", "70"}))))

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


def is_date(text: object) -> bool:
    """A real calendar date written YYYY-MM-DD."""
    if not isinstance(text, str) or len(text) != 10:
        return False
    try:
        _dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _refuse(entry: ErrorCode[RuleRefused], en: str, zh: str, **details: object) -> RuleRefused:
    return entry.error(en, zh, **details)


def _require_active(p: Party, entry: ErrorCode[RuleRefused], rule_en: str, rule_zh: str) -> None:
    """Refuse with the person's insurance status in words unless it is active."""
    if p.psn_insu_stas != PsnInsuStas.ACTIVE:
        stas = PsnInsuStas.get(p.psn_insu_stas)
        en, zh = (stas.en, stas.zh) if stas else (f"status {p.psn_insu_stas}", f"状态{p.psn_insu_stas}")
        raise _refuse(entry, f"{p.psn_name}'s insurance is {en}: {rule_en}", f"{p.psn_name}的参保状态为{zh},{rule_zh}")


# --- the checks --------------------------------------------------------------------------------

def check_owner(owner: Party) -> None:
    """Only an employee-insurance (310) person with active insurance and a personal account can be an owner."""
    if owner.insutype != Insutype.EMPLOYEE:
        raise _refuse(E.OWNER_NOT_EMPLOYEE,
                      f"{owner.psn_name} has resident insurance ({owner.insutype}), not employee insurance (310): "
                      "only an employee's personal account can be shared",
                      f"{owner.psn_name}参加的是居民医保({owner.insutype}),只有职工医保(310)个人账户可以共济")
    _require_active(owner, E.OWNER_NOT_ACTIVE, "an owner's insurance must be active", "授权人须正常参保")
    if owner.balc is None:
        raise _refuse(E.OWNER_NO_ACCOUNT, f"{owner.psn_name} has no personal account to share",
                      f"{owner.psn_name}没有职工医保个人账户,无法共济")


def check_user(user: Party) -> None:
    """The user (使用人) must be insured (310 or 390) and active."""
    if user.insutype not in Insutype.values():
        raise _refuse(E.USER_NOT_INSURED, f"{user.psn_name} is not in basic medical insurance",
                      f"{user.psn_name}未参加基本医疗保险")
    _require_active(user, E.USER_NOT_ACTIVE, "only an actively insured relative can be bound",
                    "只能绑定正常参保的亲属")


def check_not_self(owner: Party, user: Party) -> None:
    if owner.psn_no == user.psn_no:
        raise _refuse(E.SELF_BINDING, "a person cannot be bound to their own account",
                      "不能绑定本人")


def check_relation(policy: MutualAidPolicy, code: str, on_date: str, user: Party | None = None) -> None:
    """The relation must be a known code, a close relative, allowed by the rule in force on the date,
    and (when the code implies a sex) agree with the user's recorded sex."""
    rel = relations.get(code) if isinstance(code, str) else None
    if rel is None:
        raise _refuse(E.RELATION_UNKNOWN, f"unknown relation code {code!r} (GB/T 4761 family relationship codes)",
                      f"未知的家庭关系代码 {code!r}(GB/T 4761)")
    if rel.kind == "self":
        raise _refuse(E.SELF_BINDING, "relation 01 (self): a person cannot be bound to their own account",
                      "关系为本人,不能绑定本人")
    if rel.in_law:
        raise _refuse(E.RELATION_IN_LAW,
                      f"{rel.en} ({rel.zh}, {code}) is an in-law, not a close relative (近亲属) under Civil Code "
                      "art. 1045: in-laws cannot share a personal account",
                      f"{rel.zh}({code})是姻亲,不属于《民法典》第一千零四十五条规定的近亲属,不能共济")
    if not rel.close_relative:
        raise _refuse(E.RELATION_NOT_CLOSE,
                      f"{rel.en} ({rel.zh}, {code}) is not a close relative (近亲属) under Civil Code art. 1045",
                      f"{rel.zh}({code})不属于《民法典》第一千零四十五条规定的近亲属,不能共济")
    rule = policy.rule_on(on_date)
    if rule is None:
        first = policy.rules[0].since if policy.rules else "?"
        raise _refuse(E.NO_RULE_IN_FORCE, f"no mutual-aid rule was in force on {on_date} (the first is from {first})",
                      f"{on_date}尚无家庭共济政策(最早自{first}起)")
    if not policy.allows(rule, code):
        later = next((r.since for r in policy.rules if r.since > on_date and policy.allows(r, code)), None)
        when = f"; allowed from {later}" if later else ""
        when_zh = f";自{later}起允许" if later else ""
        raise _refuse(E.RELATION_NOT_ALLOWED,
                      f"{rel.en} ({rel.zh}, {code}) may not be bound under the rule in force on {on_date} "
                      f"(since {rule.since}){when}",
                      f"按{on_date}适用的政策(自{rule.since}起),{rel.zh}不在可共济亲属范围内{when_zh}")
    if user is not None and rel.gend and user.gend in ("1", "2") and user.gend != rel.gend:
        raise _refuse(E.RELATION_GENDER_MISMATCH,
                      f"relation {code} ({rel.en}) does not match {user.psn_name}'s recorded sex",
                      f"关系{rel.zh}与{user.psn_name}登记的性别不符")


def needs_cross_province(owner: Party, user: Party) -> bool:
    """True when the two are insured in different provinces."""
    return province_code(owner.insuplc_admdvs) != province_code(user.insuplc_admdvs)


def check_scope(policy: MutualAidPolicy, scope: str, on_date: str, owner: Party, user: Party,
                owner_area: Region | None, user_area: Region | None) -> None:
    """Local within a province; cross-province only from `cross_province_since` with both areas open."""
    if scope not in BindingScope.values():
        raise E.SCOPE_UNKNOWN.error(f"scope must be local or cross_province, not {scope!r}",
                       f"共济范围须为 local 或 cross_province,而不是 {scope!r}")
    crossing = needs_cross_province(owner, user)
    if scope == BindingScope.LOCAL and crossing:
        raise _refuse(E.NEEDS_CROSS_PROVINCE,
                      f"{owner.psn_name} ({owner.insuplc_admdvs}) and {user.psn_name} ({user.insuplc_admdvs}) are "
                      "insured in different provinces: bind with scope cross_province and a quota",
                      f"{owner.psn_name}与{user.psn_name}不在同一省参保,须办理跨省共济并设定共济额度")
    if scope == BindingScope.CROSS_PROVINCE and not crossing:
        raise _refuse(E.NOT_CROSS_PROVINCE,
                      f"{owner.psn_name} and {user.psn_name} are insured in the same province: bind as local",
                      f"{owner.psn_name}与{user.psn_name}在同一省参保,请办理省内共济")
    if scope != BindingScope.CROSS_PROVINCE:
        return
    if on_date < policy.cross_province_since:
        raise _refuse(E.CROSS_PROVINCE_NOT_YET,
                      f"cross-province mutual aid starts on {policy.cross_province_since}, not in force on {on_date}",
                      f"跨省共济自{policy.cross_province_since}起施行,{on_date}尚未开通")
    for person, area in ((owner, owner_area), (user, user_area)):
        if area is None or not area.cross_province:
            label = f"{area.name} ({area.admdvs})" if area else person.insuplc_admdvs
            label_zh = f"{area.name}({area.admdvs})" if area else person.insuplc_admdvs
            raise _refuse(E.AREA_CLOSED,
                          f"cross-province mutual aid is not open in {person.psn_name}'s pooling area {label}",
                          f"{person.psn_name}的参保统筹区{label_zh}未开通跨省共济")


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
                    scope: str, owner_area: Region | None = None, user_area: Region | None = None
                    ) -> RuleRefused | None:
    """Why a stored binding may not pay for its user now (None: it may). Defence in depth for the family
    lookup: owner an active 310 with an account, user active, and the rules `check_centre_binding` applies
    as they stood on its begin_date: relation allowed and agreeing with the user's sex, scope matching
    the provinces, cross-province not before its start date and with both pooling areas open."""
    try:
        check_owner(owner)
        check_user(user)
        check_relation(policy, relation, begin_date, user)
        check_scope(policy, scope, begin_date, owner, user, owner_area, user_area)
    except (RuleRefused, BadInput) as exc:
        return exc if isinstance(exc, RuleRefused) else RuleRefused(exc.entry or exc.code, exc.message, exc.message_zh)
    return None


# --- money and life-cycle ----------------------------------------------------------------------

def available(scope: str, owner_balc: int | None, quota: int) -> int:
    """What a binding can pay now: the owner's balance (local) or the remaining quota (cross-province)."""
    return quota if scope == BindingScope.CROSS_PROVINCE else (owner_balc or 0)


def in_force(status: str, begin_date: str, end_date: str | None, on_date: str) -> bool:
    """A binding pays on a date when active, begun, and not past its end date."""
    return status == BindingStatus.ACTIVE and begin_date <= on_date and (not end_date or on_date <= end_date)
