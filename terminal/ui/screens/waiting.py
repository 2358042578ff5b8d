"""Waiting for a card: reader status, window and cashier, today's totals for this window."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Label, Static

from terminal.ui.messages import CardInserted, CardRemoved, TotalsLoaded, WorkFailed
from terminal.ui.screens.base import CENTRE_LOG_KEY, CashierScreen, ErrorLine, tcss
from terminal.ui.widgets.money import yuan
from terminal.ui.workers import run_service

#: the totals shown, in this order (reconciliation field names)
TOTAL_FIELDS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")


class WaitingScreen(CashierScreen):
    """The window at rest. A card inserted opens the patient (the app reads it)."""

    CSS_PATH = tcss(__file__)
    WAITS_FOR_PATIENT = True   # an e-voucher scanned in here opens its patient (terminal.ui.wedge_keys)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "reread", "reread", key_display="F5"),
        Binding("f3", "id_card", "id_card", key_display="F3"),
        CENTRE_LOG_KEY,
        *(Binding(str(i), f"insert({i})", show=False) for i in range(1, 10))]
    LABELS = {"reread": "key.reread", "id_card": "key.id_card"}

    def compose(self) -> ComposeResult:
        yield from self.compose_frame_top()
        with Vertical(id="waiting"):
            yield Static(self.t("wait.title"), id="prompt")
            yield Label(self.t("wait.hint" if self.app.cfg.terminal.id_card else "wait.hint_no_id"), id="hint")
            if self.app.demo:
                yield Label(self.t("wait.demo_hint"), id="demo-hint")
            yield ErrorLine(id="error")
            kept = Label("", id="kept")
            kept.display = False   # shown only while a bill is kept (a line less at 24 rows)
            yield kept
            with Horizontal(id="reader-row"):
                yield Label(self.t("wait.reader"), classes="k")
                yield Label("", id="reader")
            with Grid(id="status"):
                yield Label(self.t("wait.window"), classes="k")
                yield Label(self.app.cfg.terminal.window, id="window")
                yield Label(self.t("wait.operator"), classes="k")
                yield Label(self.app.cfg.terminal.operator, id="operator")
                yield Label(self.t("wait.date"), classes="k")
                yield Label(self.app.today(), id="date")
            yield Label(self.t("wait.today"), id="today-title")
            with Grid(id="totals"):
                yield Label(self.t("wait.count"), classes="k")
                yield Label("—", id="t-count", classes="v")
                for name in TOTAL_FIELDS:
                    yield Label(self.t(f"f.{name}").strip(), classes="k")
                    yield Label("—", id=f"t-{name}", classes="v")
        yield from self.compose_frame_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.show_reader()
        self.show_kept()
        self.refresh_totals()

    def on_screen_resume(self) -> None:
        self.show_reader()
        self.show_kept()

    def show_kept(self) -> None:
        """The bills kept for cards that left the reader (restored when the card comes back)."""
        t = self.t
        kept = self.app.kept_bills.all()
        label = self.query_one("#kept", Label)
        label.update(t("notice.kept_list", bills=t("quit.sep").join(t("quit.one", name=b.name, n=b.count)
                                                                   for b in kept)) if kept else "")
        label.display = bool(kept)

    def show_reader(self, reading: bool = False) -> None:
        app = self.app
        # a card left in the reader (after F10): ask for it to be taken, not for a card to be inserted
        card_in = app.card_present and not reading
        self.query_one("#prompt", Static).update(self.t("wait.title_card_in" if card_in else "wait.title"))
        label = self.query_one("#reader", Label)
        if app.reader_error:
            code, message = app.reader_error
            label.update(f"{self.t('wait.reader_error')}: {message}")
            label.set_class(True, "bad")
            return
        name = getattr(app.reader, "name", "") or (app.reader_spec or app.cfg.reader.spec)
        state = self.t("wait.reading") if reading else self.t("wait.reader_ok")
        label.update(f"{name} — {state}")
        label.set_class(False, "bad")

    def show_error(self, code: str, message: str) -> None:
        self.show_reader()
        self.query_one("#error", ErrorLine).show(message)

    def show_notice(self, text: str) -> None:
        self.query_one("#error", ErrorLine).show(text)
        self.show_kept()

    def on_card_inserted(self, message: CardInserted) -> None:
        self.query_one("#error", ErrorLine).clear()
        self.show_reader(reading=True)

    def on_card_removed(self, message: CardRemoved) -> None:
        self.show_reader()

    def action_reread(self) -> None:
        """Read the card in the reader again (after a read error, or back from a finished patient)."""
        app = self.app
        if app.card_present:
            self.query_one("#error", ErrorLine).clear()
            self.show_reader(reading=True)
            app.read_card()
        else:
            self.query_one("#error", ErrorLine).show(self.t("notice.no_card"))

    def action_id_card(self) -> None:
        """F3: the patient shows the resident ID card; its number typed, checked, then 1101 with it
        (mdtrt_cert_type 02) and the patient screen, as for a card read. Refused where config turns it off."""
        error = self.query_one("#error", ErrorLine)
        if not self.app.cfg.terminal.id_card:
            error.show(self.t("idc.off"))
            return
        from terminal.ui.widgets.id_card_entry import IdCardEntry
        error.clear()
        self.app.push_screen(IdCardEntry(), self._id_card_entered)

    def _id_card_entered(self, certno: str | None) -> None:
        if not certno:
            return
        from terminal.ui import window_ops
        from terminal.ui.messages import PatientLoaded
        app = self.app
        cfg, today = app.cfg, app.today()
        self.show_reader(reading=True)
        run_service(app, "read", lambda: window_ops.load_id_card_patient(cfg, certno, today),
                    lambda loaded: PatientLoaded(*loaded), group="id-card")

    def action_insert(self, index: int) -> None:
        app = self.app
        if not app.demo:
            return
        profiles = app.tray_profiles()
        if app.tray_card is not None:
            self.query_one("#error", ErrorLine).show(self.t("wait.pull_first"))
            return
        if 1 <= index <= len(profiles):
            app.tray_insert(profiles[index - 1])

    # today's totals ----------------------------------------------------------------
    def refresh_totals(self) -> None:
        self.query_one("#date", Label).update(self.app.today())
        self.load_totals()

    def load_totals(self) -> None:
        from terminal.ui import window_ops
        cfg, day = self.app.cfg, self.app.today()
        run_service(self, "totals", lambda: window_ops.day_report(cfg, day, cfg.terminal.window), TotalsLoaded)

    def on_totals_loaded(self, message: TotalsLoaded) -> None:
        report = message.report
        self.query_one("#t-count", Label).update(str(report.count))
        for name in TOTAL_FIELDS:
            self.query_one(f"#t-{name}", Label).update(yuan(report.sums.get(name, 0)))

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.action == "totals":
            self.query_one("#t-count", Label).update(self.t("wait.no_totals"))
