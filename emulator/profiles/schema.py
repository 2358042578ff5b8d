"""What a card profile (JSON) may hold, checked before any card is built from it.

Every field has the type and length the card's record has (EF05/EF06 as the SSSE layout writes them), so a
hand-written profile (`--reader emulator:/path/card.json`) is refused with the field named instead of failing
deep inside the card build: `problem(profile) -> str | None`. Names are GB18030 text of at most the record's
bytes, with no control or invisible characters (a raw ESC would reach the cashier's terminal).
The checks are of form, not of truth: a wrong ID check digit is allowed, to play a card the drivers refuse.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable

from drivers.codecs import TEXT_ENCODING

Check = Callable[[Any], str | None]   # a value -> why it is wrong, or None


def safe(value: object, limit: int = 40) -> str:
    """A value as a message may quote it: repr escapes controls; long text is cut."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        return "a very large number"
    text = repr(value[:limit] + "..." if isinstance(value, str) and len(value) > limit else value)
    return text[:limit + 10]


def _pattern(regex: str, what: str) -> Check:
    compiled = re.compile(regex)

    def check(value: Any) -> str | None:
        if isinstance(value, str) and compiled.fullmatch(value):
            return None
        return f"must be {what}, not {safe(value)}"
    return check


def _date(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            _dt.date.fromisoformat(value)
            return None
        except ValueError:
            pass
    return f"must be a real date written YYYY-MM-DD, not {safe(value)}"


def _text(max_bytes: int, required: bool) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"must be text, not {safe(value)}"
        if any(not c.isprintable() for c in value):
            return f"must not contain control or invisible characters: {safe(value)}"
        if required and not value.strip():
            return "must not be empty"
        try:
            size = len(value.encode(TEXT_ENCODING))
        except UnicodeEncodeError:
            return f"cannot be written on a card (not {TEXT_ENCODING} text): {safe(value)}"
        return None if size <= max_bytes else f"needs {size} bytes; the card's field has {max_bytes}"
    return check


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {safe(value)}"


def _int(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return None
        return f"must be a whole number from {low} to {high}, not {safe(value)}"
    return check


def _hex(digits: int, what: str) -> Check:
    return _pattern(f"[0-9A-Fa-f]{{{digits}}}", f"{digits} hex digits ({what})")


_KEY = _optional(_hex(32, "an SM4 key"))

#: each part: key -> (check, required)
PARTS: dict[str, dict[str, tuple[Check, bool]]] = {
    "card": {
        "card_sn": (_hex(32, "the 16-byte card identification code"), True),
        "card_type": (_hex(2, "one byte"), True),
        "version": (_pattern(r"[0-9]\.[0-9]{2}", 'a version of 4 characters like "3.00"'), True),
        "issuer": (_hex(24, "12 bytes"), True),
        "issue_date": (_date, True),
        "expiry_date": (_date, True),
        "card_no": (_pattern(r"[0-9A-Z]{9}", "9 capital letters or digits"), True),
    },
    "holder": {
        "certno": (_pattern(r"[0-9]{17}[0-9Xx]", "18 characters: 17 digits then a digit or X"), True),
        "name": (_text(30, required=True), True),
        "name_ext": (_optional(_text(20, required=False)), False),   # null: a 1.0 card without the record
        "gend": (_pattern(r"[0129]", "one of 0, 1, 2, 9"), True),
        "naty": (_pattern(r"[0-9]{2}", "2 digits"), True),
        "birthplace": (_pattern(r"[0-9]{1,6}", "a region code of up to 6 digits"), True),
        "brdy": (_date, True),
    },
    "pin": {"initial": (_pattern(r"[0-9]{4,16}", "4 to 16 digits in quotes"), False),
            "max_tries": (_int(1, 15), False), "tries_left": (_int(0, 15), False)},
    "security": {"needs_external_auth": (_bool, False), "has_external_key": (_bool, False),
                 "locked_reads_blank": (_bool, False), "external_key": (_KEY, False),
                 "internal_key": (_KEY, False)},
    "quirks": {"select_fci": (_bool, False), "get_response": (_bool, False), "exact_le": (_bool, False),
               "name_padding": (_int(0, 255), False)},
}
TOP: dict[str, tuple[Check, bool]] = {
    "id": (_pattern(r"[A-Za-z0-9_.-]{1,64}", "1 to 64 letters, digits, _ . or -"), False),
    "description": (_text(2000, required=False), False),
    "atr": (_pattern(r"3[BF]([0-9A-Fa-f]{2}){1,32}", "an ATR in hex (3B or 3F, then 1 to 32 bytes)"), False),
}
REQUIRED_PARTS = ("card", "holder")


def problem(profile: Any) -> str | None:
    """Why a profile cannot be played, naming the field ("holder.name needs 32 bytes ..."); None when fine."""
    if not isinstance(profile, dict):
        return f"a profile is a JSON object, not {type(profile).__name__}"
    found = _fields(profile, TOP, "", extra=frozenset(PARTS))
    if found:
        return found
    for part, fields in PARTS.items():
        if part not in profile:
            if part in REQUIRED_PARTS:
                return f"'{part}' is missing"
            continue
        if not isinstance(profile[part], dict):
            return f"'{part}' must be an object, not {safe(profile[part])}"
        found = _fields(profile[part], fields, f"{part}.")
        if found:
            return found
    pin = profile.get("pin") or {}
    if pin.get("tries_left", 0) > pin.get("max_tries", 3):
        return "pin.tries_left is more than pin.max_tries"
    return None


def _fields(obj: dict, fields: dict[str, tuple[Check, bool]], prefix: str, extra: frozenset[str] = frozenset()) -> str | None:
    for name in obj:
        if name not in fields and name not in extra:
            return f"unknown field {prefix}{safe(name)} (known: {', '.join([*fields, *sorted(extra)])})"
    for name, (check, required) in fields.items():
        if name not in obj:
            if required:
                return f"{prefix}{name} is missing"
            continue
        why = check(obj[name])
        if why:
            return f"{prefix}{name} {why}"
    return None
