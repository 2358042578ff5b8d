"""What the kiosk shows, as plain data (no Textual): the patient, the bill, the ways to pay, the receipt.

The kiosk's worker threads fill these from the services (card session, family lookup,
settlement); the screen only displays them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FamilyPayer:
    """A relative's account that may pay for the patient. Its balance is not here: the kiosk shows a
    relative's money to nobody (before the PIN anyone at the kiosk could read it), only that it can pay."""

    owner_psn_no: str
    owner_name: str
    relation: str          # GB/T 4761 code: what the patient is to the owner ("30": the owner's daughter)
    relation_name: str     # that relation's name in the kiosk's language


@dataclass(frozen=True)
class Patient:
    name: str
    expired: bool          # the card is past its expiry date
    certno_masked: str
    card_no: str
    psn_no: str
    own_balc: int | None                 # None: no personal account (resident insurance)
    family: tuple[FamilyPayer, ...] = ()
    pin_blocked: bool = False            # the card's PIN counter is 0: no account can pay, only a window can help
    voucher: bool = False                # identified by the e-voucher (scanned): no card, no PIN
    wallet_balc: int | None = None       # the insurance wallet (医保钱包): the patient's own money, as the centre
                                         # says; None when not known


@dataclass(frozen=True)
class BillLine:
    name: str
    qty: str
    amount: int            # fen


@dataclass(frozen=True)
class PendingBill:
    lines: tuple[BillLine, ...]
    total: int             # medfee_sumamt, fen
    fund_pay: int = 0      # fund_pay_sumamt for this patient now (pre-settlement, nothing written)
    bill: Any = field(default=None, compare=False, repr=False)  # terminal.domain.bill.Bill
    path: Any = field(default=None, compare=False, repr=False)  # the file in bills_dir, or None
    request_id: str = ""   # the same for the same bill and patient: a retry never charges twice


@dataclass(frozen=True)
class PayOption:
    """One way to pay: the patient's own account first (if any), then at most one relative."""

    key: str                          # "own" or the relative's psn_no
    relatives: tuple[str, ...]        # owner psn_nos, in order
    payer_name: str                   # whose account (for the button)
    relation_name: str
    fund_pay: int
    own_pay: int
    mulaid_pay: int
    cash_pay: int
    wallet_pay: int = 0               # the patient's insurance wallet, after their own account

    @property
    def account_pay(self) -> int:
        """All the accounts pay: own account, wallet, the relative (a kiosk takes no cash)."""
        return self.own_pay + self.wallet_pay + self.mulaid_pay


@dataclass(frozen=True)
class Receipt:
    setl_id: str
    total: int
    fund_pay: int
    own_pay: int
    mulaid: tuple[tuple[str, int], ...]   # (owner name, fen)
    cash_pay: int          # always 0 from the kiosk (settled with cash_allowed=False)
    own_balc_after: int | None
    slip_warning: str = ""      # paid, but the slip could not be saved (the window prints it again)
    voucher: bool = False       # paid with the e-voucher: there is no card to take back
    wallet_pay: int = 0         # from the patient's insurance wallet (part of acct_pay)
    wallet_balc_after: int | None = None
