"""The centre's settings, read from the same config.toml a window uses: `[policy]`, `[mutual_aid]` and the
centre's own keys in `[centre]`. Checked once, when the centre starts: a wrong value names its key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from centre.errors import ConfigProblem
from centre.rules.mutual_aid import MutualAidPolicy
from centre.rules.policy import Policy, check_hosp_lv, parse_policy
from drivers.voucher import VoucherError, parse_key

Clock = Callable[[], dt.datetime]

# [centre] keys the centre itself reads (a window reads others: url, db, timeouts ...)
CENTRE_KEYS = {
    "require_sign_in": bool,     # business transactions need a sign_no from 9001
    "timezone": str,             # the centre's clock: setl_time, setl_date, same-day reversal
    "default_hosp_lv": str,      # the level of a hospital the centre has no `medins` line for
    "id_card_account": bool,     # a visit on the ID card (mdtrt_cert_type 02) may use the personal account
}


@dataclass(frozen=True)
class CentreSettings:
    policy: Policy
    mutual_aid: MutualAidPolicy
    default_hosp_lv: str = "3"
    require_sign_in: bool = True
    timezone: str = "Asia/Shanghai"
    id_card_account: bool = False
    # [voucher] key: the e-voucher key shared with the app (None: no e-vouchers); never in a repr or a log
    voucher_key: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, raw: dict[str, Any]) -> "CentreSettings":
        """From a parsed config.toml (the whole dict); ConfigProblem names the key that is wrong."""
        section = raw.get("centre", {}) or {}
        if not isinstance(section, dict):
            raise ConfigProblem("[centre] must be a table")
        values: dict[str, Any] = {}
        for key, kind in CENTRE_KEYS.items():
            if key in section:
                value = section[key]
                if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                    raise ConfigProblem(f"[centre] {key} must be a {kind.__name__} (got {value!r})")
                values[key] = value
        own_lv = values.pop("default_hosp_lv", "")
        hosp_lv = own_lv or (raw.get("terminal") or {}).get("hosp_lv", "3")
        check_hosp_lv(hosp_lv, "[centre] default_hosp_lv" if own_lv else "[terminal] hosp_lv")
        if "timezone" in values:
            zone(values["timezone"])
        return cls(policy=parse_policy(raw.get("policy") or {}),
                   mutual_aid=MutualAidPolicy.from_config(raw.get("mutual_aid") or {}),
                   default_hosp_lv=hosp_lv, voucher_key=voucher_key(raw), **values)

    def clock(self) -> Clock:
        """Now, as a naive datetime in the centre's time zone (what setl_time and setl_date are written in)."""
        tz = zone(self.timezone)
        return lambda: dt.datetime.now(tz).replace(tzinfo=None)


def voucher_key(raw: dict[str, Any]) -> bytes | None:
    """The [voucher] key as bytes, None when empty or absent; ConfigProblem when it is not 64 hex digits."""
    section = raw.get("voucher", {}) or {}
    if not isinstance(section, dict):
        raise ConfigProblem("[voucher] must be a table")
    text = section.get("key", "")
    if text == "":
        return None
    try:
        return parse_key(text)
    except VoucherError:
        raise ConfigProblem("[voucher] key must be 64 hex digits (32 bytes), or empty") from None


def zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigProblem(f"[centre] timezone {name!r} is not a time zone this machine knows "
                            f"(e.g. \"Asia/Shanghai\")") from None
