"""The ID number of a patient who shows the resident ID card (身份证) at the window: typed (or read by an ID card
reader that types it), checked here with the GB 11643 check digit before the centre is asked. The number is
masked as it is typed (an ID number on screen is always masked); a wrong one is said in place, masked."""

from __future__ import annotations

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from drivers.certno import check_digit, mask, problem
from terminal.ui.app import CashierApp


class IdCardEntry(ModalScreen[str | None]):
    """Dismisses with the checked ID number (upper case), or None (Esc)."""

    app = getters.app(CashierApp)

    DEFAULT_CSS = """
    IdCardEntry { align: center middle; }
    IdCardEntry > Vertical { width: 60; max-width: 100%; height: auto; border: thick $accent; background: $surface;
                             padding: 0 2; }
    IdCardEntry #id-title { width: 100%; text-style: bold; }
    IdCardEntry #id-error { width: 100%; color: $error; }
    IdCardEntry #id-hint { width: 100%; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False)]

    def compose(self) -> ComposeResult:
        t = self.app.t
        with Vertical():
            yield Label(t("idc.title"), id="id-title")
            yield Input(placeholder=t("idc.placeholder"), password=True, max_length=18, restrict=r"[0-9Xx]*",
                        id="id-number")
            yield Label("", id="id-error")
            yield Label(t("idc.hint"), id="id-hint")

    def on_mount(self) -> None:
        self.query_one("#id-number", Input).focus()

    @on(Input.Submitted, "#id-number")
    def entered(self, event: Input.Submitted) -> None:
        value = event.value.strip().upper()
        why = problem(value)
        if why:
            t = self.app.t
            if self.app.lang == "zh":
                why = _why_zh(value)
            self.query_one("#id-error", Label).update(t("idc.invalid", number=mask(value) or "—", why=why))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _why_zh(value: str) -> str:
    """`drivers.certno.problem`'s reasons, in Chinese (the same checks, in the same order)."""
    if len(value) != 18:
        return f"身份证号码应为18位(输入了{len(value)}位)"
    if not (value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")):
        return "应为17位数字加一位数字或X"
    if check_digit(value[:17]) != value[17]:
        return f"校验位应为 {check_digit(value[:17])},不是 {value[17]}"
    return f"出生日期 {value[6:14]} 不是有效日期"
