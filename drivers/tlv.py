"""Record TLV of the SSSE files: tag(1) len(1) value (long-form lengths accepted)."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import MALFORMED, CardError


@dataclass(frozen=True)
class TLV:
    tag: int
    value: bytes

    def to_bytes(self) -> bytes:
        n = len(self.value)
        if n < 0x80:
            length = bytes((n,))
        elif n <= 0xFF:
            length = bytes((0x81, n))
        else:
            length = b"\x82" + n.to_bytes(2, "big")
        return bytes((self.tag,)) + length + self.value


def _parse_one(raw: bytes) -> tuple[TLV, int]:
    """The first TLV of raw and where it ends."""
    if len(raw) < 2:
        raise CardError(MALFORMED, f"record of {len(raw)} bytes")
    tag, n = raw[0], raw[1]
    pos = 2
    if n == 0x81:
        if len(raw) < 3:
            raise CardError(MALFORMED, "truncated length")
        n, pos = raw[2], 3
    elif n == 0x82:
        if len(raw) < 4:
            raise CardError(MALFORMED, "truncated length")
        n, pos = int.from_bytes(raw[2:4], "big"), 4
    elif n & 0x80:
        raise CardError(MALFORMED, f"length byte {n:02X}")
    if len(raw) < pos + n:
        raise CardError(MALFORMED, f"tag {tag:02X} announces {n} bytes, {len(raw) - pos} present")
    return TLV(tag, raw[pos:pos + n]), pos + n


def parse_record(raw: bytes) -> TLV:
    """One record: its first TLV. Trailing bytes (padding) are ignored."""
    return _parse_one(bytes(raw))[0]


def parse_all(raw: bytes) -> list[TLV]:
    """Every TLV in a buffer up to 00/FF padding (used for FCI templates and property tests)."""
    out: list[TLV] = []
    raw = bytes(raw)
    while raw and raw[0] not in (0x00, 0xFF):
        item, end = _parse_one(raw)
        out.append(item)
        raw = raw[end:]
    return out
