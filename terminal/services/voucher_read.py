"""A patient who showed the insurance e-voucher (医保电子凭证) or the resident ID card (居民身份证) instead of a
social security card, shaped like a card read.

The window's and the kiosk's patient journeys are written around the card read (`CardRead`: its card and its
holder). A patient without a card gets a `VoucherRead`: the holder as the centre answered 1101, no card fields
(no card number, no dates, nothing to pull out of a reader), and the credential that identified them
(`mdtrt_cert_type` 01 the e-voucher, 02 the ID card). The payment asks no PIN for either (the e-voucher's patient
confirmed in the app; an ID card has no PIN); the settlement goes through the ledger's `settle_voucher` or
`settle_id_card`. On the ID card the personal account does not pay unless the centre allows it
(`[centre] id_card_account`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.card_data import CardInfo, CardRead, Holder

EVOUCHER = "01"
ID_CARD = "02"


@dataclass(frozen=True)
class VoucherRead(CardRead):
    """The patient without a card: `holder` from the centre, an empty `card`, `psn_no` and the credential."""

    psn_no: str = ""
    mdtrt_cert_type: str = EVOUCHER


def voucher_read(person: Any, mdtrt_cert_type: str = EVOUCHER) -> VoucherRead:
    """From the family view's person (the centre's 1101 answer, as cached)."""
    return VoucherRead(
        atr="", card=CardInfo(card_sn="", card_type="", version="", issuer="", issue_date="", expiry_date="",
                              card_no=""),
        holder=Holder(certno=person.certno or "", name=person.psn_name or "", name_ext="", gend=person.gend or "",
                      naty=person.naty or "", birthplace="", brdy=person.brdy or ""),
        psn_no=person.psn_no, mdtrt_cert_type=mdtrt_cert_type)


def id_card_read(person: Any) -> VoucherRead:
    """The patient the centre found by the ID number read or typed at the window (1101 with mdtrt_cert_type 02)."""
    return voucher_read(person, ID_CARD)


def without_card(read: Any) -> bool:
    """The patient came without a card (e-voucher or ID card): no card to read again, no PIN."""
    return isinstance(read, VoucherRead)


def is_voucher(read: Any) -> bool:
    return without_card(read) and read.mdtrt_cert_type == EVOUCHER


def is_id_card(read: Any) -> bool:
    return without_card(read) and read.mdtrt_cert_type == ID_CARD
