"""A small strict checker for config.toml tables: a frozen dataclass per table, every key known, every value
checked against its field's type and `Rule`.

    @dataclass(frozen=True)
    class CentreSection:
        url: str = key("", pattern=r"https?://\\S+", hint="an http(s) URL")
        timeout_s: float = key(10.0, min=0, min_open=True, max=600)

    check_table(CentreSection, data.get("centre", {}), "[centre]")

Types: str, bool (TOML true/false only: "false" in quotes is refused), int (not bool), float (an int is
fine; NaN and infinities are not). A str may never hold control or invisible characters (terminal.domain.text).
Errors are ConfigError naming the table and key; the caller adds the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import typing
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from terminal.domain.text import shown, unsafe_char
from terminal.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    """What a field's value must be beyond its type."""

    choices: tuple[str, ...] = ()         # one of these (compared after `fold`)
    fold: Callable[[str], str] | None = None
    min: float | None = None
    min_open: bool = False                # min itself is not allowed
    max: float | None = None
    max_len: int | None = None
    required: bool = False                # a str may not be empty or blank
    pattern: str | None = None            # the whole value must match
    hint: str = ""                        # what the pattern means, for the message
    secret: bool = False                  # never quote the value (a PIN)


def key(default: Any, **rule: Any) -> Any:
    """A dataclass field with a default and a Rule."""
    return dataclasses.field(default=default, metadata={"rule": Rule(**rule)})


def check_table(cls: type[T], table: object, where: str) -> T:
    """`table` (as read from TOML) -> cls, or ConfigError naming the first problem."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of keys, not {shown(table)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown_keys(table, fields, where)
    hints = typing.get_type_hints(cls)
    values = {name: check_value(value, hints[name], fields[name].metadata.get("rule", Rule()), f"{where} {name}")
              for name, value in table.items()}
    return cls(**values)


def unknown_keys(table: dict, known: typing.Iterable[str], where: str) -> None:
    """ConfigError for the first key that is not known, with the nearest known key when it looks like a typo."""
    known = list(known)
    for name in table:
        if name not in known:
            near = difflib.get_close_matches(str(name), known, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise ConfigError(f"{where}: unknown key {shown(name)}{hint}; known keys: {', '.join(known)}")


def check_value(value: Any, kind: Any, rule: Rule, what: str) -> Any:
    """One value against its type and rule; returns it (a str folded, an int as float for a float field)."""
    quoted = "(hidden)" if rule.secret else shown(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{what} must be true or false (without quotes), not {quoted}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{what} must be a whole number (without quotes), not {quoted}")
        _range(value, rule, what)
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{what} must be a number (without quotes), not {quoted}")
        _range(value, rule, what)
        return float(value)
    if kind is str:
        return _text(value, rule, what, quoted)
    raise TypeError(f"config_schema cannot check {kind!r} ({what})")  # a schema bug, not a user's


def _text(value: Any, rule: Rule, what: str, quoted: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be text in quotes, not {quoted}")
    bad = unsafe_char(value)
    if bad is not None:
        raise ConfigError(f"{what} must not contain control or invisible characters ({bad})")
    if rule.required and not value.strip():
        raise ConfigError(f"{what} must not be empty")
    if rule.max_len is not None and len(value) > rule.max_len:
        raise ConfigError(f"{what} is too long: {len(value)} characters, at most {rule.max_len}")
    if rule.fold is not None:
        value = rule.fold(value)
    if rule.choices and value not in rule.choices:
        raise ConfigError(f"{what} must be one of {', '.join(rule.choices)}, not {quoted}")
    if rule.pattern is not None and not re.fullmatch(rule.pattern, value):
        raise ConfigError(f"{what} must be {rule.hint or 'like ' + rule.pattern}, not {quoted}")
    return value


def _range(value: float, rule: Rule, what: str) -> None:
    low = rule.min is not None and (value < rule.min or (rule.min_open and value == rule.min))
    high = rule.max is not None and value > rule.max
    if low or high:
        if rule.max is None:
            bound = f"more than {_num(rule.min)}" if rule.min_open else f"at least {_num(rule.min)}"
        elif rule.min is None:
            bound = f"at most {_num(rule.max)}"
        else:
            bound = f"{'more than' if rule.min_open else 'from'} {_num(rule.min)} {'up ' if rule.min_open else ''}to " \
                    f"{_num(rule.max)}"
        raise ConfigError(f"{what} must be {bound}, not {_num(value)}")


def _num(value: float | None) -> str:
    """A number as a message shows it (a 5,000-digit int by its size: it cannot be turned into text)."""
    return f"{value:g}" if isinstance(value, float) else shown(value)
