"""The cashier's Textual app and its one factory, `build_app`, used by the command line and the tests.

Threads: card events arrive on a foreign thread (pyscard's monitor, the emulator) and are posted
to the app with `post_message`; card, serial and database work runs in thread workers
(`@work(thread=True)`, one sqlite connection each) that post their results back. The UI never blocks.

Modes:
- `cashier` (default): the window's screens (waiting → patient → bill → payment → result; bindings,
  today's settlements, day end, help). Every cashier key lives on those screens.
- `kiosk`: the app pushes `terminal.ui.kiosk.KioskScreen` (owned by the kiosk) and installs no cashier
  binding or screen at all. What the kiosk can use from here:
  `app.cfg`, `app.lang`, `app.t(key)`, `app.now()`, `app.reader` (the open reader or None),
  `app.reader_error` ((code, message) when it could not be opened), `app.demo` (in-process emulator with
  a tray: `app.tray_insert(profile)`, `app.tray_remove()`, `app.tray_profiles()`), and the card events
  `terminal.ui.messages.CardInserted` / `CardRemoved`, re-posted to the active screen.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol, cast

from textual import events
from textual.app import App
from textual.binding import BindingType

from drivers.reader import CardEvent, Reader
from terminal import clock
from terminal.config import Config
from terminal.errors import describe
from terminal.ui.i18n import Translator
from terminal.ui.messages import CardInserted, CardRemoved, CentreAnswered, PatientLoaded, WorkFailed

if TYPE_CHECKING:
    from textual.message import Message

    from terminal.services.ledger import Ledger
    from terminal.ui.key_order import KeyQueue

Clock = Callable[[], datetime]


class TrayReader(Protocol):
    """The demo's reader (the in-process emulator): a card can be put in and taken out by the app."""

    def insert(self, card: object) -> None: ...

    def remove(self) -> None: ...


def screen_stylesheets() -> list[str | PurePath]:
    """Every cashier screen's .tcss (each beside its module), read once as the app starts. A screen's own
    CSS_PATH read at its first showing makes Textual parse every stylesheet of the app again and restyle the
    whole window: tens of milliseconds each time a cashier opens a screen for the first time. Read here, the
    screen's CSS_PATH names a stylesheet already read, and nothing is parsed again."""
    from pathlib import Path
    paths: list[str | PurePath] = [str(path) for path in sorted((Path(__file__).parent / "screens").glob("*.tcss"))]
    return paths


