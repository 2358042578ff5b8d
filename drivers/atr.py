"""ATR: find the historical bytes (ISO 7816-3). The terminal shows the ATR but never depends on it."""

from __future__ import annotations


def historical_bytes(atr: bytes) -> bytes:
    """The K historical bytes after TS, T0 and the interface bytes."""
    atr = bytes(atr)
    if len(atr) < 2:
        return b""
    k = atr[1] & 0x0F
    y = atr[1] >> 4
    pos = 2
    while True:
        count = bin(y).count("1")
        td_present = bool(y & 0x8)
        pos += count
        if not td_present or pos > len(atr):
            break
        y = atr[pos - 1] >> 4
    hist = atr[pos:pos + k]
    if len(hist) != k:  # malformed ATR: fall back to its last K bytes
        return atr[-k:] if k else b""
    return hist
