"""Busy: reading the card, paying — a worker is on it and ends by itself."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from terminal.ui.kiosk.views.common import KioskView


class BusyView(KioskView):
    def compose(self) -> ComposeResult:
        yield Static("", id="busy-text", classes="big-box")

    def say(self, key: str) -> None:
        self.query_one("#busy-text", Static).update(self.tr(key))
