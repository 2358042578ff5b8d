"""A yes/no question before anything irreversible (a reversal, an unbinding): a typed modal result."""

from __future__ import annotations

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from terminal.ui.app import CashierApp


class ConfirmModal(ModalScreen[bool]):
    """Dismisses with True (Y / Enter on Yes / click) or False (N / Esc / click)."""

    app = getters.app(CashierApp)

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical { width: 86; max-width: 100%; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    ConfirmModal #question { width: 100%; margin-bottom: 1; text-style: bold; }
    ConfirmModal Horizontal { height: auto; align-horizontal: right; }
    ConfirmModal Button { margin-left: 2; }
    """
    BINDINGS = [Binding("y", "answer(True)", show=False), Binding("n", "answer(False)", show=False),
                Binding("escape", "answer(False)", show=False)]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        t = self.app.t
        with Vertical():
            yield Label(self.question, id="question")
            with Horizontal():
                yield Button(t("confirm.no"), id="no")
                yield Button(t("confirm.yes"), id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()   # the safe answer is the default

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
