"""An ID number on screen is always masked: the first 6 and the last 4 characters, the rest starred."""

from __future__ import annotations

from drivers.certno import mask


def masked(certno: str | None) -> str:
    return mask(certno) if certno else "—"
