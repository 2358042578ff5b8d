"""GB/T 4761-2008 family relationship codes (家庭关系代码), loaded from relations.json beside this module.

A code says what the user (使用人) is to the owner (授权人): 30 = the user is the owner's daughter.
Which codes are 近亲属 (Civil Code art. 1045) is marked in the data; in-laws are not.
The sub-code numbers were written from memory of GB/T 4761-2008 and agree with one public integration
copy of the table, not the printed standard. Least sure: whether 59 and 69 end in 关系, 87 姨夫 vs 姨父,
and whether 80 其他 is a group header; the in-law sub-codes 28 38 53-56 72 74 76 78 agreed everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "relations.json"


@dataclass(frozen=True)
class Relation:
    code: str
    group: str          # the two-digit group code (10 spouse, 20 son, 30 daughter, 40, 50, 60, 70, 80 ...)
    zh: str
    en: str
    kind: str           # close | in_law | distant | self | none
    close_relative: bool
    gend: str | None    # the relative's sex implied by the code ('1' male, '2' female), None when either

    @property
    def in_law(self) -> bool:
        return self.kind == "in_law"

    def name(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en


@lru_cache(maxsize=1)
def table() -> dict[str, Relation]:
    """Every code of the table, by code."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    return {c["code"]: Relation(c["code"], c["group"], c["zh"], c["en"], c["kind"],
                                bool(c["close_relative"]), c.get("gend")) for c in data["codes"]}


def get(code: str) -> Relation | None:
    return table().get(code)


def is_known(code: object) -> bool:
    return isinstance(code, str) and code in table()


def name(code: str, lang: str = "zh") -> str:
    """The relation's name, or the code itself when unknown."""
    rel = get(code)
    return rel.name(lang) if rel else code
