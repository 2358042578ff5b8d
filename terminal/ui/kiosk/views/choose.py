"""Choose who pays: one button per account that can pay the patient's part (digits 1–9 choose too)."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from terminal.ui.kiosk.models import PayOption
from terminal.ui.kiosk.views.common import Chosen, GoTo, KioskView
from terminal.ui.widgets.money import yuan


class ChooseView(KioskView):
    def compose(self) -> ComposeResult:
        yield Static(self.tr("choose"), classes="step-title")
        yield Vertical(id="option-list")
        with Horizontal(classes="actions"):
            yield Button(self.tr("back"), id="choose-back", classes="secondary")

    def fill(self, options: list[PayOption]) -> None:
        box = self.query_one("#option-list", Vertical)
        box.remove_children()
        buttons = []
        for i, o in enumerate(options):
            detail = f"{self.tr('account_pays')} {yuan(o.account_pay)}"   # the whole part: no cash
            # no id: the old buttons are still being removed while these mount
            buttons.append(Button(f"{i + 1}  {escape(self.payer(o))}\n{detail}", name=str(i), classes="option"))
        box.mount_all(buttons)

    def focus_first(self) -> None:
        buttons = list(self.query("#option-list Button"))
        if buttons:
            buttons[0].focus()

    @on(Button.Pressed, ".option")
    def option_pressed(self, event: Button.Pressed) -> None:
        self.post_message(Chosen(int(event.button.name or 0)))

    @on(Button.Pressed, "#choose-back")
    def back_pressed(self) -> None:
        self.post_message(GoTo("overview"))
