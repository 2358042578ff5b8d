"""A message for the patient: a title, what to do, and sometimes the amounts (card expired, PIN blocked,
accounts short: go to a cashier window)."""

from __future__ import annotations

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from terminal.ui.kiosk.views.common import Finish, KioskView


class MessageView(KioskView):
    def compose(self) -> ComposeResult:
        yield Static("", id="message-title", classes="big-box warning")
        yield Static("", id="message-amounts", classes="panel")
        yield Static("", id="message-body", classes="hint")
        with Horizontal(classes="actions"):
            yield Button(self.tr("done"), id="message-done", variant="primary", classes="primary")

    def say(self, title: str, body: str = "", table: Table | None = None) -> None:
        """`body` is markup; `table` the amounts, when there are any."""
        self.query_one("#message-title", Static).update(title)
        self.query_one("#message-body", Static).update(body)
        amounts = self.query_one("#message-amounts", Static)
        amounts.update(table if table is not None else "")
        amounts.display = table is not None

    @on(Button.Pressed, "#message-done")
    def done_pressed(self) -> None:
        self.post_message(Finish())
