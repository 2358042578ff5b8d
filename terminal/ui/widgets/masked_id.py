"""An ID number on screen is always masked: first 6 and last 4 digits (docs/architecture.md, Privacy)."""

from __future__ import annotations

from textual.widgets import Static

from drivers.certno import mask


def masked(certno: str | None) -> str:
    return mask(certno) if certno else "—"


class MaskedId(Static):
    """Shows a masked ID number; the full number is never put on screen."""

    def __init__(self, certno: str | None = None, **kwargs) -> None:
        super().__init__(masked(certno), **kwargs)

    def set(self, certno: str | None) -> None:
        self.update(masked(certno))
