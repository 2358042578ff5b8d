"""Money on screen: integer fen shown as yuan with two decimals (¥1,234.56); typed yuan read back as fen."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from centre.interface.amounts import yuan_text


def yuan(fen: int | None) -> str:
    """12345 → '¥123.45' (the domain's `yuan_text`); None → '—'."""
    return "—" if fen is None else yuan_text(fen)


# A quantity or an amount as the cashier types it into a box: ASCII digits with at most one '.'. Anything else
# ("1。5" from an IME, "1,5", "1e3", "-1", full-width digits) is refused as typed, never read as another number.
PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


def plain_number(text: str) -> bool:
    """Whether `text` is digits with at most one '.' (what the quantity, price and quota boxes take)."""
    return PLAIN_NUMBER.fullmatch(text) is not None


def parse_yuan(text: str) -> int | None:
    """'12.5' → 1250 fen; None when it is not an amount with at most two decimals (or is negative)."""
    text = text.strip().replace(",", "").lstrip("¥")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    exponent = value.as_tuple().exponent   # an int once the value is finite
    if isinstance(exponent, int) and exponent < -2:
        return None
    return int(value * 100)


def money_cell(fen: int | None, width: int) -> str:
    """An amount for a table cell of `width` columns, right-aligned so the decimal points line up
    (DataTable ignores a Text's justify)."""
    return yuan(fen).rjust(width)
