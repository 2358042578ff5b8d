"""JSON for the interface, exact for money: numbers read as Decimal, Decimals written as JSON numbers.

`json` would read `178.45` as a float and cannot write a Decimal as a number; the platform's amounts
are decimal numbers, so both directions are done here. Anything a client can send is refused with
`ValueError` and a short reason: not UTF-8, not JSON, NaN/Infinity, a number of thousands of digits,
nesting deeper than `MAX_DEPTH`, an object with the same key twice (which value would count is not clear).

A request body (`loads(..., long_numbers="mark")`) keeps a number longer than `MAX_NUMBER_CHARS` as a
`LongNumber` instead: the envelope can still be read, and the field holding it is refused by name (an amount
field says "too many digits", a text field "must be text").
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Literal

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 40
_encode_str = json.encoder.encode_basestring


class LongNumber:
    """A JSON number of more than `MAX_NUMBER_CHARS` characters, never converted (thousands of digits would cost
    the parser seconds); only its length is kept, for the refusal."""

    __slots__ = ("chars",)

    def __init__(self, chars: int) -> None:
        self.chars = chars

    def __repr__(self) -> str:
        return f"LongNumber({self.chars} characters)"


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number the interface accepts")


def _refuse_long(text: str) -> Any:
    raise ValueError("a number with too many digits")


def _number_reader(convert: Any, long: Any) -> Any:
    def read(text: str) -> Any:
        return long(text) if len(text) > MAX_NUMBER_CHARS else convert(text)
    return read


def _mark_long(text: str) -> LongNumber:
    return LongNumber(len(text))


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"the key {_encode_str(key)} appears twice in one object")
        obj[key] = value
    return obj


def loads(data: bytes | str, *, long_numbers: Literal["refuse", "mark"] = "refuse") -> Any:
    """Parse a request body; ValueError (with a reason a developer can act on) for anything malformed.
    `long_numbers="mark"`: a number over `MAX_NUMBER_CHARS` is a `LongNumber`, not a ValueError."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the body is not UTF-8") from None
    if _depth_exceeds(data, MAX_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        long = _mark_long if long_numbers == "mark" else _refuse_long
        return json.loads(data, parse_float=_number_reader(Decimal, long), parse_int=_number_reader(int, long),
                          parse_constant=_constant, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None


def _depth_exceeds(text: str, limit: int) -> bool:
    """A cheap scan (strings skipped) so a hostile body never reaches the recursive parser."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def dumps(obj: Any) -> str:
    """Compact JSON, UTF-8 text kept as is (ensure_ascii off), Decimal written as a number exactly."""
    parts: list[str] = []
    _write(obj, parts)
    return "".join(parts)


def _write(obj: Any, out: list[str]) -> None:
    if isinstance(obj, str):
        out.append(_encode_str(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, Decimal):
        if not obj.is_finite():
            raise ValueError("a non-finite Decimal cannot be written")
        out.append(format(obj, "f"))
    elif isinstance(obj, dict):
        out.append("{")
        first = True
        for key, value in obj.items():
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(str(key)))
            out.append(":")
            _write(value, out)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _write(value, out)
        out.append("]")
    elif isinstance(obj, float):
        raise TypeError("floats are never written: money is Decimal at the edge")
    else:
        raise TypeError(f"cannot write {type(obj).__name__} as JSON")
