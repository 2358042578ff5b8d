"""Bills typed at the window and not charged yet, kept when their card leaves the reader.

A pulled card cannot be put back by the program, so nothing typed is thrown away then: the bill is kept
under its card (card number and identification code) and said so; when that card comes back the bill
is restored and the cashier is asked whether to discard it; leaving the window (Ctrl+Q) with a bill
kept or on screen asks first. Only the UI's memory: nothing here is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from terminal.card_session import CardIdentity


@dataclass
class KeptBill:
    """One patient's bill as the bill screen held it: the items, the visit type, the line being typed."""

    card: CardIdentity
    name: str
    items: list[dict] = field(default_factory=list)
    med_type: str = "11"
    entry: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def empty(self) -> bool:
        """No item and no line begun (a visit type alone is not a bill)."""
        return not self.items and not any(v.strip() for v in self.entry.values())

    def as_patient_bill(self) -> dict[str, Any]:
        """What PatientScreen.bill (and so the bill screen, on F2) takes."""
        return {"items": list(self.items), "med_type": self.med_type, "entry": dict(self.entry)}


def _key(card: CardIdentity) -> tuple[str, str]:
    return card.card_no, (card.card_sn or "").upper()


class KeptBills:
    """The bills kept, one per card."""

    def __init__(self) -> None:
        self._by_card: dict[tuple[str, str], KeptBill] = {}

    def keep(self, bill: KeptBill) -> None:
        if bill.empty:
            return
        self._by_card[_key(bill.card)] = bill

    def take(self, card: CardIdentity) -> KeptBill | None:
        """The bill kept for this card, handed back (and no longer kept here)."""
        return self._by_card.pop(_key(card), None)

    def all(self) -> list[KeptBill]:
        return list(self._by_card.values())

    def __bool__(self) -> bool:
        return bool(self._by_card)
