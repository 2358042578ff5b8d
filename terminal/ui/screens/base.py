"""What every cashier screen shares: the frame (header, footer, card tray in the demo), the window-wide keys,
and the error line that shows a catalogue message in place.

`CardScreen`s belong to the card in the reader: when it is pulled they are all closed (app.back_to_waiting).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from terminal.errors import describe
from terminal.services.views import FamilyView
from terminal.ui.app import CashierApp


def tcss(module_file: str) -> str:
    """The .tcss beside a screen's module."""
    return str(Path(module_file).with_suffix(".tcss"))


#: the message log's key where the key bar shows it (the waiting screen, the help)
CENTRE_LOG_KEY = Binding("ctrl+l", "centre_log", "centre_log", key_display="^L")


class ErrorLine(Static):
    """A refusal or failure, in place: the catalogue's message (never a traceback)."""

    DEFAULT_CSS = """
    ErrorLine { color: $text-error; text-style: bold; height: auto; padding: 0 1; display: none; }
    ErrorLine.shown { display: block; }
    ErrorLine.ok { color: $text-success; }
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, markup=False, **kwargs)   # card and rule messages may hold [brackets]

    def show(self, message: str, ok: bool = False) -> None:
        self.update(message)
        self.set_class(True, "shown")
        self.set_class(ok, "ok")

    def clear(self) -> None:
        self.update("")
        self.set_class(False, "shown")


class CashierScreen(Screen):
    """A screen of the cashier mode, with the keys that work anywhere."""

    app = getters.app(CashierApp)   # typed: the reader, the clock, the tray, the language

    DEFAULT_CSS = """
    CashierScreen > #frame-bottom { dock: bottom; height: auto; }
    """

    BINDINGS = [
        Binding("f1", "app_help", "help", key_display="F1"),
        Binding("f4", "today", "today", key_display="F4"),
        Binding("f6", "dayend", "dayend", key_display="F6"),
        Binding("f8", "tray_pick", "tray_pick", key_display="F8"),
        Binding("f9", "tray_toggle", "tray_toggle", key_display="F9"),
        Binding("ctrl+q", "app.quit", "quit", key_display="^Q", show=False),
        # shown in the key bar of the waiting screen and the help (CENTRE_LOG_KEY); works on every screen
        Binding("ctrl+l", "centre_log", "centre_log", key_display="^L", show=False),
    ]
    #: the key bar's labels: action -> i18n key (bindings are declared once, in code, and never rewritten)
    LABELS: dict[str, str] = {}
    _BASE_LABELS = {"app_help": "key.help", "today": "key.today", "dayend": "key.dayend",
                    "tray_pick": "key.tray_pick", "tray_toggle": "key.tray_toggle", "app.quit": "key.quit",
                    "back": "key.back", "centre_log": "key.centre_log"}

    @property
    def t(self):
        """The app's Translator: `self.t(key, **fields)`, `self.t.has(key)`."""
        return self.app.t

    @property
    def lang(self) -> str:
        return self.app.lang

    def compose_frame_top(self) -> ComposeResult:
        from terminal.ui.widgets.header import WindowHeader
        yield WindowHeader(show_clock=False)

    def compose_frame_bottom(self) -> ComposeResult:
        from textual.containers import Vertical

        from terminal.ui.widgets.keybar import KeyBar
        with Vertical(id="frame-bottom"):
            if self.app.demo:
                from terminal.ui.widgets.card_tray import CardTray
                yield CardTray()
            yield KeyBar()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        try:
            self.size_classes(update=False)   # before the first styling: set later, every widget is styled twice
        except RuntimeError:
            pass   # made outside a running app (Textual's NoActiveAppError): on_mount sets them

    def on_mount(self) -> None:
        """Screens extend this. The size classes are set at once (Textual sets them on the first resize,
        which may come after the first drawing: an 80-column window would flash the wide layout)."""
        self.size_classes()

    def size_classes(self, update: bool = True) -> None:
        """-narrow / -wide and -short / -tall, by the app's breakpoints (the same classes Textual sets), in one
        change (each change restyles every widget of the screen)."""
        width, height = self.app.size
        wanted: dict[str, bool] = {}
        for breakpoints, size in ((self.app.HORIZONTAL_BREAKPOINTS, width), (self.app.VERTICAL_BREAKPOINTS, height)):
            chosen = None
            for start, name in breakpoints or ():
                if size >= start:
                    chosen = name
            wanted.update({name: name == chosen for _start, name in breakpoints or ()})
        self.update_classes(wanted, update=update, animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The card tray's keys exist in the demo only (elsewhere they are neither shown nor run)."""
        return self.app.demo or action not in ("tray_pick", "tray_toggle")

    def key_label(self, binding: Binding) -> str:
        """A key's label in the UI's language (the binding's own description when it has no i18n key)."""
        label = {**self._BASE_LABELS, **self.LABELS}.get(binding.action)
        return self.t(label) if label else binding.description

    def columns(self, selector: str, spec: tuple[tuple[str, int], ...]):
        """The DataTable at `selector` with its columns: (i18n key or literal header, width)."""
        from textual.widgets import DataTable
        table = self.query_one(selector, DataTable)
        for key, width in spec:
            table.add_column(self.t(key) if self.t.has(key) else key, width=width)
        return table

    def error_text(self, exc: BaseException) -> str:
        return describe(exc, self.lang)[1]

    # window-wide actions ---------------------------------------------------------
    def action_app_help(self) -> None:
        from terminal.ui.screens.help import HelpScreen
        if not isinstance(self, HelpScreen):
            self.app.push_screen(HelpScreen())

    def action_today(self) -> None:
        from terminal.ui.screens.today import TodayScreen
        if not isinstance(self, TodayScreen):
            self.app.push_screen(TodayScreen())

    def action_dayend(self) -> None:
        from terminal.ui.screens.dayend import DayEndScreen
        if not isinstance(self, DayEndScreen):
            self.app.push_screen(DayEndScreen())

    def action_centre_log(self) -> None:
        from terminal.ui.screens.centre_log import CentreLogScreen
        if not isinstance(self, CentreLogScreen):
            self.app.push_screen(CentreLogScreen())

    def action_tray_pick(self) -> None:
        if self.app.demo:
            from terminal.ui.widgets.card_tray import CardPicker

            def chosen(profile: str | None) -> None:
                if profile:
                    self.app.tray_insert(profile)
            self.app.push_screen(CardPicker(), chosen)

    def action_tray_toggle(self) -> None:
        app = self.app
        if not app.demo:
            return
        if app.tray_card is not None:
            app.tray_remove()
        else:
            app.tray_insert(app.tray_selected)

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()


@dataclass
class FamilyLoaded(Message):
    """The card holder's balances and family accounts, read again (after a write, or coming back)."""

    family: FamilyView


class CardScreen(CashierScreen):
    """A screen about the card in the reader; closed when the card is pulled.

    Money on these screens is never older than the last write: coming back to one (from today's
    settlements, a reversal, the bindings) reads the balances again (`refresh_money`).
    """

    BINDINGS = [Binding("escape", "back", "back", key_display="Esc")]
    #: True while a payment is being made on this screen (for the removal notice)
    PAYING = False
    #: True when the journey is complete: taking the card out then is the normal end, not an interruption
    FINISHED = False
    family: FamilyView | None = None   # the card's holder and every account that may pay for them

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.card_epoch = self.app.card_epoch
        self._shown = False

    def on_screen_resume(self) -> None:
        """Back from a screen that stayed open while the card was pulled: this patient has left. Back from
        any other screen (where a reversal or a binding may have moved money): read the balances again."""
        app = self.app
        if app.card_epoch != self.card_epoch:
            notice = app.pending_notice
            self.call_later(app.back_to_waiting, notice)
            return
        if self._shown:
            self.refresh_money()
        self._shown = True

    def refresh_money(self) -> None:
        """Read the holder's balances and family accounts again; `show_money` draws them."""
        from terminal.ui import window_ops
        from terminal.ui.workers import run_service
        card = getattr(self, "card", None)
        if card is None:
            return
        cfg, today, card_no = self.app.cfg, self.app.today(), card.card.card_no
        psn_no = getattr(card, "psn_no", "")     # an e-voucher patient: no card number
        run_service(self, "family", lambda: window_ops.family(cfg, card_no, today, psn_no), FamilyLoaded,
                    group="family")

    def on_family_loaded(self, message: FamilyLoaded) -> None:
        self.family = message.family
        patient = self.patient_screen
        if patient is not None and patient is not self:
            patient.family = message.family   # the journey shares one view of the money
        self.show_money()

    def show_money(self) -> None:
        """Draw the balances of `self.family` again (screens that show money override this)."""

    @property
    def psn_no(self) -> str:
        return self.family.person.psn_no if self.family is not None else ""

    @property
    def patient_screen(self):
        """The patient screen this journey started from (None when there is none)."""
        from terminal.ui.screens.patient import PatientScreen
        return next((s for s in reversed(self.app.screen_stack) if isinstance(s, PatientScreen)), None)

    @property
    def pin_blocked(self) -> bool:
        """The card said its PIN counter is 0 when it was read: no account can pay, only cash."""
        patient = self.patient_screen
        return patient is not None and patient.pin_tries_left == 0

    @property
    def card_expired(self) -> bool:
        card = getattr(self, "card", None)
        return card is not None and card.card.expired(self.app.today())

    @property
    def insurance_active(self) -> bool:
        return self.family is None or self.family.person.psn_insu_stas == "1"

    @property
    def self_pay_only(self) -> bool:
        """No insurance settlement is possible (card expired, insurance not active, the insurance centre could
        not be reached when the card was read): the way on is full self-pay in cash (no fund share, no account,
        no PIN), recorded at this window."""
        return self.card_expired or not self.insurance_active or self.centre_unreachable

    @property
    def centre_unreachable(self) -> bool:
        """The card's person and family came from the window's cache: the centre did not answer."""
        return self.family is not None and self.family.cached

    @property
    def card_pin_tries(self) -> int | None:
        """The card's PIN tries left as last known (read with the card, or told by a wrong PIN)."""
        patient = self.patient_screen
        return getattr(patient, "pin_tries_left", None) if patient is not None else None
