"""Overview: the patient's own balance, which family accounts can pay (never how much: anyone at the kiosk
could read it before the PIN), and the bill with the fund's share."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from terminal.ui.kiosk.models import Patient, PendingBill
from terminal.ui.kiosk.views.common import Finish, GoTo, KioskView, grid
from terminal.ui.widgets.money import yuan

BILL_LINES = 5   # bill lines shown; the rest are counted


class OverviewView(KioskView):
    def compose(self) -> ComposeResult:
        yield Static("", id="greeting", classes="greeting")
        with Horizontal(id="overview-panels"):
            yield Static("", id="accounts", classes="panel")
            yield Static("", id="bill", classes="panel")
        with Horizontal(classes="actions"):
            yield Button(self.tr("next"), id="to-choose", variant="success", classes="primary")
            yield Button(self.tr("cancel"), id="cancel", classes="secondary")

    def fill(self, p: Patient, bill: PendingBill | None, can_pay: bool) -> None:
        self.query_one("#greeting", Static).update(
            f"{escape(self.tr('hello', name=p.name))}    [dim]{escape(p.certno_masked)}[/]")
        accounts = grid()
        accounts.add_row(f"[b]{self.tr('own_account')}[/b]", "")
        if p.own_balc is None:
            accounts.add_row(f"  {self.tr('no_own_account')}", "")
        else:
            accounts.add_row(f"  {self.tr('balance')}", f"[b]{yuan(p.own_balc)}[/b]")
        if p.wallet_balc is not None:   # the patient's own money too (a relative's transfer they accepted)
            accounts.add_row(f"  {self.tr('wallet_balance')}", f"[b]{yuan(p.wallet_balc)}[/b]")
        accounts.add_row("", "")
        accounts.add_row(f"[b]{self.tr('family')}[/b]", "")
        if not p.family:
            accounts.add_row(f"  {self.tr('no_family')}", "")
        for f in p.family:
            accounts.add_row(f"  {escape(f.owner_name)}", f"[b]{self.tr('family_usable')}[/b]")
            accounts.add_row(f"  [dim]({escape(self.tr('relation_of', relation=f.relation_name))})[/]", "")
        self.query_one("#accounts", Static).update(accounts)
        table = grid()
        table.add_row(f"[b]{self.tr('pending_bill')}[/b]", f"[b]{yuan(bill.total)}[/b]" if bill else "")
        if bill is None:
            table.add_row(f"  {self.tr('no_bill')}", "")
        else:
            table.add_row(f"  {self.tr('fund_pays')}", yuan(bill.fund_pay))
            table.add_row(f"  [b]{self.tr('you_pay')}[/b]", f"[b $warning]{yuan(bill.total - bill.fund_pay)}[/]")
            table.add_row("", "")
            shown = bill.lines[:BILL_LINES]
            for line in shown:
                table.add_row(f"  [dim]{escape(line.name)} ×{line.qty}[/]", f"[dim]{yuan(line.amount)}[/]")
            if len(bill.lines) > len(shown):
                table.add_row(f"  [dim]… +{len(bill.lines) - len(shown)}[/]", "")
        self.query_one("#bill", Static).update(table)
        self.query_one("#to-choose", Button).disabled = not can_pay

    @on(Button.Pressed, "#to-choose")
    def next_pressed(self) -> None:
        self.post_message(GoTo("choose"))

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.post_message(Finish())
