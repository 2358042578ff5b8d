"""Paid: the amounts from the fund, the account and each family account, the settlement id."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from terminal.ui.kiosk.models import Receipt
from terminal.ui.kiosk.views.common import Finish, KioskView, grid
from terminal.ui.widgets.money import yuan


class ReceiptView(KioskView):
    def compose(self) -> ComposeResult:
        yield Static(self.tr("paid"), id="paid-title", classes="big-box success")
        yield Static("", id="receipt-body", classes="panel")
        yield Static(self.tr("take_card"), id="receipt-note", classes="hint")
        with Horizontal(classes="actions"):
            yield Button(self.tr("done"), id="done", variant="primary", classes="primary")

    def fill(self, r: Receipt) -> None:
        table = grid()
        table.add_row(self.tr("total"), yuan(r.total))
        table.add_row(self.tr("fund_pays"), yuan(r.fund_pay))
        if r.own_pay:
            table.add_row(self.tr("own_paid"), f"[b]{yuan(r.own_pay)}[/b]")
        if r.wallet_pay:
            table.add_row(self.tr("wallet_paid"), f"[b]{yuan(r.wallet_pay)}[/b]")
        for name, amount in r.mulaid:
            table.add_row(escape(self.tr("family_paid", name=name)), f"[b]{yuan(amount)}[/b]")
        if r.own_balc_after is not None:
            table.add_row(f"[dim]{self.tr('balance_after')}[/]", f"[dim]{yuan(r.own_balc_after)}[/]")
        if r.wallet_pay and r.wallet_balc_after is not None:
            table.add_row(f"[dim]{self.tr('wallet_after')}[/]", f"[dim]{yuan(r.wallet_balc_after)}[/]")
        table.add_row(f"[dim]{self.tr('setl_id')}[/]", f"[dim]{r.setl_id}[/]")
        self.query_one("#receipt-body", Static).update(table)
        self.query_one("#receipt-note", Static).update(
            (escape(r.slip_warning) + "\n" if r.slip_warning else "") + self.tr("voucher_paid" if r.voucher else "take_card"))

    @on(Button.Pressed, "#done")
    def done_pressed(self) -> None:
        self.post_message(Finish())
