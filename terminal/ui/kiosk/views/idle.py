"""Idle: "insert your card" or "scan" the insurance e-voucher, the notice for the patient who just left, and (demo)
the tray of cards and a phone per person."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Static

from terminal.ui.kiosk.views.common import KioskView, VoucherScanned


class IdleView(KioskView):
    """Waits for a card, or for a scan: "扫码" opens the field a keyboard-wedge scanner types the code into (and
    Enter). In the demo a tap on a tray card puts it in the emulator's reader; a tap on a phone shows that
    person's e-voucher to the scanner."""

    def __init__(self, tray: list[tuple[str, str]] | None = None, phones: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.tray = tray       # (profile id, holder name) of the demo cards; None: no tray
        self.phones = phones   # the demo offers a phone per person (an e-voucher key is configured)

    def compose(self) -> ComposeResult:
        with Horizontal(id="start-ways"):
            yield Button(self.tr("way_card"), id="way-card", classes="way")
            yield Button(self.tr("way_scan"), id="way-scan", classes="way")
        yield Static(self.tr("insert"), id="insert", classes="big-box")
        yield Static(self.tr("insert_hint"), id="insert-hint", classes="hint")
        with Vertical(id="scan-box"):
            yield Static(self.tr("scan_hint"), id="scan-hint", classes="hint")
            # select_on_focus off: the letters typed before the field had the focus stay when it gets it
            yield Input(placeholder=self.tr("scan_placeholder"), id="scan-code", select_on_focus=False)
        yield Static("", id="idle-notice", classes="notice")
        if self.tray is not None:
            with Vertical(id="tray-box"):
                yield Static(self.tr("tray"), classes="section-title")
                with Grid(id="tray"):
                    for i, (profile, name) in enumerate(self.tray[:9], 1):
                        yield Button(f"{i}  {name}", id=f"tray-{profile}", classes="tray-card")
            if self.phones:     # shown instead of the cards while the patient scans
                with Vertical(id="phones-box"):
                    yield Static(self.tr("phones"), classes="section-title")
                    with Grid(id="phones"):
                        for profile, name in self.tray[:9]:
                            yield Button(f"📱 {name}", id=f"phone-{profile}", classes="phone")

    def on_mount(self) -> None:
        self.scanning(False)

    @property
    def is_scanning(self) -> bool:
        return bool(self.query_one("#scan-box").display)

    def scanning(self, on: bool, focus: bool = True) -> None:
        """The scan field shown and focused (the scanner types there), or the card's words again. A scan that
        began on the start view (`focus=False`) keeps every key on the screen's path (`take_key`): moving the
        focus mid-burst would send the later keys to the field's queue ahead of earlier ones still queued."""
        self.query_one("#scan-box").display = on
        self.query_one("#insert").display = not on
        self.query_one("#insert-hint").display = not on
        self.query_one("#way-scan").set_class(on, "chosen")
        self.query_one("#way-card").set_class(not on, "chosen")
        for box, shown in (("#tray-box", not on), ("#phones-box", on)):
            for found in self.query(box):
                found.display = shown
        field = self.query_one("#scan-code", Input)
        field.value = ""
        if on and focus:
            field.focus()
        elif field.has_focus:
            self.screen.set_focus(None)

    def take_key(self, key) -> bool:
        """A key that reached the screen while scanning (the field was not focused yet): into the field, or
        Enter submits it. True when it was taken."""
        field = self.query_one("#scan-code", Input)
        if key.key == "enter":
            code, field.value = field.value.strip(), ""
            if code:
                self.post_message(VoucherScanned(code))
            return True
        if key.key == "backspace":
            field.value = field.value[:-1]
            field.cursor_position = len(field.value)
            return True
        if key.character and len(key.character) == 1 and key.character.isprintable():
            field.value += key.character
            field.cursor_position = len(field.value)
            return True
        return False

    def notice(self, text: str) -> None:
        self.query_one("#idle-notice", Static).update(text)

    def mark_inserted(self, profile: str | None) -> None:
        """Highlight the tray card that is in the reader."""
        for button in self.query(".tray-card"):
            button.set_class(button.id == f"tray-{profile}", "inserted")

    @on(Button.Pressed, "#way-scan")
    def scan_pressed(self) -> None:
        self.scanning(True)

    @on(Button.Pressed, "#way-card")
    def card_pressed(self) -> None:
        self.scanning(False)

    @on(Input.Submitted, "#scan-code")
    def code_scanned(self, event: Input.Submitted) -> None:
        code = event.value.strip()
        event.input.value = ""
        if code:
            self.post_message(VoucherScanned(code))

    @on(Button.Pressed, ".tray-card")
    def insert_card(self, event: Button.Pressed) -> None:
        self.app.tray_insert((event.button.id or "")[len("tray-"):])

    @on(Button.Pressed, ".phone")
    def phone_shown(self, event: Button.Pressed) -> None:
        """The demo's patient holds their phone to the scanner: a fresh code of theirs, as scanned."""
        from drivers.voucher import parse_key
        from emulator.phone import show_code
        profile = (event.button.id or "")[len("phone-"):]
        voucher = self.app.cfg.voucher
        shown = show_code(profile, parse_key(voucher.key), lifetime_s=voucher.lifetime_s)
        self.post_message(VoucherScanned(shown.code))
