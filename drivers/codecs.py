"""Small byte codecs the card uses: packed BCD, BCD dates, padded text, PIN blocks.

Every decoder raises `CardError(malformed)` on bytes it cannot read, so random
card data yields either a value or the project's own error.
"""

from __future__ import annotations

import datetime as dt

from drivers.errors import MALFORMED, PIN_INVALID, CardError

TEXT_ENCODING = "gb18030"  # a superset of GBK: also decodes the rare characters


def bcd_digits(raw: bytes, pad_f: bool = False) -> str:
    """Packed BCD to a digit string; with pad_f, trailing F nibbles are padding."""
    out = []
    for b in raw:
        for nib in (b >> 4, b & 0x0F):
            out.append(nib)
    if pad_f:
        while out and out[-1] == 0xF:
            out.pop()
    if any(n > 9 for n in out):
        raise CardError(MALFORMED, f"not BCD: {raw.hex().upper()}")
    return "".join(str(n) for n in out)


def digits_to_bcd(digits: str, length: int | None = None, pad: int = 0xF) -> bytes:
    """A digit string to packed BCD, padded with F nibbles (odd length or up to length)."""
    if not digits.isdigit() and digits != "":
        raise ValueError(f"not digits: {digits!r}")
    nibbles = [int(c) for c in digits]
    total = (length * 2) if length is not None else len(nibbles) + (len(nibbles) % 2)
    if len(nibbles) > total:
        raise ValueError("too many digits")
    nibbles += [pad] * (total - len(nibbles))
    return bytes((nibbles[i] << 4) | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def bcd_date(raw: bytes) -> str:
    """4 bytes BCD YYYYMMDD to ISO YYYY-MM-DD ("" for all zero / all FF)."""
    if len(raw) != 4:
        raise CardError(MALFORMED, f"a date has 4 bytes, got {len(raw)}")
    if raw in (b"\x00" * 4, b"\xff" * 4):
        return ""
    s = bcd_digits(raw)
    try:
        return dt.date(int(s[:4]), int(s[4:6]), int(s[6:])).isoformat()
    except ValueError:
        raise CardError(MALFORMED, f"not a date: {s}") from None


def date_to_bcd(iso: str) -> bytes:
    return digits_to_bcd(iso.replace("-", ""), 4)


def compact_date(iso: str) -> str:
    """ISO date to the YYYYMMDD the reader interface prints."""
    return iso.replace("-", "")


def text(raw: bytes) -> str:
    """GBK/GB18030 text, padding of 00 and 20 (and FF, never a GBK byte) stripped at both ends."""
    stripped = raw.rstrip(b"\x00 \xff").lstrip(b"\x00 ")
    stripped = stripped.split(b"\x00", 1)[0]
    try:
        return stripped.decode(TEXT_ENCODING)
    except UnicodeDecodeError:
        raise CardError(MALFORMED, f"text is not GBK: {raw.hex().upper()}") from None


def encode_text(value: str, length: int) -> bytes:
    raw = value.encode(TEXT_ENCODING)
    if len(raw) > length:
        raise ValueError(f"{value!r} needs {len(raw)} bytes, field has {length}")
    return raw + b"\x00" * (length - len(raw))


def ascii_text(raw: bytes) -> str:
    stripped = raw.rstrip(b"\x00 \xff").lstrip(b"\x00 ")
    try:
        return stripped.decode("ascii")
    except UnicodeDecodeError:
        raise CardError(MALFORMED, f"not ASCII: {raw.hex().upper()}") from None


def pin_block(pin: str) -> bytes:
    """PIN as packed BCD, 4-16 digits, F-padded when odd: the data of VERIFY and CHANGE PIN."""
    if not (isinstance(pin, str) and pin.isdigit() and pin.isascii() and 4 <= len(pin) <= 16):
        raise CardError(PIN_INVALID)
    return digits_to_bcd(pin)
