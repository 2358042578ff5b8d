"""The patient's self-service screen: insert card → balances and bill → who pays → PIN → receipt → idle.

One screen with one view per step (a ContentSwitcher), so nothing a cashier uses is on the
screen stack at all: no reversal, binding, day-end or settings, by key, click or URL. Card,
database and settlement work runs in thread workers (`KioskBackend`) that post messages back.
Back to idle after `[web].kiosk_idle_s` without a key or click, or when the card is pulled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from rich.table import Table
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, ContentSwitcher, Static

from terminal.ui.kiosk.backend import KioskBackend
from terminal.ui.kiosk.models import PayOption, PendingBill, Patient, Receipt
from terminal.ui.kiosk.texts import t
from terminal.ui.messages import CardInserted, CardRemoved
from terminal.ui.widgets.money import yuan
from terminal.web.settings import WebSettings

PIN_LENGTH = 6


def _grid() -> Table:
    """Two columns, amounts right-aligned: what the patient reads at a glance."""
    table = Table.grid(padding=(0, 3), expand=True)
    table.add_column(ratio=1)
    table.add_column(justify="right", no_wrap=True)
    return table


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


class KioskScreen(Screen):
    """The whole kiosk. Reads what it needs from the app (cfg, lang, reader, demo tray)."""

    CSS_PATH = "kiosk.tcss"
    BINDINGS: list = []   # keys are handled in on_key, per view; no cashier key exists here
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
        self.pin = ""
        self.paying = False
        self._last_activity = time.monotonic()
        self._card_in = False
        self._notice = ""
        self._notice_timer: Timer | None = None

    # -- app services ---------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return getattr(self.app, "lang", "zh")

    def tr(self, key: str, **values: Any) -> str:
        return t(key, self.lang, **values)

    @property
    def settings(self) -> WebSettings:
        return self.backend.settings   # read from the config once, by the backend

    @property
    def backend(self) -> KioskBackend:
        if self._backend is None:
            app = self.app
            self._backend = KioskBackend(app.cfg, app.reader, lang=self.lang, now=app.now)  # type: ignore[attr-defined]
        return self._backend

    @property
    def demo(self) -> bool:
        return bool(getattr(self.app, "demo", False)) and getattr(self.app, "reader", None) is not None

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(self.tr("title"), id="kiosk-title")
        with ContentSwitcher(initial="idle", id="views"):
            with Vertical(id="idle", classes="view"):
                yield Static(self.tr("insert"), id="insert", classes="big-box")
                yield Static(self.tr("insert_hint"), id="insert-hint", classes="hint")
                yield Static("", id="idle-notice", classes="notice")
                if self.demo:
                    yield Static(self.tr("tray"), classes="section-title")
                    with Grid(id="tray"):
                        for i, profile in enumerate(self._tray_profiles()[:9], 1):
                            yield Button(f"{i}  {profile[1]}", id=f"tray-{profile[0]}", classes="tray-card")
            with Vertical(id="busy", classes="view"):
                yield Static("", id="busy-text", classes="big-box")
            with Vertical(id="overview", classes="view"):
                yield Static("", id="greeting", classes="greeting")
                with Horizontal(id="overview-panels"):
                    yield Static("", id="accounts", classes="panel")
                    yield Static("", id="bill", classes="panel")
                with Horizontal(classes="actions"):
                    yield Button(self.tr("next"), id="to-choose", variant="success", classes="primary")
                    yield Button(self.tr("cancel"), id="cancel", classes="secondary")
            with Vertical(id="choose", classes="view"):
                yield Static(self.tr("choose"), classes="step-title")
                yield Vertical(id="option-list")
                with Horizontal(classes="actions"):
                    yield Button(self.tr("back"), id="choose-back", classes="secondary")
            with Horizontal(id="pin", classes="view"):
                with Vertical(id="pin-left"):
                    yield Static(self.tr("pin"), classes="step-title")
                    yield Static("", id="pin-summary", classes="hint")
                    yield Static("", id="pin-dots")
                    yield Static("", id="pin-message", classes="notice")
                    with Horizontal(classes="actions"):
                        yield Button(self.tr("back"), id="pin-back", classes="secondary")
                with Grid(id="keypad"):
                    for d in "123456789":
                        yield Button(d, id=f"key-{d}", classes="pin-key")
                    yield Button(self.tr("clear"), id="key-clear", classes="pin-key")
                    yield Button("0", id="key-0", classes="pin-key")
                    yield Button(self.tr("confirm"), id="key-ok", variant="success", classes="pin-key")
            with Vertical(id="receipt", classes="view"):
                yield Static(self.tr("paid"), id="paid-title", classes="big-box success")
                yield Static("", id="receipt-body", classes="panel")
                yield Static(self.tr("take_card"), id="receipt-note", classes="hint")
                with Horizontal(classes="actions"):
                    yield Button(self.tr("done"), id="done", variant="primary", classes="primary")
            with Vertical(id="message", classes="view"):
                yield Static("", id="message-title", classes="big-box warning")
                yield Static("", id="message-amounts", classes="panel")
                yield Static("", id="message-body", classes="hint")
                with Horizontal(classes="actions"):
                    yield Button(self.tr("done"), id="message-done", variant="primary", classes="primary")
        if self.demo:
            with Horizontal(id="demo-bar"):
                yield Static("", id="demo-state")
                yield Button(self.tr("remove_card") + " F9", id="tray-remove", classes="secondary")

    def _tray_profiles(self) -> list[tuple[str, str]]:
        """(profile id, holder name) of the demo cards, in the tray's order (names read once, by the tray)."""
        from terminal.ui.widgets.card_tray import card_label
        return [(pid, card_label(pid)) for pid in self.app.tray_profiles()]  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        for key in self.query(".pin-key"):
            key.can_focus = False   # digits and Enter always go to the PIN, whatever was tapped last
        idle_s = self.settings.kiosk_idle_s
        self.set_interval(min(1.0, idle_s / 4), self._check_idle)
        error = getattr(self.app, "reader_error", None)
        if error:
            self._idle_notice(error[1])
        self._refresh_demo_bar()
        if getattr(self.app, "reader", None) is not None and not self.demo:
            self.card_already_in()

    @work(thread=True, group="kiosk-start")
    def card_already_in(self) -> None:
        """A card left in a real reader when the kiosk starts is read at once (asked off the UI thread)."""
        try:
            present = self.app.reader.card_present()  # type: ignore[attr-defined]
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
            buttons = list(self.query("#option-list Button"))
            if buttons:
                buttons[0].focus()
        elif first:
            self.query_one(first, Button).focus()
        else:
            self.set_focus(None)

    def reset(self, notice: str = "") -> None:
        """Back to idle, forgetting the patient."""
        self.workers.cancel_group(self, "kiosk")
        self.patient, self.bill, self.options, self.option = None, None, [], None
        self.pin, self.paying = "", False
        self._idle_notice(notice)
        self.show("idle")

    def _idle_notice(self, text: str) -> None:
        if self._card_in and not text and not self.demo:
            text = self.tr("take_card")
        self._notice = text
        self.query_one("#idle-notice", Static).update(text)
        if self._notice_timer is not None:
            self._notice_timer.stop()
            self._notice_timer = None
        if text in (self.tr("timeout"), self.tr("card_removed")):
            # "timed out" / "card removed" are for the patient who just left, not for the next one
            self._notice_timer = self.set_timer(self.NOTICE_S, lambda: self._idle_notice(""))

    def _busy(self, key: str) -> None:
        self.query_one("#busy-text", Static).update(self.tr(key))
        self.show("busy")

    def _message(self, title: str, body: str = "", table: Table | None = None) -> None:
        """The message view: a title, what to do (markup), and optionally a table of amounts."""
        self.query_one("#message-title", Static).update(title)
        self.query_one("#message-body", Static).update(body)
        amounts = self.query_one("#message-amounts", Static)
        amounts.update(table if table is not None else "")
        amounts.display = table is not None
        self.show("message")

    # -- idle timeout ---------------------------------------------------------------------
    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def on_key(self, event: events.Key) -> None:
        self._touch()
        key = event.key
        if key == "f9" and self.demo:
            event.stop()
            self.app.tray_remove()  # type: ignore[attr-defined]
            return
        if self.view == "idle" and self.demo and key.isdigit() and key != "0":
            event.stop()
            profiles = self._tray_profiles()
            if int(key) <= len(profiles):
                self.app.tray_insert(profiles[int(key) - 1][0])  # type: ignore[attr-defined]
        elif self.view == "choose" and key.isdigit() and key != "0":
            event.stop()
            if int(key) <= len(self.options):
                self._choose(self.options[int(key) - 1])
        elif self.view == "pin":
            if key.isdigit():
                event.stop()
                self._pin_digit(key)
            elif key == "backspace":
                event.stop()
                self.pin = self.pin[:-1]
                self._show_pin()
            elif key == "enter":
                event.stop()
                self._pin_confirm()
            elif key == "escape":
                event.stop()
                self.show("choose")
        elif key == "escape" and self.view in ("overview", "message"):
            event.stop()
            self.reset()
        elif key == "escape" and self.view == "choose":
            event.stop()
            self.show("overview")

    def on_click(self, event: events.Click) -> None:
        self._touch()

    def _check_idle(self) -> None:
        if self.view in ("idle", "busy") or self.paying:
            return  # nothing to time out, or a worker that ends by itself (reader timeouts)
        if time.monotonic() - self._last_activity >= self.settings.kiosk_idle_s:
            self._eject()
            self.reset(self.tr("timeout"))

    def _eject(self) -> None:
        """The demo tray gives the card back on a timeout, like a kiosk's motorised reader."""
        if self.demo and getattr(self.app, "tray_card", None):
            self.app.tray_remove()  # type: ignore[attr-defined]

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
        current = getattr(self.app, "tray_card", None)
        names = dict(self._tray_profiles())
        self.query_one("#demo-state", Static).update(
            self.tr("tray_in", name=names.get(current, current)) if current else self.tr("tray_empty"))
        self.query_one("#tray-remove", Button).disabled = not current
        for button in self.query(".tray-card"):
            button.set_class(button.id == f"tray-{current}", "inserted")

    # -- buttons --------------------------------------------------------------------------
    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self._touch()
        bid = event.button.id or ""
        if event.button.has_class("option"):
            self._choose(self.options[int(event.button.name or 0)])
        elif bid.startswith("tray-") and bid != "tray-remove":
            self.app.tray_insert(bid[len("tray-"):])  # type: ignore[attr-defined]
        elif bid == "tray-remove":
            self.app.tray_remove()  # type: ignore[attr-defined]
        elif bid == "to-choose":
            self.show("choose")
        elif bid in ("cancel", "message-done", "done"):
            self._eject()
            self.reset()
        elif bid == "choose-back":
            self.show("overview")
        elif bid == "pin-back":
            self.show("choose")
        elif bid == "key-clear":
            self.pin = ""
            self._show_pin()
        elif bid == "key-ok":
            self._pin_confirm()
        elif bid.startswith("key-"):
            self._pin_digit(bid[-1])

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
        self._fill_overview()
        self._fill_options()
        self.show("overview")

    def _fill_overview(self) -> None:
        p, bill = self.patient, self.bill
        assert p is not None
        self.query_one("#greeting", Static).update(
            f"{escape(self.tr('hello', name=p.name))}    [dim]{escape(p.certno_masked)}[/]")
        accounts = _grid()
        accounts.add_row(f"[b]{self.tr('own_account')}[/b]", "")
        if p.own_balc is None:
            accounts.add_row(f"  {self.tr('no_own_account')}", "")
        else:
            accounts.add_row(f"  {self.tr('balance')}", f"[b]{yuan(p.own_balc)}[/b]")
        accounts.add_row("", "")
        accounts.add_row(f"[b]{self.tr('family')}[/b]", "")
        if not p.family:
            accounts.add_row(f"  {self.tr('no_family')}", "")
        for f in p.family:   # that it can pay, never how much: anyone at the kiosk could read it before the PIN
            accounts.add_row(f"  {escape(f.owner_name)}", f"[b]{self.tr('family_usable')}[/b]")
            accounts.add_row(f"  [dim]({escape(self.tr('relation_of', relation=f.relation_name))})[/]", "")
        self.query_one("#accounts", Static).update(accounts)
        table = _grid()
        table.add_row(f"[b]{self.tr('pending_bill')}[/b]", f"[b]{yuan(bill.total)}[/b]" if bill else "")
        if bill is None:
            table.add_row(f"  {self.tr('no_bill')}", "")
        else:
            table.add_row(f"  {self.tr('fund_pays')}", yuan(bill.fund_pay))
            table.add_row(f"  [b]{self.tr('you_pay')}[/b]", f"[b $warning]{yuan(bill.total - bill.fund_pay)}[/]")
            table.add_row("", "")
            shown = bill.lines[:5]
            for line in shown:
                table.add_row(f"  [dim]{escape(line.name)} ×{line.qty}[/]", f"[dim]{yuan(line.amount)}[/]")
            if len(bill.lines) > len(shown):
                table.add_row(f"  [dim]… +{len(bill.lines) - len(shown)}[/]", "")
        self.query_one("#bill", Static).update(table)
        self.query_one("#to-choose", Button).disabled = not (bill and self.options)

    def _fill_options(self) -> None:
        box = self.query_one("#option-list", Vertical)
        box.remove_children()
        buttons = []
        for i, o in enumerate(self.options):
            detail = f"{self.tr('account_pays')} {yuan(o.own_pay + o.mulaid_pay)}"   # the whole part: no cash
            # no id: the old buttons are still being removed while these mount
            buttons.append(Button(f"{i + 1}  {escape(self._payer(o))}\n{detail}", name=str(i), classes="option"))
        box.mount_all(buttons)

    def _payer(self, option: PayOption) -> str:
        return self.tr("pay_own") if option.key == "own" else \
            self.tr("pay_with", relation=option.relation_name, name=option.payer_name)

    def _to_window(self, bill: PendingBill) -> None:
        """The accounts cannot cover the out-of-pocket part: the amounts, nothing charged, go to a window."""
        amounts = _grid()
        amounts.add_row(self.tr("total"), yuan(bill.total))
        amounts.add_row(self.tr("fund_pays"), yuan(bill.fund_pay))
        amounts.add_row(f"[b]{self.tr('you_pay')}[/b]", f"[b]{yuan(bill.total - bill.fund_pay)}[/b]")
        self._message(self.tr("go_window"), f"{self.tr('accounts_short')}\n{self.tr('nothing_charged')}", amounts)

    # -- step 2: choose who pays, then the PIN ----------------------------------------------
    def _choose(self, option: PayOption) -> None:
        self.option = option
        self.pin = ""
        self.query_one("#pin-summary", Static).update(
            f"{escape(self._payer(option))}\n{self.tr('account_pays')} {yuan(option.own_pay + option.mulaid_pay)}")
        self.query_one("#pin-message", Static).update(self.tr("pin_hint"))
        self._show_pin()
        self.show("pin")

    def _show_pin(self) -> None:
        dots = " ".join("●" if i < len(self.pin) else "○" for i in range(PIN_LENGTH))
        self.query_one("#pin-dots", Static).update(dots)

    def _pin_digit(self, digit: str) -> None:
        if len(self.pin) < PIN_LENGTH:
            self.pin += digit
            self._show_pin()

    def _pin_confirm(self) -> None:
        if len(self.pin) != PIN_LENGTH or self.option is None or self.paying:
            self.query_one("#pin-message", Static).update(self.tr("pin_hint"))
            return
        pin, self.pin = self.pin, ""
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
        r = message.receipt
        table = _grid()
        table.add_row(self.tr("total"), yuan(r.total))
        table.add_row(self.tr("fund_pays"), yuan(r.fund_pay))
        if r.own_pay:
            table.add_row(self.tr("own_paid"), f"[b]{yuan(r.own_pay)}[/b]")
        for name, amount in r.mulaid:
            table.add_row(escape(self.tr("family_paid", name=name)), f"[b]{yuan(amount)}[/b]")
        if r.own_balc_after is not None:
            table.add_row(f"[dim]{self.tr('balance_after')}[/]", f"[dim]{yuan(r.own_balc_after)}[/]")
        table.add_row(f"[dim]{self.tr('setl_id')}[/]", f"[dim]{r.setl_id}[/]")
        self.query_one("#receipt-body", Static).update(table)
        self.query_one("#receipt-note", Static).update(
            (escape(r.slip_warning) + "\n" if r.slip_warning else "") + self.tr("take_card"))
        self._touch()
        self.show("receipt")

    def on__failed(self, message: _Failed) -> None:
        self.paying = False
        if message.step == "pay" and message.code in ("pin_wrong", "pin_invalid") and self._card_in:
            self.query_one("#pin-message", Static).update(f"[b red]{message.message}[/]\n{self.tr('pin_again')}")
            self._show_pin()
            self.show("pin")
            return
        if not self._card_in and message.code in ("card_removed", "no_card"):
            self.reset(self.tr("card_removed"))
            return
        if message.code == "pin_blocked":   # the third wrong PIN, or a card blocked since it was read
            self._message(self.tr("pin_blocked"), f"{self.tr('pin_blocked_hint')}\n{self.tr('see_window')}")
            return
        if message.code == "accounts_short" and self.bill is not None:   # balances moved since the options
            self._to_window(self.bill)
            return
        if message.code == "bad_bill":   # the bill file: unreadable, malformed or not showable
            self._message(self.tr("bad_bill"), escape(message.message))
            return
        unknown = message.code in ("person_unknown", "unknown_person", "unknown_card")
        title = self.tr("unknown_patient") if unknown else self.tr("error")
        self._message(title, f"{escape(message.message)}\n\n{self.tr('see_window')}")
