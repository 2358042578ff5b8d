"""The patient's self-service screen: insert card → balances and bill → who pays → PIN → receipt → idle.

One screen with one view widget per step (`terminal.ui.kiosk.views`, in a ContentSwitcher), so nothing a
cashier uses is on the screen stack at all: no reversal, binding, day-end or settings, by key, click or URL.
The views send their buttons up as messages; the screen holds the patient, runs the card, database and
settlement work in thread workers (`KioskBackend`) and shows their answers. Back to idle after
`[web].kiosk_idle_s` on the app's clock without a key or click, or when the card is pulled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from rich.markup import escape
from rich.table import Table
from textual import events, getters, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Static

from drivers.errors import CARD_REMOVED, NO_CARD, PIN_BLOCKED, PIN_INVALID, PIN_WRONG
from terminal.error_codes import PERSON_NOT_FOUND, E
from terminal.ui.app import CashierApp
from terminal.ui.kiosk.backend import KioskBackend
from terminal.ui.kiosk.models import Patient, PayOption, PendingBill, Receipt
from terminal.ui.kiosk.views import BusyView, ChooseView, IdleView, MessageView, OverviewView, PinView, ReceiptView
from terminal.ui.kiosk.views.common import Chosen, Finish, GoTo, PinEntered, VoucherScanned, grid
from terminal.ui.kiosk.views.pin import PIN_LENGTH
from terminal.ui.messages import CardInserted, CardRemoved
from terminal.ui.widgets.money import yuan
from terminal.web.settings import WebSettings


@dataclass
class _Loaded(Message):
    patient: Patient
    bill: PendingBill | None
    options: list[PayOption]


@dataclass
class _Paid(Message):
    receipt: Receipt


@dataclass
class _Failed(Message):
    step: str           # "read" | "pin" | "pay"
    code: str
    message: str


# Errors whose message ends with the window's way on, "or take the whole bill in cash" (after a ';'): the kiosk
# takes no cash, so it shows the reason and its own way on (title, hint; kiosk.* keys).
NO_CASH_HERE = {E.INSURANCE_INACTIVE.code: ("insurance_inactive", "self_pay_at_window"),
                E.CENTRE_UNREACHABLE.code: ("centre_down", "centre_down_hint")}


class KioskScreen(Screen):
    """The whole kiosk. Reads what it needs from the app (cfg, lang, reader, clock, demo tray)."""

    app = getters.app(CashierApp)
    CSS_PATH = "kiosk.tcss"
    BINDINGS: ClassVar[list[BindingType]] = []   # keys are handled in on_key, per view; no cashier key exists here
    AUTO_FOCUS = None
    NOTICE_S = 20.0       # an idle notice (timed out, card removed) clears itself after this long

    def __init__(self, backend: KioskBackend | None = None) -> None:
        super().__init__(id="kiosk")
        self._backend = backend
        self.view = "idle"
        self.patient: Patient | None = None
        self.bill: PendingBill | None = None
        self.options: list[PayOption] = []
        self.option: PayOption | None = None
        self.paying = False
        self._last_activity: datetime | None = None   # on the app's clock; set when the screen mounts
        self._card_in = False
        self._notice = ""
        self._notice_until: datetime | None = None    # when the idle notice clears itself (app's clock)

    # -- app services ---------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.app.lang

    def tr(self, key: str, **values: object) -> str:
        """The kiosk's text for `key` in the app's language."""
        return self.app.t(f"kiosk.{key}", **values)

    @property
    def settings(self) -> WebSettings:
        return self.backend.settings   # read from the config once, by the backend

    @property
    def backend(self) -> KioskBackend:
        if self._backend is None:
            app = self.app
            self._backend = KioskBackend(app.cfg, app.reader, lang=self.lang, now=app.now)
        return self._backend

    @property
    def demo(self) -> bool:
        return self.app.demo and self.app.reader is not None

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(self.tr("title"), id="kiosk-title")
        with ContentSwitcher(initial="idle", id="views"):
            yield IdleView(self._tray_profiles() if self.demo else None, phones=self.demo and bool(self.app.cfg.voucher.key),
                           id="idle", classes="view")
            yield BusyView(id="busy", classes="view")
            yield OverviewView(id="overview", classes="view")
            yield ChooseView(id="choose", classes="view")
            yield PinView(id="pin", classes="view")
            yield ReceiptView(id="receipt", classes="view")
            yield MessageView(id="message", classes="view")
        if self.demo:
            with Horizontal(id="demo-bar"):
                yield Static("", id="demo-state")
                yield Button(self.tr("remove_card") + " F9", id="tray-remove", classes="secondary")

    def _tray_profiles(self) -> list[tuple[str, str]]:
        """(profile id, holder name) of the demo cards, in the tray's order (names read once, by the tray)."""
        from terminal.ui.widgets.card_tray import card_label
        return [(pid, card_label(pid)) for pid in self.app.tray_profiles()]

    @property
    def pin_view(self) -> PinView:
        return self.query_one("#pin", PinView)

    def on_mount(self) -> None:
        self._touch()
        idle_s = self.settings.kiosk_idle_s
        self.set_interval(min(1.0, idle_s / 4), self.check_timeout)
        error = self.app.reader_error
        if error:
            self._idle_notice(error[1])
        self._refresh_demo_bar()
        if self.app.reader is not None and not self.demo:
            self.card_already_in()

    @work(thread=True, group="kiosk-start")
    def card_already_in(self) -> None:
        """A card left in a real reader when the kiosk starts is read at once (asked off the UI thread)."""
        reader = self.app.reader
        try:
            present = reader is not None and reader.card_present()
        except Exception:
            return
        if present:
            self.post_message(CardInserted())

    # -- switching views ------------------------------------------------------------------
    def show(self, view: str) -> None:
        self.view = view
        self.query_one("#views", ContentSwitcher).current = view
        first = {"overview": "#to-choose", "receipt": "#done", "message": "#message-done"}.get(view)
        if view == "choose":
            self.query_one("#choose", ChooseView).focus_first()
        elif first:
            self.query_one(first, Button).focus()
        else:
            self.set_focus(None)

    def reset(self, notice: str = "") -> None:
        """Back to idle, forgetting the patient."""
        self.workers.cancel_group(self, "kiosk")
        self.patient, self.bill, self.options, self.option = None, None, [], None
        self.pin_view.take()
        self.paying = False
        self._idle_notice(notice)
        self.query_one("#idle", IdleView).scanning(False)
        self.show("idle")

    def _idle_notice(self, text: str) -> None:
        if self._card_in and not text and not self.demo:
            text = self.tr("take_card")
        self._notice = text
        self.query_one("#idle", IdleView).notice(text)
        self._notice_until = None
        if text in (self.tr("timeout"), self.tr("card_removed")):
            # "timed out" / "card removed" are for the patient who just left, not for the next one
            self._notice_until = self.app.now() + timedelta(seconds=self.NOTICE_S)

    def _busy(self, key: str) -> None:
        self.query_one("#busy", BusyView).say(key)
        self.show("busy")

    def _message(self, title: str, body: str = "", table: Table | None = None) -> None:
        """The message view: a title, what to do (markup), and optionally a table of amounts."""
        self.query_one("#message", MessageView).say(title, body, table)
        self.show("message")

    # -- idle timeout, on the app's clock ----------------------------------------------------
    def _touch(self) -> None:
        self._last_activity = self.app.now()

    def check_timeout(self) -> None:
        """Asked every fraction of `kiosk_idle_s`: a patient gone quiet is timed out, an old notice cleared."""
        now = self.app.now()
        if self._notice_until is not None and now >= self._notice_until:
            self._idle_notice("")
        if self.view in ("idle", "busy") or self.paying:
            return  # nothing to time out, or a worker that ends by itself (reader timeouts)
        last = self._last_activity or now
        if (now - last).total_seconds() >= self.settings.kiosk_idle_s:
            self._eject()
            self.reset(self.tr("timeout"))

    def _eject(self) -> None:
        """The demo tray gives the card back on a timeout, like a kiosk's motorised reader."""
        if self.demo and self.app.tray_card:
            self.app.tray_remove()

    def on_key(self, event: events.Key) -> None:
        self._touch()
        key = event.key
        if key == "f9" and self.demo:
            event.stop()
            self.app.tray_remove()
            return
        if self.view == "idle" and key == "escape" and self.query_one("#idle", IdleView).is_scanning:
            event.stop()
            self.query_one("#idle", IdleView).scanning(False)
        elif self.view == "idle" and self.query_one("#idle", IdleView).is_scanning:
            if self.query_one("#idle", IdleView).take_key(event):   # typed before the field had the focus
                event.stop()
        elif self.view == "idle" and event.character and event.character.isalpha():
            event.stop()             # a scanner typing a code on the start view (codes begin with letters)
            idle = self.query_one("#idle", IdleView)
            idle.scanning(True, focus=False)
            idle.take_key(event)
        elif self.view == "idle" and self.demo and key.isdigit() and key != "0":
            event.stop()
            profiles = self._tray_profiles()
            if int(key) <= len(profiles):
                self.app.tray_insert(profiles[int(key) - 1][0])
        elif self.view == "choose" and key.isdigit() and key != "0":
            event.stop()
            if int(key) <= len(self.options):
                self._choose(self.options[int(key) - 1])
        elif self.view == "pin":
            if key.isdigit():
                event.stop()
                self.pin_view.digit(key)
            elif key == "backspace":
                event.stop()
                self.pin_view.backspace()
            elif key == "enter":
                event.stop()
                self._pin_confirm()
            elif key == "escape":
                event.stop()
                self.show("choose")
        elif key == "escape" and self.view in ("overview", "message"):
            event.stop()
            self.on_finish(Finish())   # as 取消 / 完成: the card comes out with the patient forgotten
        elif key == "escape" and self.view == "choose":
            event.stop()
            self.show("overview")

    def on_click(self, event: events.Click) -> None:
        self._touch()

    def on_button_pressed(self) -> None:
        self._touch()   # every button, after the view that owns it has answered

    # -- what the views ask -----------------------------------------------------------------
    def on_go_to(self, message: GoTo) -> None:
        self.show(message.view)

    def on_finish(self, message: Finish) -> None:
        self._eject()
        self.reset()

    def on_chosen(self, message: Chosen) -> None:
        self._choose(self.options[message.index])

    def on_pin_entered(self, message: PinEntered) -> None:
        self._pin_confirm()

    def on_voucher_scanned(self, message: VoucherScanned) -> None:
        """An e-voucher code: the patient through the centre (1101 with it), then the same journey, no PIN."""
        self._touch()
        if self.view != "idle" or self.paying:
            return
        self.reset()
        self._busy("reading_code")
        self.load_voucher_patient(message.code)

    # -- card events ----------------------------------------------------------------------
    def on_card_inserted(self, message: CardInserted) -> None:
        message.stop()  # the app re-posts card events to the screen: they must not bubble back
        self._card_in = True
        self._touch()
        self._refresh_demo_bar()
        if self.paying:
            return
        self.reset()
        self._busy("reading")
        self.load_patient()

    def on_card_removed(self, message: CardRemoved) -> None:
        message.stop()
        self._card_in = False
        self._refresh_demo_bar()
        if self.paying:
            return  # the payment worker decides: committed (receipt) or nothing written
        if self.view == "idle":
            if self._notice == self.tr("take_card"):
                self._idle_notice("")
        elif self.view == "receipt":
            self.reset()
        else:
            self.reset(self.tr("card_removed"))

    def _refresh_demo_bar(self) -> None:
        if not self.demo:
            return
        current = self.app.tray_card
        names = dict(self._tray_profiles())
        self.query_one("#demo-state", Static).update(
            self.tr("tray_in", name=names.get(current, current)) if current else self.tr("tray_empty"))
        self.query_one("#tray-remove", Button).disabled = not current
        self.query_one("#idle", IdleView).mark_inserted(current)

    @on(Button.Pressed, "#tray-remove")
    def _tray_remove_pressed(self) -> None:
        self.app.tray_remove()

    # -- step 1: read the card, find the family and the bill --------------------------------
    @work(thread=True, exclusive=True, group="kiosk")
    def load_patient(self) -> None:
        try:
            patient = self.backend.read_patient()
            bill = self.backend.pending_bill(patient)
            options = self.backend.pay_options(patient, bill) if bill else []
        except Exception as exc:
            self.post_message(_Failed("read", *self.backend.describe(exc)))
            return
        self.post_message(_Loaded(patient, bill, options))

    @work(thread=True, exclusive=True, group="kiosk")
    def load_voucher_patient(self, code: str) -> None:
        try:
            patient = self.backend.read_voucher_patient(code)
            bill = self.backend.pending_bill(patient)
            options = self.backend.pay_options(patient, bill) if bill else []
        except Exception as exc:
            self.post_message(_Failed("read", *self.backend.describe(exc)))
            return
        self.post_message(_Loaded(patient, bill, options))

    def on__loaded(self, message: _Loaded) -> None:
        self.patient, self.bill, self.options = message.patient, message.bill, message.options
        self._touch()  # the patient's time starts when there is something to read
        if message.patient.expired:
            self._message(self.tr("card_expired"), self.tr("see_window"))
            return
        if message.patient.pin_blocked:  # no account can pay without the PIN: say so before any bill
            self._message(self.tr("pin_blocked"), f"{self.tr('pin_blocked_hint')}\n{self.tr('see_window')}")
            return
        if message.bill is not None and not message.options:
            self._to_window(message.bill)   # no cash here: a bill the accounts cannot cover goes to a window
            return
        self.query_one("#overview", OverviewView).fill(message.patient, message.bill,
                                                       bool(message.bill and message.options))
        self.query_one("#choose", ChooseView).fill(self.options)
        self.show("overview")

    def _to_window(self, bill: PendingBill) -> None:
        """The accounts cannot cover the out-of-pocket part: the amounts, nothing charged, go to a window."""
        amounts = grid()
        amounts.add_row(self.tr("total"), yuan(bill.total))
        amounts.add_row(self.tr("fund_pays"), yuan(bill.fund_pay))
        amounts.add_row(f"[b]{self.tr('you_pay')}[/b]", f"[b]{yuan(bill.total - bill.fund_pay)}[/b]")
        self._message(self.tr("go_window"), f"{self.tr('accounts_short')}\n{self.tr('nothing_charged')}", amounts)

    # -- step 2: choose who pays, then the PIN ----------------------------------------------
    def _choose(self, option: PayOption) -> None:
        self.option = option
        if self.patient is not None and self.patient.voucher and not self.paying:
            self.paying = True            # the e-voucher: confirmed in the patient's app, no PIN here
            self._busy("paying")
            self.pay("")
            return
        self.pin_view.start(option)
        self.show("pin")

    def _pin_confirm(self) -> None:
        if len(self.pin_view.pin) != PIN_LENGTH or self.option is None or self.paying:
            self.pin_view.say(self.tr("pin_hint"))
            return
        pin = self.pin_view.take()
        self.paying = True
        self._busy("paying")
        self.pay(pin)

    @work(thread=True, exclusive=True, group="kiosk")
    def pay(self, pin: str) -> None:
        assert self.patient is not None and self.bill is not None and self.option is not None
        try:
            receipt = self.backend.pay(self.patient, self.bill, self.option, pin)
        except Exception as exc:
            code, message = self.backend.describe(exc)
            self.post_message(_Failed("pay", code, message))
            return
        self.post_message(_Paid(receipt))

    def on__paid(self, message: _Paid) -> None:
        self.paying = False
        self.query_one("#receipt", ReceiptView).fill(message.receipt)
        self._touch()
        self.show("receipt")

    def on__failed(self, message: _Failed) -> None:
        self.paying = False
        if message.step == "pay" and message.code in (PIN_WRONG.code, PIN_INVALID.code) and self._card_in:
            self.pin_view.say(f"[b red]{message.message}[/]\n{self.tr('pin_again')}")
            self.pin_view.show_dots()
            self.show("pin")
            return
        if not self._card_in and message.code in (CARD_REMOVED.code, NO_CARD.code):
            self.reset(self.tr("card_removed"))
            return
        if message.code == PIN_BLOCKED.code:   # the third wrong PIN, or a card blocked since it was read
            self._message(self.tr("pin_blocked"), f"{self.tr('pin_blocked_hint')}\n{self.tr('see_window')}")
            return
        if message.code == E.ACCOUNTS_SHORT.code and self.bill is not None:   # balances moved since the options
            self._to_window(self.bill)
            return
        if message.code == E.BAD_BILL.code:   # the bill file: unreadable, malformed or not showable
            self._message(self.tr("bad_bill"), escape(message.message))
            return
        if message.code in NO_CASH_HERE:   # the reason, without the window's "or take it in cash": no cash here
            title, hint = NO_CASH_HERE[message.code]
            self._message(self.tr(title), f"{escape(message.message.split(';')[0])}\n\n{self.tr(hint)}")
            return
        unknown = message.code in PERSON_NOT_FOUND
        title = self.tr("unknown_patient") if unknown else self.tr("error")
        self._message(title, f"{escape(message.message)}\n\n{self.tr('see_window')}")
