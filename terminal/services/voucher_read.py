"""A patient who showed the insurance e-voucher (医保电子凭证) instead of a card, shaped like a card read.

The window's and the kiosk's patient journeys are written around the card read (`CardRead`: its card and its
holder). An e-voucher patient gets a `VoucherRead`: the holder as the centre answered 1101, no card fields
(no card number, no dates, nothing to pull out of a reader), and the code that identified them. The payment
asks no PIN for it (the patient confirmed in the app); the settlement goes through `settle_voucher`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.card_data import CardInfo, CardRead, Holder


@dataclass(frozen=True)
class VoucherRead(CardRead):
    """The e-voucher patient: `holder` from the centre, an empty `card`, `psn_no` and the credential."""

    psn_no: str = ""
    mdtrt_cert_type: str = "01"


def voucher_read(person: Any) -> VoucherRead:
    """From the family view's person (the centre's 1101 answer, as cached)."""
    return VoucherRead(
        atr="", card=CardInfo(card_sn="", card_type="", version="", issuer="", issue_date="", expiry_date="",
                              card_no=""),
        holder=Holder(certno=person.certno or "", name=person.psn_name or "", name_ext="", gend=person.gend or "",
                      naty=person.naty or "", birthplace="", brdy=person.brdy or ""),
        psn_no=person.psn_no)


def is_voucher(read: Any) -> bool:
    return isinstance(read, VoucherRead)
