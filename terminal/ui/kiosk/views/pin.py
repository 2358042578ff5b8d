"""The PIN: six dots and a keypad (the digits typed go here too, whatever was tapped last)."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Static

from terminal.ui.kiosk.models import PayOption
from terminal.ui.kiosk.views.common import GoTo, KioskView, PinEntered
from terminal.ui.widgets.money import yuan

PIN_LENGTH = 6


class PinView(KioskView):
    """Holds the digits typed so far; Confirm asks the screen to pay with them (`PinEntered`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pin = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-left"):
            yield Static(self.tr("pin"), classes="step-title")
            yield Static("", id="pin-summary", classes="hint")
            yield Static("", id="pin-dots")
            yield Static("", id="pin-message", classes="notice")
            with Horizontal(classes="actions"):
                yield Button(self.tr("back"), id="pin-back", classes="secondary")
        with Grid(id="keypad"):
            for d in "123456789":
                yield Button(d, id=f"key-{d}", classes="pin-key digit")
            yield Button(self.tr("clear"), id="key-clear", classes="pin-key")
            yield Button("0", id="key-0", classes="pin-key digit")
            yield Button(self.tr("confirm"), id="key-ok", variant="success", classes="pin-key")

    def on_mount(self) -> None:
        for key in self.query(".pin-key"):
            key.can_focus = False   # digits and Enter always go to the PIN, whatever was tapped last

    def start(self, option: PayOption) -> None:
        """A fresh PIN for the account chosen."""
        self.pin = ""
        self.query_one("#pin-summary", Static).update(
            f"{escape(self.payer(option))}\n{self.tr('account_pays')} {yuan(option.account_pay)}")
        self.say(self.tr("pin_hint"))
        self.show_dots()

    def say(self, markup: str) -> None:
        self.query_one("#pin-message", Static).update(markup)

    def show_dots(self) -> None:
        dots = " ".join("●" if i < len(self.pin) else "○" for i in range(PIN_LENGTH))
        self.query_one("#pin-dots", Static).update(dots)

    def digit(self, digit: str) -> None:
        if len(self.pin) < PIN_LENGTH:
            self.pin += digit
            self.show_dots()

    def backspace(self) -> None:
        self.pin = self.pin[:-1]
        self.show_dots()

    def take(self) -> str:
        """The PIN typed, forgotten here (it goes to the card and nowhere else)."""
        pin, self.pin = self.pin, ""
        return pin

    @on(Button.Pressed, ".digit")
    def digit_pressed(self, event: Button.Pressed) -> None:
        self.digit((event.button.id or "")[-1])

    @on(Button.Pressed, "#key-clear")
    def clear_pressed(self) -> None:
        self.pin = ""
        self.show_dots()

    @on(Button.Pressed, "#key-ok")
    def confirm_pressed(self) -> None:
        self.post_message(PinEntered())

    @on(Button.Pressed, "#pin-back")
    def back_pressed(self) -> None:
        self.post_message(GoTo("choose"))
