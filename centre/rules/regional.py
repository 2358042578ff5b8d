"""Regional mutual-aid rules as data: what a pooling area, its city or its province says differently.

Areas differ in ways a cashier must explain: how many users one owner may bind, whether a user may have one
owner or several, whether only the prior-year balance (历年结余) may be shared, whether class C (fully
self-paid) items may be paid from an account, and the day each province joined cross-province mutual aid.
The centre keeps these as `region_rule` lines (centre/data/region_rules.jsonl, imported like regions and
overridable by any centre export); a value a line leaves out is not said there.

An area's rule is found by walking out from the area: the area itself, its city (first four digits + 00),
its province (first two digits + 0000); the first line that says a value gives it. Nothing said anywhere:
the national default in config `[mutual_aid.options]`. Every value remembers where it came from, so a
refusal can name the rule and the region ("河南省(410000)规定 ...").

Which area decides what: the owner's insured area decides how many users the owner may bind, whether a
user may have more than one owner, and whether only the prior-year balance may be shared (the account and
the binding belong there); the patient's insured area decides whether accounts pay class C items in their
settlement (the settlement follows the insured place's policy); each person's province decides from when
they may take part in cross-province mutual aid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from centre.errors import Refused

DATA = Path(__file__).resolve().parent.parent / "data" / "region_rules.jsonl"

FIELDS = ("max_users_per_owner", "one_owner_per_user", "share_prior_year_only", "account_pays_class_c",
          "cross_province_since")


@dataclass(frozen=True)
class RegionRule:
    """One `region_rule` line: what an area, a city or a province says; None = not said here."""

    admdvs: str
    name: str
    max_users_per_owner: int | None = None      # 0 = no cap
    one_owner_per_user: bool | None = None
    share_prior_year_only: bool | None = None
    account_pays_class_c: bool | None = None
    cross_province_since: str | None = None     # the day the province (or area) joined


@dataclass(frozen=True)
class Said:
    """A rule's value and who said it (admdvs None: the national default of the config)."""

    value: Any
    admdvs: str | None = None
    name: str = ""

    @property
    def where_en(self) -> str:
        return f"{self.name} ({self.admdvs})" if self.admdvs else "the national default ([mutual_aid.options])"

    @property
    def where_zh(self) -> str:
        return f"{self.name}({self.admdvs})" if self.admdvs else "全国默认规则"

    @property
    def regional(self) -> bool:
        return self.admdvs is not None


@dataclass(frozen=True)
class RegionalRules:
    """The rules in force for one insured area, each with where it came from."""

    admdvs: str
    max_users_per_owner: Said
    one_owner_per_user: Said
    share_prior_year_only: Said
    account_pays_class_c: Said
    cross_province_since: Said

    def said(self) -> list[tuple[str, Said]]:
        return [(f, getattr(self, f)) for f in FIELDS]


def bundled(path: Path = DATA) -> list[RegionRule]:
    """The region_rule lines shipped with the centre (importable with `cashier centre import`)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(RegionRule(d["admdvs"], d["name"], *(d.get(f) for f in FIELDS)))
    return out


def chain(admdvs: str) -> list[str]:
    """The codes to look at for an area, nearest first: the area, its city, its province."""
    out: list[str] = []
    for code in (admdvs, admdvs[:4] + "00", admdvs[:2] + "0000"):
        if len(code) == 6 and code not in out:
            out.append(code)
    return out


def resolve(admdvs: str, rows: Mapping[str, RegionRule], defaults: Mapping[str, Any]) -> RegionalRules:
    """The rules for `admdvs`: each value from the nearest line that says it, else `defaults[field]`."""
    found: dict[str, Said] = {}
    for field in FIELDS:
        for code in chain(admdvs or ""):
            row = rows.get(code)
            if row is not None and getattr(row, field) is not None:
                found[field] = Said(getattr(row, field), row.admdvs, row.name)
                break
        else:
            found[field] = Said(defaults[field])
    return RegionalRules(admdvs, **found)


# --- what each rule says, as a cashier reads it out ---------------------------------------------

def explain(field: str, said: Said) -> tuple[str, str]:
    """(en, zh) of one rule as it stands, naming who said it."""
    v = said.value
    if field == "max_users_per_owner":
        en = f"one owner may bind at most {v} users" if v else "no cap on the users one owner may bind"
        zh = f"每位授权人最多绑定{v}名使用人" if v else "授权人绑定人数不限"
    elif field == "one_owner_per_user":
        en = "a user may be bound by one owner only" if v else "a user may be bound by several owners"
        zh = "每位使用人只能被一位授权人绑定" if v else "使用人可被多位授权人绑定"
    elif field == "share_prior_year_only":
        en = ("only the prior-year balance (历年结余) may be shared with relatives" if v
              else "the whole balance may be shared with relatives")
        zh = "只有历年结余可以共济给家人使用" if v else "个人账户余额均可共济"
    elif field == "account_pays_class_c":
        en = ("accounts may pay class C (fully self-paid) items" if v
              else "class C (fully self-paid) items are paid in cash, never from an account")
        zh = "个人账户可以支付丙类(全自费)费用" if v else "丙类(全自费)费用不得使用个人账户支付,须现金支付"
    else:
        en = f"cross-province mutual aid from {v}"
        zh = f"自{v}起开通跨省共济"
    return f"{said.where_en}: {en}", f"{said.where_zh}:{zh}"


def refuse_user_cap(rules: RegionalRules, owner_name: str, bound: int) -> Refused:
    said = rules.max_users_per_owner
    return Refused("owner_user_cap",
                   f"{said.where_en} allows one owner to bind at most {said.value} users (max_users_per_owner): "
                   f"{owner_name} already binds {bound}; unbind one first",
                   f"{said.where_zh}规定每位授权人最多绑定{said.value}名使用人,{owner_name}已绑定{bound}名,"
                   "请先解绑一位", rule="max_users_per_owner", region=said.admdvs)


def refuse_one_owner(rules: RegionalRules, user_name: str) -> Refused:
    said = rules.one_owner_per_user
    return Refused("user_has_owner",
                   f"{said.where_en} allows one owner per user (one_owner_per_user): {user_name} is already "
                   "bound by another owner",
                   f"{said.where_zh}规定每位使用人只能被一位授权人绑定,{user_name}已被其他授权人绑定",
                   rule="one_owner_per_user", region=said.admdvs)


def refuse_not_joined(said: Said, person_name: str, on_date: str) -> Refused:
    return Refused("cross_province_not_yet",
                   f"{said.where_en} joins cross-province mutual aid on {said.value} (cross_province_since): "
                   f"not yet for {person_name} on {on_date}",
                   f"{said.where_zh}自{said.value}起开通跨省共济,{person_name}于{on_date}尚不能跨省共济",
                   rule="cross_province_since", region=said.admdvs)


def refuse_prior_year_only(rules: RegionalRules, owner_name: str, wanted: int, prior: int) -> Refused:
    from centre.interface.amounts import yuan_text
    said = rules.share_prior_year_only
    return Refused("prior_year_only",
                   f"{said.where_en} shares only the prior-year balance (share_prior_year_only): {owner_name}'s "
                   f"prior-year balance is {yuan_text(prior)}, less than {yuan_text(wanted)}",
                   f"{said.where_zh}规定只有历年结余可以共济,{owner_name}的历年结余为{yuan_text(prior)},"
                   f"不足{yuan_text(wanted)}", rule="share_prior_year_only", region=said.admdvs)
