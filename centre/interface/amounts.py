"""Money at the edge: integer fen inside, yuan with two decimals on the platform.

On the national interface every amount is a JSON number in yuan (数值型 16,2: `178.45`), a price has six
decimals (16,6), a quantity four (16,4), a ratio four (5,4). Inside, amounts are integer fen and ratios
Decimal. The conversion is exact both ways; an amount with more decimals than its type allows is refused,
never rounded, because a rounding nobody asked for is money lost or made.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_FEN = 10**11            # 1,000,000,000.00 yuan: any amount above is a typo or an attack, never money
MAX_YUAN = Decimal(MAX_FEN) / 100


class AmountError(ValueError):
    """An amount that the interface's type cannot carry (too many decimals, too large, not a number)."""


def fen_to_yuan(fen: int) -> Decimal:
    """12345 -> Decimal("123.45") (always two decimals; -5 -> Decimal("-0.05"))."""
    return (Decimal(int(fen)) / 100).quantize(CENT)


def yuan_to_fen(yuan: Decimal | int, what: str = "amount") -> int:
    """Decimal("123.45") -> 12345. More than two decimals, a non-finite value or |x| > MAX_YUAN: AmountError."""
    value = _decimal(yuan, what)
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise AmountError(f"{what} has more than two decimals: {value}")
    if abs(value) > MAX_YUAN:
        raise AmountError(f"{what} is out of range: {value}")
    return int(value * 100)


def places_at_most(value: Decimal, places: int, what: str) -> Decimal:
    """Refuse a Decimal with more decimals than `places` (16,6 prices; 16,4 quantities; 5,4 ratios)."""
    value = _decimal(value, what)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise AmountError(f"{what} has more than {places} decimals: {value}")
    return value


def round_fen(x: Decimal) -> int:
    """A Decimal number of fen rounded half-up to a whole fen (never through float)."""
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def yuan_text(fen: int) -> str:
    """What a cashier reads: 200000000 -> "¥2,000,000.00", -5 -> "-¥0.05"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def yuan_plain(fen: int) -> str:
    """12345 -> "123.45" (slips, tables)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise AmountError(f"{what} must be a number (got {type(value).__name__})")
    try:
        d = Decimal(value)
    except (InvalidOperation, ValueError):
        raise AmountError(f"{what} is not a number") from None
    if not d.is_finite():
        raise AmountError(f"{what} is not a finite number")
    return d