class CashierApp(App):
    """The window. Screens do the work; the app owns the reader, the clock and the language."""

    TITLE = "cashier"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = []  # cashier keys live on the cashier screens; kiosk mode gets none
    # screens get -narrow below 100 columns and -short below 32 rows: 80×24 lays out tighter, never loses money
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(self, cfg: Config, *, reader_spec: str | None = None, demo: bool = False,
                 mode: str = "cashier", lang: str | None = None, now: datetime | Clock | None = None) -> None:
        super().__init__(css_path=screen_stylesheets() if mode == "cashier" else None)
        self.cfg = cfg
        self.reader_spec = reader_spec
        self.demo = demo
        self.mode = mode
        self.t = Translator(lang or cfg.terminal.lang)
        self.lang = self.t.lang
        if isinstance(now, datetime):
            fixed = now
            self._clock: Clock = lambda: fixed
        else:
            self._clock = now or clock.now
        self.reader: Reader | None = None
        self.reader_error: tuple[str, str] | None = None
        self.tray_card: str | None = None       # the profile in the emulator's reader (demo)
        self.tray_selected: str = cfg.emulator.default_profile
        self.card_present = False
        self.card_epoch = 0                      # +1 each time a card leaves while a non-patient screen is on top
        self.pending_notice: str | None = None   # the removal notice waiting for that screen to close
        self.patient_notice: str | None = None   # said on the next patient screen (the card was changed)
        from terminal.ui.bills_kept import KeptBills
        self.kept_bills = KeptBills()            # bills not charged whose card left the reader
        self._tray_profiles: list[str] | None = None
        self._keys: KeyQueue | None = None   # key_order.KeyQueue once running (cashier mode): fast keys handled in order
        self._wedge: Any = None              # wedge_keys.KeyboardWedge in front of it (e-voucher scans)
        self.newest_key_at = 0.0             # the stamp of the newest key the terminal queued for the app
        self.title = self.t("app.title")
        self.sub_title = self.t("app.sub", window=cfg.terminal.window, operator=cfg.terminal.operator)

    # clock ------------------------------------------------------------------
    def now(self) -> datetime:
        return self._clock()

    def today(self) -> str:
        return clock.day(self.now())

    # keys -------------------------------------------------------------------
    def post_message(self, message: Message) -> bool:
        """A key is noted as it is queued: the scanner wedge must not take keys not yet handled for a pause."""
        queued = super().post_message(message)
        if queued and isinstance(message, events.Key) and not message.is_forwarded:
            self.newest_key_at = max(self.newest_key_at, message.time)
        return queued

    def keys_pending(self) -> bool:
        """Keys from the terminal the window is not done with: held by the scanner wedge, waiting in the key
        queue, or being handed on. (What a test waits on after typing, rather than on the CPU going idle.)"""
        held = self._wedge is not None and bool(self._wedge.held)
        return held or (self._keys is not None and self._keys.busy())

    async def on_event(self, event: events.Event) -> None:
        """A key from the terminal waits for the one before it to settle (scanner, paste: none is lost)."""
        if isinstance(event, events.Key) and not event.is_forwarded and self.mode != "kiosk":
            if self._keys is None:
                from terminal.ui.key_order import KeyQueue
                from terminal.ui.wedge_keys import KeyboardWedge
                self._keys = KeyQueue(self, lambda key: App.on_event(self, key))
                self._wedge = KeyboardWedge(self, self._keys.put)   # an e-voucher scanned in: not keys
            self._wedge.feed(event)
            return
        await super().on_event(event)

    def scanned_voucher(self, code: str) -> None:
        """An e-voucher code scanned in on a screen waiting for a patient: that patient, through the centre."""
        from terminal.ui.wedge_keys import load_voucher
        load_voucher(self, code)

    # start and stop -----------------------------------------------------------
    def on_mount(self) -> None:
        self._open_reader()
        if self.reader is not None:
            try:
                self.reader.add_listener(self._card_event)
            except Exception as exc:  # pcscd not running: said on the waiting screen, never a traceback
                self.reader_error = describe(exc, self.lang)
            else:
                self._card_already_in()
        if self.mode == "kiosk":
            from terminal.ui.kiosk import KioskScreen  # the kiosk's own package, imported only here
            self.push_screen(KioskScreen())
        else:
            from terminal.ui.screens.waiting import WaitingScreen
            self.push_screen(WaitingScreen())
            self.run_worker(self._sign_in, thread=True, name="centre-sign-in")
        if self.cfg.centre.probe_s > 0:
            self.set_interval(self.cfg.centre.probe_s, self._probe_centre)

    def _probe_centre(self) -> None:
        """Every `[centre] probe_s`: ask after the centre off the UI thread (the header polls what it finds)."""
        self.run_worker(self._probe, thread=True, name="centre-probe", group="centre-probe", exclusive=True)

    def _probe(self) -> None:
        try:
            self.ledger.probe()
        except Exception:
            pass   # a ledger that cannot open is said by the next service call, as a message
        self.post_message(CentreAnswered())

    def _sign_in(self) -> None:
        """9001 as the window opens, off the UI thread: the header then shows the centre's state and who is
        signed in (a centre that cannot be reached shows as down; the first call tries again)."""
        try:
            self.ledger.sign_in()
        except Exception:
            pass   # a config the ledger cannot open is said by the first service call, as a message
        self.post_message(CentreAnswered())

    def on_centre_answered(self, _message: CentreAnswered) -> None:
        from terminal.ui.widgets.header import CentreBadge
        if not self.screen_stack:
            return   # the answer came as the window closed: no header left to show it
        for badge in self.screen.query(CentreBadge):
            badge.poll()

    def _open_reader(self) -> None:
        from terminal.readers import open_reader
        spec = self.reader_spec
        if self.demo and not (spec or "").startswith("emulator"):
            spec = f"emulator:{self.cfg.emulator.default_profile}"
        try:
            self.reader = open_reader(spec, self.cfg)
        except Exception as exc:  # a missing pcscd, a bad spec: shown on the waiting screen
            self.reader_error = describe(exc, self.lang)
            return
        if self.demo:
            # the demo starts with an empty reader: the cashier inserts cards from the tray
            self.tray_selected = (spec or "").partition(":")[2] or self.cfg.emulator.default_profile
            self.tray_card = self.tray_selected
            self.tray_remove()

    @property
    def ledger(self) -> "Ledger":
        """Where this window's money moves: the centre's client (the embedded centre, or one over HTTP).
        `app.ledger.client` is the CentreClient (its `health`, its log)."""
        from terminal.services.ledger import ledger_of
        return ledger_of(self.cfg)

    def on_unmount(self) -> None:
        from terminal.services.ledger import close_ledger
        try:
            close_ledger(self.cfg)
        except Exception:
            pass
        if self.reader is not None:
            try:
                self.reader.close()
            except Exception:
                pass

    # card events (foreign thread → message) -----------------------------------
    def _card_event(self, event: CardEvent) -> None:
        if event.kind == "inserted":
            self.post_message(CardInserted(event.reader, event.atr))
        else:
            self.post_message(CardRemoved(event.reader))

    def _card_already_in(self) -> None:
        """A card in the reader before the app listened is a card inserted now (a polling reader only
        reports changes)."""
        reader: Any = self.reader   # a PC/SC reader adds `wanted` and `list_readers` to the protocol

        def check() -> None:
            wanted = getattr(reader, "wanted", None)
            if wanted and hasattr(reader, "list_readers"):
                # a named PC/SC reader that pcscd does not list: say so now, not "ready"
                try:
                    names = reader.list_readers()
                    if wanted not in names:
                        from drivers.errors import NO_READER, CardError
                        raise CardError(NO_READER, f"no reader named {wanted!r} (readers: {', '.join(names) or '-'})",
                                        detail_zh=f"没有名为 {wanted!r} 的读卡器(现有: {'、'.join(names) or '无'})")
                except Exception as exc:
                    self.post_message(WorkFailed("reader", *describe(exc, self.lang)))
                    return
            try:
                if reader is not None and reader.card_present():
                    self._card_event(CardEvent("inserted", getattr(reader, "name", "")))
            except Exception:
                pass  # the reader's own events will tell
        self.run_worker(check, thread=True, name="card-at-start")

    def on_card_inserted(self, message: CardInserted) -> None:
        if self.card_present:
            return  # the same card reported twice (at start: our check and the reader's monitor)
        self.card_present = True
        self.screen.post_message(CardInserted(message.reader, message.atr))
        if self.mode != "kiosk":   # the kiosk reads the card itself
            self.read_card()

    def on_card_removed(self, message: CardRemoved) -> None:
        self.card_present = False
        if self.mode == "kiosk":
            self.screen.post_message(CardRemoved(message.reader))
            return
        self.workers.cancel_group(self, "card")
        notice = self._with_kept(self._removal_notice(), self._keep_bill())
        if self._patient_on_top():
            self.back_to_waiting(notice=notice)
        else:
            # today's settlements, day end, help: not about the patient, they stay open; the patient's
            # screens beneath close when the cashier comes back to them (CardScreen.on_screen_resume)
            self.card_epoch += 1
            self.pending_notice = notice
        self.screen.post_message(CardRemoved(message.reader))

    def _patient_on_top(self) -> bool:
        """The screen the cashier looks at (under any dialog) belongs to the patient's journey."""
        from textual.screen import ModalScreen

        from terminal.ui.screens.base import CardScreen
        for screen in reversed(self.screen_stack):
            if not isinstance(screen, ModalScreen):
                return isinstance(screen, CardScreen)
        return False

    def _removal_notice(self) -> str | None:
        from terminal.ui.screens.base import CardScreen
        journey = [s for s in self.screen_stack if isinstance(s, CardScreen)]
        if not journey or journey[-1].FINISHED:
            return None   # no patient open, or the patient's business is done (the card is simply taken)
        paying = any(s.PAYING for s in journey)
        return self.t("notice.card_removed_paying" if paying else "notice.card_removed")

    # bills not charged yet ---------------------------------------------------
    def bill_on_screen(self):
        """The bill of the patient on screen, as typed so far (None: no patient, or the payment is done)."""
        from terminal.card_session import CardIdentity
        from terminal.ui.bills_kept import KeptBill
        from terminal.ui.screens.base import CardScreen
        from terminal.ui.screens.bill import BillScreen
        from terminal.ui.screens.patient import PatientScreen
        journey = [s for s in self.screen_stack if isinstance(s, CardScreen)]
        if not journey or journey[-1].FINISHED:
            return None
        patient = next((s for s in journey if isinstance(s, PatientScreen)), None)
        if patient is None:
            return None
        bill_screen = next((s for s in reversed(journey) if isinstance(s, BillScreen)), None)
        held = bill_screen.snapshot() if bill_screen is not None else patient.bill
        bill = KeptBill(CardIdentity.of(patient.card), patient.name, list(held.get("items", [])),
                        str(held.get("med_type", "11")), dict(held.get("entry", {})))
        return None if bill.empty else bill

    def _keep_bill(self):
        """The card is leaving: keep the bill on screen under its card (a pulled card cannot be undone)."""
        bill = self.bill_on_screen()
        if bill is not None:
            self.kept_bills.keep(bill)
        return bill

    def _with_kept(self, notice: str | None, kept) -> str | None:
        if kept is None:
            return notice
        said = self.t("notice.bill_kept", name=kept.name, n=kept.count)
        return f"{notice}\n{said}" if notice else said

    def card_changed(self, message: str) -> None:
        """The card in the reader is not the card on screen (swapped while the screen was open): the service
        wrote nothing. Keep the bill under the card it belongs to, and open the card now in the reader."""
        notice = self._with_kept(message, self._keep_bill())
        self.patient_notice = notice
        self.back_to_waiting(notice=notice)
        if self.card_present:
            self.read_card()

    async def action_quit(self) -> None:
        """Ctrl+Q: a bill not charged (on screen or kept for a card that left) is not thrown away unasked."""
        unsaved = [b for b in [self.bill_on_screen(), *self.kept_bills.all()] if b is not None]
        if self.mode == "kiosk" or not unsaved:
            self.exit()
            return
        from terminal.ui.widgets.confirm import ConfirmModal
        names = self.t("quit.sep").join(self.t("quit.one", name=b.name, n=b.count) for b in unsaved)

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()
        self.push_screen(ConfirmModal(self.t("quit.ask", bills=names)), answered)

    def back_to_waiting(self, notice: str | None = None, refresh: bool = True) -> None:
        """Unwind every screen above the waiting screen (and bring today's totals up to date)."""
        from terminal.ui.screens.waiting import WaitingScreen
        self.pending_notice = None
        while len(self.screen_stack) > 1 and not isinstance(self.screen, WaitingScreen):
            self.pop_screen()
        if isinstance(self.screen, WaitingScreen):
            if notice:
                self.screen.show_notice(notice)   # stays until the next card
            if refresh:
                self.screen.refresh_totals()

    # reading the card --------------------------------------------------------
    def read_card(self) -> None:
        from terminal.ui import window_ops
        from terminal.ui.workers import run_service
        cfg, reader, today = self.cfg, self.reader, self.today()
        run_service(self, "read", lambda: window_ops.load_patient(cfg, reader, today),
                    lambda loaded: PatientLoaded(*loaded), group="card")

    def on_patient_loaded(self, message: PatientLoaded) -> None:
        if not self.card_present and not getattr(message.card, "psn_no", ""):
            return  # the card left while it was being read (an e-voucher patient has no card)
        from terminal.card_session import CardIdentity
        from terminal.ui.screens.patient import PatientScreen
        notice, self.patient_notice = self.patient_notice, None
        kept = self.kept_bills.take(CardIdentity.of(message.card))
        self.back_to_waiting(refresh=False)
        self.push_screen(PatientScreen(message.card, message.family, message.places, message.pin_tries_left,
                                       notice=notice, kept=kept))

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.action == "reader":   # the reader named cannot be used: shown as the reader's state
            from terminal.ui.screens.waiting import WaitingScreen
            self.reader_error = (message.code, message.message)
            for screen in self.screen_stack:
                if isinstance(screen, WaitingScreen):
                    screen.show_reader()
            return
        if message.action == "read":
            from terminal.ui.screens.waiting import WaitingScreen
            if isinstance(self.screen, WaitingScreen):
                self.screen.show_error(message.code, message.message)
            else:
                self.notify(message.message, severity="error", timeout=8)

    # the emulator's card tray (demo) ----------------------------------------
    def tray_profiles(self) -> list[str]:
        if self._tray_profiles is None:
            from emulator.profiles import list_profiles
            self._tray_profiles = [p.id for p in sorted(list_profiles(), key=lambda p: p.card_no)]  # the cast's order
        return list(self._tray_profiles)

    def tray_insert(self, profile: str) -> None:
        """Put the demo card `profile` into the in-process reader (taking out any card first)."""
        if not self.demo or self.reader is None:
            return
        from emulator.profiles import load_card
        if self.tray_card is not None:
            self.tray_remove()
        cast(TrayReader, self.reader).insert(load_card(profile, self.cfg.state_dir))
        self.tray_card = profile
        self.tray_selected = profile
        self._tray_changed()

    def tray_remove(self) -> None:
        if not self.demo or self.reader is None:
            return
        if self.tray_card is not None:
            cast(TrayReader, self.reader).remove()
        self.tray_card = None
        self._tray_changed()

    def _tray_changed(self) -> None:
        from terminal.ui.widgets.card_tray import CardTray
        if not self.is_running:
            return
        for screen in self.screen_stack:
            for tray in screen.query(CardTray):
                tray.refresh_cards()


def build_app(cfg: Config, *, reader_spec: str | None = None, demo: bool = False, mode: str = "cashier",
              lang: str | None = None, now: datetime | Clock | None = None) -> CashierApp:
    """The one factory: the command line (`cashier demo`, `cashier ui`, `cashier web`) and the tests use it."""
    if mode not in ("cashier", "kiosk"):
        raise ValueError(f"mode must be 'cashier' or 'kiosk', not {mode!r}")
    return CashierApp(cfg, reader_spec=reader_spec, demo=demo, mode=mode, lang=lang, now=now)
