"""What the kiosk's views share: their base (typed app, the kiosk's words), the messages they send up to the
screen, and the two-column grid amounts are shown in."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from textual import getters
from textual.containers import Vertical
from textual.message import Message

from terminal.ui.app import CashierApp
from terminal.ui.kiosk.models import PayOption


class KioskView(Vertical):
    """One step of the kiosk (a child of the screen's ContentSwitcher, switched to by its id)."""

    app = getters.app(CashierApp)

    def tr(self, key: str, **values: object) -> str:
        """The kiosk's text for `key` in the app's language."""
        return self.app.t(f"kiosk.{key}", **values)

    def payer(self, option: PayOption) -> str:
        """Whose account pays, as the patient reads it."""
        if option.key != "own":
            return self.tr("pay_with", relation=option.relation_name, name=option.payer_name)
        if option.wallet_pay:
            return self.tr("pay_own_wallet" if option.own_pay else "pay_wallet")
        return self.tr("pay_own")


def grid() -> Table:
    """Two columns, amounts right-aligned: what the patient reads at a glance."""
    table = Table.grid(padding=(0, 3), expand=True)
    table.add_column(ratio=1)
    table.add_column(justify="right", no_wrap=True)
    return table


@dataclass
class GoTo(Message):
    """Show another view (Back, Next)."""

    view: str


class Finish(Message):
    """The patient is done here (Cancel, Done): the card comes out, back to idle."""


@dataclass
class Chosen(Message):
    """The patient chose who pays: the index into the options offered."""

    index: int


class PinEntered(Message):
    """Confirm on the keypad: the screen checks the PIN typed and pays."""


@dataclass
class VoucherScanned(Message):
    """An e-voucher code arrived (the scanner typed it and Enter, or the demo's phone was shown)."""

    code: str
