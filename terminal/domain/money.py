"""Money helpers shared by the domain: integer fen, Decimal ratios, half-up rounding, yuan text.

API: `round_fen(x: Decimal) -> int` (half-up to the fen), `yuan(fen) -> "12.50"`,
`yuan_text(fen) -> "¥2,000,000.00"` (what a cashier reads in a message),
`parse_ratio(value, what) -> Decimal` (a quoted decimal string like "0.70", 0..1; a bare number is refused).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def round_fen(x: Decimal) -> int:
    """Round a Decimal amount of fen half-up to a whole fen (never through float)."""
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals: 12345 -> "123.45", -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def yuan_text(fen: int) -> str:
    """Integer fen as a cashier reads an amount in a message: 200000000 -> "¥2,000,000.00", -5 -> "-¥0.05"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def parse_ratio(value: object, what: str) -> Decimal:
    """A ratio written as a decimal string ("0.70"), 0..1; ValueError with a clear message otherwise.

    A TOML number (0.75, or even 1) is refused with the quoted form to write instead: floats are
    never used for money, and a ratio is part of every amount the fund pays.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"{what} must be a decimal string: quote it, {what} = \"{value}\" "
                         f"(floats are never used for money)")
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a decimal string like \"0.70\" (got {value!r})")
    try:
        ratio = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{what} must be a decimal string like \"0.70\" (got {value!r})") from None
    if not ratio.is_finite() or ratio < 0 or ratio > 1:
        raise ValueError(f"{what} must be between 0 and 1 (got {value!r})")
    return ratio
