"""Idle: "insert your card", the notice for the patient who just left, and (demo) the tray of cards."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Button, Static

from terminal.ui.kiosk.views.common import KioskView


class IdleView(KioskView):
    """Waits for a card. In the demo a tap on a tray card puts it in the emulator's reader."""

    def __init__(self, tray: list[tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.tray = tray   # (profile id, holder name) of the demo cards; None: no tray

    def compose(self) -> ComposeResult:
        yield Static(self.tr("insert"), id="insert", classes="big-box")
        yield Static(self.tr("insert_hint"), id="insert-hint", classes="hint")
        yield Static("", id="idle-notice", classes="notice")
        if self.tray is not None:
            yield Static(self.tr("tray"), classes="section-title")
            with Grid(id="tray"):
                for i, (profile, name) in enumerate(self.tray[:9], 1):
                    yield Button(f"{i}  {name}", id=f"tray-{profile}", classes="tray-card")

    def notice(self, text: str) -> None:
        self.query_one("#idle-notice", Static).update(text)

    def mark_inserted(self, profile: str | None) -> None:
        """Highlight the tray card that is in the reader."""
        for button in self.query(".tray-card"):
            button.set_class(button.id == f"tray-{profile}", "inserted")

    @on(Button.Pressed, ".tray-card")
    def insert_card(self, event: Button.Pressed) -> None:
        self.app.tray_insert((event.button.id or "")[len("tray-"):])
