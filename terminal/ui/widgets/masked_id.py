"""An ID number on screen is always masked: first 6 and last 4 digits (docs/architecture.md, Privacy)."""

from __future__ import annotations

from drivers.certno import mask


def masked(certno: str | None) -> str:
    return mask(certno) if certno else "—"
