"""The reimbursement policy (docs/interfaces.md) read from config.toml `[policy]`, validated: the window checks
it at load (the embedded centre settles by it, centre/rules/policy.py) and takes the bill's absurd-amount
limits from it.

API:
- `Policy.from_config(cfg) -> Policy` / `parse_policy(section: dict) -> Policy`
  (raises `terminal.config.ConfigError` naming the rule and key that is wrong).
- `PolicyRule`: insutype, med_type, hosp_lv, deductible (fen), deductible_scope
  ("year"|"visit"), ratio (Decimal), annual_cap (fen).
- `Policy.bill_limits`: `BillLimits` from the optional `max_item_price`, `max_bill_total` (fen).
- `check_hosp_lv(level)`: the terminal's own level must be "1", "2" or "3" (from_config checks it).
Ratios are quoted decimal strings ("0.70") of at most RATIO_DECIMALS decimals: a TOML number is refused,
floats never touch money. `terminal.config.load_config` runs parse_policy on a config's [policy] when it loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from centre.interface.amounts import MAX_FEN
from centre.interface.codes import DeductibleScope, HospLv, Insutype, MedType
from terminal.domain.bill import BillLimits
from terminal.domain.money import parse_ratio
from terminal.domain.text import printable, shown
from terminal.errors import ConfigError

LIMIT_KEYS = ("max_item_price", "max_bill_total")   # optional: BillLimits' defaults otherwise
RULE_KEYS = ("insutype", "med_type", "hosp_lv", "deductible", "deductible_scope", "ratio", "annual_cap")
RATIO_DECIMALS = 6   # "0.855" is a ratio; "0.1111…" with 5,000 decimals is a mistake


@dataclass(frozen=True)
class PolicyRule:
    insutype: str
    med_type: str
    hosp_lv: str
    deductible: int
    deductible_scope: str
    ratio: Decimal
    annual_cap: int


@dataclass(frozen=True)
class Policy:
    b_selfpay_ratio: Decimal
    rules: tuple[PolicyRule, ...]
    bill_limits: BillLimits = BillLimits()

    @classmethod
    def from_config(cls, cfg) -> "Policy":
        """The config's `[policy]`, and the `[terminal] hosp_lv` its rules are matched with, both checked."""
        check_hosp_lv(cfg.terminal.hosp_lv)
        return parse_policy(cfg.section("policy"))


def check_hosp_lv(level: Any) -> str:
    """The hospital's own level ([terminal] hosp_lv): "*" is for rules only; "7" would silently match only "*"."""
    if not isinstance(level, str) or level not in HospLv.values():
        raise ConfigError(f"[terminal] hosp_lv must be \"1\", \"2\" or \"3\" (the hospital's level; \"*\" is only "
                          f"for [[policy.rule]]) (got {level!r})")
    return level


def _code(rule: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value = rule.get(key)
    if not isinstance(value, str) or value not in (*allowed, "*"):
        raise ConfigError(f"{where}: {key} must be one of {', '.join(allowed)} or \"*\" (got {shown(value)})")
    return value


def _fen(rule: dict[str, Any], key: str, where: str) -> int:
    value = rule.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEN:
        raise ConfigError(f"{where}: {key} must be a whole number of fen between 0 and {MAX_FEN} (got {shown(value)})")
    return value


def _ratio(value: Any, key: str, where: str) -> Decimal:
    try:
        ratio = parse_ratio(value, key)
    except ValueError as exc:
        raise ConfigError(f"{where}: {printable(exc)}") from None
    exponent = ratio.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RATIO_DECIMALS and ratio != ratio.quantize(Decimal(1).scaleb(
            -RATIO_DECIMALS)):
        raise ConfigError(f"{where}: {key} may have at most {RATIO_DECIMALS} decimals (got {shown(value)})")
    return ratio


def _rule(rule: Any, where: str) -> PolicyRule:
    if not isinstance(rule, dict):
        raise ConfigError(f"{where}: must be a table of {', '.join(RULE_KEYS)}")
    unknown = sorted(set(rule) - set(RULE_KEYS) - {"admdvs", "pool"})   # the centre's (centre.rules.policy)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {printable(', '.join(unknown))}; "
                          f"a rule has {', '.join(RULE_KEYS)}")
    missing = [k for k in RULE_KEYS if k not in rule]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    scope = rule["deductible_scope"]
    if not isinstance(scope, str) or scope not in DeductibleScope.values():
        raise ConfigError(f"{where}: deductible_scope must be \"year\" or \"visit\" (got {shown(scope)})")
    ratio = _ratio(rule["ratio"], "ratio", where)
    return PolicyRule(insutype=_code(rule, "insutype", Insutype.values(), where),
                      med_type=_code(rule, "med_type", MedType.values(), where),
                      hosp_lv=_code(rule, "hosp_lv", HospLv.values(), where),
                      deductible=_fen(rule, "deductible", where), deductible_scope=scope, ratio=ratio,
                      annual_cap=_fen(rule, "annual_cap", where))


def parse_policy(section: dict[str, Any]) -> Policy:
    """The `[policy]` table as read from TOML -> Policy; every problem named precisely."""
    if not section:
        raise ConfigError("[policy] is missing from config.toml: settlement needs b_selfpay_ratio and rules")
    if not isinstance(section, dict):
        raise ConfigError(f"[policy] must be a table, not {shown(section)}")
    unknown = sorted(map(str, set(section) - {"b_selfpay_ratio", "rule", *LIMIT_KEYS}))
    if unknown:
        raise ConfigError(f"[policy]: unknown key(s) {printable(', '.join(unknown))}; expected b_selfpay_ratio, "
                          f"{', '.join(LIMIT_KEYS)} and [[policy.rule]]")
    if "b_selfpay_ratio" not in section:
        raise ConfigError("[policy]: b_selfpay_ratio is missing (e.g. \"0.10\")")
    b_ratio = _ratio(section["b_selfpay_ratio"], "b_selfpay_ratio", "[policy]")
    rules = section.get("rule")
    if not isinstance(rules, list) or not rules:
        raise ConfigError("[policy]: at least one [[policy.rule]] is needed")
    defaults = BillLimits()
    limits = BillLimits(**{k: _fen(section, k, "[policy]") if k in section else getattr(defaults, k)
                           for k in LIMIT_KEYS})
    # a rule with admdvs is another area's policy, applied by the centre to the people insured there: not this
    # window's own rules
    return Policy(b_ratio, tuple(_rule(r, f"[[policy.rule]] #{i}") for i, r in enumerate(rules, 1)
                                 if not (isinstance(r, dict) and "admdvs" in r)), limits)
