"""The interface's field types, each with the platform's rule and a JSON schema an HIS developer can read.

Amounts are JSON numbers in yuan with at most two decimals (16,2), prices six (16,6), quantities four
(16,4), ratios four (5,4). Text never carries control characters or lone surrogates (a name with an
escape sequence would rewrite a cashier's terminal). Dates are `yyyy-MM-dd`, times `yyyy-MM-dd HH:mm:ss`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from centre.interface.amounts import MAX_YUAN, AmountError, places_at_most
from centre.interface.jsonio import MAX_NUMBER_CHARS, LongNumber

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# the shape first: `strptime` takes "2026-1-5 9:3:0" and `fromisoformat` a week date ("2026-W01-1")
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


class Model(BaseModel):
    """Every interface model: strict types, unknown fields ignored (HIS systems send more than they must)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=True, defer_build=True)


def _number(value: Any) -> Decimal:
    """A JSON number (int or Decimal as `jsonio` reads it); a string, bool or float is a wrong type."""
    if isinstance(value, LongNumber):
        raise ValueError(f"a number with too many digits ({value.chars} characters, at most {MAX_NUMBER_CHARS})")
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError(f"must be a JSON number, not {type(value).__name__}")
    d = Decimal(value)
    if not d.is_finite():
        raise ValueError("must be a finite number")
    return d


def _places(places: int, lo: Decimal | None = None, hi: Decimal | None = None):
    def check(value: Decimal) -> Decimal:
        try:
            places_at_most(value, places, "value")
        except AmountError as exc:
            raise ValueError(str(exc).replace("value ", "")) from None
        if lo is not None and value < lo:
            raise ValueError(f"must be at least {lo}")
        if hi is not None and value > hi:
            raise ValueError(f"must be at most {hi}")
        return value
    return check


def _text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _date(value: str) -> str:
    try:
        if not _DATE_SHAPE.fullmatch(value):
            raise ValueError
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date written yyyy-MM-dd") from None
    return value


def _datetime(value: str) -> str:
    try:
        if not _DATETIME_SHAPE.fullmatch(value):
            raise ValueError
        dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ValueError("must be a time written yyyy-MM-dd HH:mm:ss") from None
    return value


def _datetime_or_empty(value: str) -> str:
    return value if value == "" else _datetime(value)


Str = Annotated[str, AfterValidator(_text)]
"""Any text field: give its length with `Field(max_length=...)` on the model."""


Amount = Annotated[Decimal, BeforeValidator(_number), AfterValidator(_places(2, -MAX_YUAN, MAX_YUAN)),
                   WithJsonSchema({"type": "number", "multipleOf": 0.01, "minimum": -float(MAX_YUAN),
                                   "maximum": float(MAX_YUAN),
                                   "description": "yuan, two decimals (数值型 16,2)"})]
Price = Annotated[Decimal, BeforeValidator(_number), AfterValidator(_places(6, Decimal(0), MAX_YUAN)),
                  WithJsonSchema({"type": "number", "minimum": 0, "maximum": float(MAX_YUAN),
                                  "description": "yuan, up to six decimals (16,6)"})]
Quantity = Annotated[Decimal, BeforeValidator(_number), AfterValidator(_places(4, Decimal("0.0001"), Decimal(10**8))),
                     WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 10**8,
                                     "description": "up to four decimals (16,4)"})]
Ratio = Annotated[Decimal, BeforeValidator(_number), AfterValidator(_places(4, Decimal(0), Decimal(1))),
                  WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1,
                                  "description": "a ratio, up to four decimals (5,4)"})]
Age = Annotated[Decimal, BeforeValidator(_number), WithJsonSchema({"type": "number", "description": "years (4,1)"})]

DateText = Annotated[str, Field(max_length=10), AfterValidator(_date),
                     WithJsonSchema({"type": "string", "format": "date", "example": "2026-12-01"})]
DateTimeText = Annotated[str, Field(max_length=19), AfterValidator(_datetime),
                         WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
                                         "example": "2026-12-01 09:30:00"})]
OptDateTimeText = Annotated[str, Field(max_length=19), AfterValidator(_datetime_or_empty),
                            WithJsonSchema({"type": "string",
                                            "pattern": r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})?$",
                                            "example": "2026-12-01 09:30:00"})]
"""A time that may be left empty (`""`): the same format when given."""

Admdvs = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="行政区划 (GB/T 2260), 6 digits")]
PsnNo = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[0-9A-Za-z]+$", description="人员编号")]
IdText = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[0-9A-Za-z_-]+$")]
