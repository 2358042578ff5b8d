"""The config's `[policy]` and `[mutual_aid]` tables as the window reads them, parsed once per loaded config:
the bill's absurd-amount limits (`[policy]` max_item_price, max_bill_total) and the mutual-aid rules the
cache importer (`cashier db import`) and the cached family lookup judge bindings by. The money rules
themselves are the centre's."""

from __future__ import annotations

from terminal.config import Config, parsed_once
from terminal.domain.mutual_aid import MutualAidPolicy
from terminal.domain.policy import Policy

__all__ = ["mutual_aid_of", "policy_of"]


def policy_of(cfg: Config) -> Policy:
    """[policy] (and the [terminal] hosp_lv its rules match), parsed once per loaded config."""
    return parsed_once(cfg, "policy", Policy.from_config)


def mutual_aid_of(cfg: Config) -> MutualAidPolicy:
    """[mutual_aid], parsed once per loaded config."""
    return parsed_once(cfg, "mutual_aid", lambda c: MutualAidPolicy.from_config(c.section("mutual_aid")))
