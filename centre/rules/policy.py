"""The reimbursement policy read from config.toml `[policy]`, validated when the centre starts.

API:
- `parse_policy(section: dict, hosp_lv_default) -> Policy` (raises `ConfigProblem` naming the rule and key).
- `Policy.rule_for(insutype, med_type, hosp_lv, admdvs=None) -> PolicyRule`: the insured place's policy first:
  the rules keyed to the patient's insured area (`admdvs`: the area itself, then its city, then its province),
  then the rules without an area; within each, the first rule that matches, `"*"` matching anything;
  `Refused("no_policy_rule")` when none does. In cross-province care the catalogue is the place of care's (the
  centre's) and the policy the insured place's (就医地目录、参保地政策): a rule with `admdvs` is that area's.
- `PolicyRule`: insutype, med_type, hosp_lv, deductible (fen), deductible_scope
  ("year"|"visit"), ratio (Decimal), annual_cap (fen); optional `admdvs` (6 digits: an area, a city xxxx00 or a
  province xx0000) and `pool`: which year accumulators the rule counts the deductible and the fund's payments
  in: "shared" (default: one per person and year for every medical type) or "outpatient" / "inpatient" where
  the policy keeps them apart.
- `Policy.bill_limits`: `BillLimits` from the optional `max_item_price`, `max_bill_total` (fen).
- `check_hosp_lv(level)`: a hospital's own level must be "1", "2" or "3".
Ratios are quoted decimal strings ("0.70"): a TOML number is refused, floats never touch money.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from centre.errors import ConfigProblem, Refused
from centre.interface.amounts import MAX_FEN
from centre.interface.codes import DeductibleScope, HospLv, Insutype, MedType

LIMIT_KEYS = ("max_item_price", "max_bill_total")   # optional: BillLimits' defaults otherwise
RATIO_DECIMALS = 6   # "0.855" is a ratio
RULE_KEYS = ("insutype", "med_type", "hosp_lv", "deductible", "deductible_scope", "ratio", "annual_cap")
OPTIONAL_RULE_KEYS = ("admdvs", "pool")
POOLS = ("shared", "outpatient", "inpatient")


@dataclass(frozen=True)
class BillLimits:
    """Above these a bill is taken for a typo ("absurd amount"), not charged (`[policy]` max_item_price,
    max_bill_total, fen). Real inpatient items (implants, cell therapies) cost hundreds of thousands a unit."""

    max_item_price: int = 100_000_000       # 1,000,000.00 yuan a unit
    max_bill_total: int = 1_000_000_000     # 10,000,000.00 yuan a bill


@dataclass(frozen=True)
class PolicyRule:
    insutype: str
    med_type: str
    hosp_lv: str
    deductible: int
    deductible_scope: str
    ratio: Decimal
    annual_cap: int
    admdvs: str | None = None        # whose policy: None = everyone's not covered by an area's own rules
    pool: str = "shared"             # which year accumulators

    def matches(self, insutype: str, med_type: str, hosp_lv: str) -> bool:
        return all(want in ("*", have) for want, have in
                   ((self.insutype, insutype), (self.med_type, med_type), (self.hosp_lv, hosp_lv)))

    def describe(self) -> tuple[str, str]:
        """Whose policy this is (en, zh), for the settlement's process text."""
        if self.admdvs is None:
            return "the centre's policy", "本地政策"
        return f"the policy of the insured place {self.admdvs}", f"参保地({self.admdvs})政策"


@dataclass(frozen=True)
class Policy:
    b_selfpay_ratio: Decimal
    rules: tuple[PolicyRule, ...]
    bill_limits: BillLimits = BillLimits()

    def rule_for(self, insutype: str, med_type: str, hosp_lv: str, admdvs: str | None = None) -> PolicyRule:
        areas: list[str | None] = []
        if admdvs:
            areas += [a for a in dict.fromkeys((admdvs, admdvs[:4] + "00", admdvs[:2] + "0000"))]
        for area in (*areas, None):
            for rule in self.rules:
                if rule.admdvs == area and rule.matches(insutype, med_type, hosp_lv):
                    return rule
        raise Refused("no_policy_rule",
                          f"no [[policy.rule]] matches insutype {insutype}, med_type {med_type}, hosp_lv {hosp_lv}",
                          f"医保政策中没有适用于险种 {insutype}、医疗类别 {med_type}、医院等级 {hosp_lv} 的规则")


def check_hosp_lv(level: Any, where: str = "[terminal] hosp_lv") -> str:
    """A hospital's own level: "*" is for rules only; "7" would silently match only "*"."""
    if not isinstance(level, str) or level not in HospLv.values():
        raise ConfigProblem(f"{where} must be \"1\", \"2\" or \"3\" (the hospital's level; \"*\" is only "
                            f"for [[policy.rule]]) (got {level!r})")
    return level


