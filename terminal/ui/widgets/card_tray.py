"""The emulator's card tray (demo only): the bundled cards, one click or key to insert or pull one.

It only asks the app to move a card (`app.tray_insert` / `app.tray_remove`); the reader then emits the
same insert/remove events a real reader would, so the journey is the real one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from terminal.ui.app import CashierApp


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    from emulator.profiles import list_profiles
    return {p.id: p.name for p in list_profiles()}


def card_label(profile: str) -> str:
    """The card's holder name (the tray shows people, as a cashier sees cards)."""
    return _names().get(profile, profile)


class TrayCard(Static):
    """One card in the tray; a click inserts it, or pulls it when it is the one in the reader."""

    app = getters.app(CashierApp)

    SCOPED_CSS = False   # the -narrow class sits on the screen
    DEFAULT_CSS = """
    TrayCard { width: auto; height: 1; padding: 0 1; margin-right: 1; background: $panel; }
    TrayCard:hover { background: $accent 50%; }
    TrayCard.inserted { background: $success; color: $text; text-style: bold; }
    .-narrow TrayCard { padding: 0; }
    """

    def __init__(self, index: int, profile: str) -> None:
        super().__init__(f"{index} {card_label(profile)}")
        self.index = index
        self.profile = profile

    def on_click(self) -> None:
        app = self.app
        if app.tray_card == self.profile:
            app.tray_remove()
        else:
            app.tray_insert(self.profile)


class CardTray(Horizontal):
    """A one-line tray docked above the footer. Under 100 columns the cards close up (no padding, the key
    hint (F8/F9, also in the key bar) and the state text left out: the card in the reader is the highlighted one), so
    all nine fit 80 columns."""

    app = getters.app(CashierApp)

    SCOPED_CSS = False
    DEFAULT_CSS = """
    CardTray { height: 1; background: $boost; }
    CardTray > .tray-title { width: auto; padding: 0 0 0 1; text-style: bold; }
    CardTray > .tray-keys { width: auto; padding: 0 1; text-style: bold; }
    .-narrow CardTray > .tray-keys { display: none; }
    CardTray > .tray-state { width: 1fr; text-align: right; padding: 0 1; color: $text-muted; }
    .-narrow CardTray > .tray-state { display: none; }
    .-narrow CardTray > .tray-title { padding: 0 1 0 0; }
    CardTray > Label { height: 1; }
    """

    def compose(self) -> ComposeResult:
        app = self.app
        yield Label(app.t("tray.title"), classes="tray-title")
        yield Label("F8/F9", classes="tray-keys")
        for i, profile in enumerate(app.tray_profiles()[:9], 1):
            yield TrayCard(i, profile)
        yield Label("", classes="tray-state")

    def on_mount(self) -> None:
        self.refresh_cards()

    def refresh_cards(self) -> None:
        app = self.app
        current = app.tray_card
        for card in self.query(TrayCard):
            card.set_class(card.profile == current, "inserted")
        text = (app.t("tray.inserted", name=card_label(current)) if current
                else app.t("tray.empty"))
        for state in self.query(".tray-state").results(Label):
            state.update(text)


class CardPicker(ModalScreen[str | None]):
    """F8: choose the card to insert (digits 1–9, arrows + Enter, or a click); Esc cancels."""

    app = getters.app(CashierApp)

    DEFAULT_CSS = """
    CardPicker { align: center middle; }
    CardPicker > Vertical { width: 50; height: auto; border: thick $accent; background: $surface; padding: 1 2; }
    CardPicker OptionList { height: auto; max-height: 12; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", show=False), *(Binding(str(i), f"pick({i})", show=False) for i in range(1, 10))]

    def compose(self) -> ComposeResult:
        app = self.app
        with Vertical():
            yield Label(app.t("tray.pick_title"))
            yield OptionList(*[Option(f"{i}  {card_label(p)}  ({p})", id=p)
                               for i, p in enumerate(app.tray_profiles()[:9], 1)])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_pick(self, index: int) -> None:
        profiles = self.app.tray_profiles()
        if 1 <= index <= len(profiles):
            self.dismiss(profiles[index - 1])

    def action_cancel(self) -> None:
        self.dismiss(None)