def parse_ratio(value: object, what: str) -> Decimal:
    """A ratio written as a decimal string ("0.70"), 0..1; ValueError with a clear message otherwise.

    A TOML number (0.75, or even 1) is refused with the quoted form to write instead: floats never touch
    money, and a ratio is part of every amount the fund pays.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"{what} must be a decimal string: quote it, {what} = \"{value}\" "
                         f"(floats are never used for money)")
    if not isinstance(value, str) or len(value) > 20:
        raise ValueError(f"{what} must be a decimal string like \"0.70\" (got {value!r})")
    try:
        ratio = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{what} must be a decimal string like \"0.70\" (got {value!r})") from None
    if not ratio.is_finite() or ratio < 0 or ratio > 1:
        raise ValueError(f"{what} must be between 0 and 1 (got {value!r})")
    exponent = ratio.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RATIO_DECIMALS:   # "0.1111…" with 5,000 decimals is a mistake
        raise ValueError(f"{what} may have at most {RATIO_DECIMALS} decimals (got {value!r})")
    return ratio


def _code(rule: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value = rule.get(key)
    if not isinstance(value, str) or value not in (*allowed, "*"):
        raise ConfigProblem(f"{where}: {key} must be one of {', '.join(allowed)} or \"*\" (got {value!r})")
    return value


def _fen(rule: dict[str, Any], key: str, where: str) -> int:
    value = rule.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEN:
        raise ConfigProblem(f"{where}: {key} must be a whole number of fen between 0 and {MAX_FEN} (got {value!r})")
    return value


def _rule(rule: Any, where: str) -> PolicyRule:
    if not isinstance(rule, dict):
        raise ConfigProblem(f"{where}: must be a table of {', '.join(RULE_KEYS)}")
    unknown = sorted(set(rule) - set(RULE_KEYS) - set(OPTIONAL_RULE_KEYS))
    if unknown:
        raise ConfigProblem(f"{where}: unknown key(s) {', '.join(unknown)}; a rule has {', '.join(RULE_KEYS)} "
                            f"and may have {', '.join(OPTIONAL_RULE_KEYS)}")
    missing = [k for k in RULE_KEYS if k not in rule]
    if missing:
        raise ConfigProblem(f"{where}: missing {', '.join(missing)}")
    scope = rule["deductible_scope"]
    if scope not in DeductibleScope.values():
        raise ConfigProblem(f"{where}: deductible_scope must be \"year\" or \"visit\" (got {scope!r})")
    try:
        ratio = parse_ratio(rule["ratio"], "ratio")
    except ValueError as exc:
        raise ConfigProblem(f"{where}: {exc}") from None
    admdvs = rule.get("admdvs")
    if admdvs is not None and (not isinstance(admdvs, str) or len(admdvs) != 6 or not admdvs.isdigit()
                               or not admdvs.isascii()):
        raise ConfigProblem(f"{where}: admdvs must be a 6-digit area code in quotes (an area, a city \"xxxx00\" "
                            f"or a province \"xx0000\") (got {admdvs!r})")
    pool = rule.get("pool", "shared")
    if pool not in POOLS:
        raise ConfigProblem(f"{where}: pool must be one of {', '.join(POOLS)} (got {pool!r})")
    return PolicyRule(admdvs=admdvs, pool=pool,
                      insutype=_code(rule, "insutype", Insutype.values(), where),
                      med_type=_code(rule, "med_type", MedType.values(), where),
                      hosp_lv=_code(rule, "hosp_lv", HospLv.values(), where),
                      deductible=_fen(rule, "deductible", where), deductible_scope=scope, ratio=ratio,
                      annual_cap=_fen(rule, "annual_cap", where))


def parse_policy(section: dict[str, Any]) -> Policy:
    """The `[policy]` table as read from TOML -> Policy; every problem named precisely."""
    if not section:
        raise ConfigProblem("[policy] is missing from config.toml: settlement needs b_selfpay_ratio and rules")
    unknown = sorted(set(section) - {"b_selfpay_ratio", "rule", *LIMIT_KEYS})
    if unknown:
        raise ConfigProblem(f"[policy]: unknown key(s) {', '.join(unknown)}; expected b_selfpay_ratio, "
                          f"{', '.join(LIMIT_KEYS)} and [[policy.rule]]")
    if "b_selfpay_ratio" not in section:
        raise ConfigProblem("[policy]: b_selfpay_ratio is missing (e.g. \"0.10\")")
    try:
        b_ratio = parse_ratio(section["b_selfpay_ratio"], "b_selfpay_ratio")
    except ValueError as exc:
        raise ConfigProblem(f"[policy]: {exc}") from None
    rules = section.get("rule")
    if not isinstance(rules, list) or not rules:
        raise ConfigProblem("[policy]: at least one [[policy.rule]] is needed")
    defaults = BillLimits()
    limits = BillLimits(**{k: _fen(section, k, "[policy]") if k in section else getattr(defaults, k)
                           for k in LIMIT_KEYS})
    return Policy(b_ratio, tuple(_rule(r, f"[[policy.rule]] #{i}") for i, r in enumerate(rules, 1)), limits)
