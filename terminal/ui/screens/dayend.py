"""Day-end reconciliation (like 3201): this window's counts and sums from the settlements, checked
against the ledger by the reconcile service; the verdict in words a cashier can act on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Label, Static

from terminal.ui.messages import TotalsLoaded, WorkFailed
from terminal.ui.screens.base import CashierScreen, ErrorLine, tcss
from terminal.ui.widgets.money import money_cell
from terminal.ui.workers import run_service

FIELDS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")


class DayEndScreen(CashierScreen):
    """F5 runs the check again."""

    CSS_PATH = tcss(__file__)
    BINDINGS = [
        Binding("escape", "close", "back", key_display="Esc"),
        Binding("f5", "load", "refresh", key_display="F5"),
    ]
    LABELS = {"close": "key.back", "load": "key.refresh"}

    def compose(self) -> ComposeResult:
        t = self.t
        cfg = self.app.cfg
        yield from self.compose_frame_top()
        with Vertical(id="dayend"):
            yield Label(f"{t('rec.title')} · {t('rec.date')} {self.app.today()} · "
                        f"{t('rec.window')} {cfg.terminal.window}", id="rec-title")
            yield Label("", id="count")
            yield DataTable(id="sums", cursor_type="none")
            yield Static("", id="verdict")
            yield Label("", id="mismatches")
            yield ErrorLine(id="error")
        yield from self.compose_frame_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.columns("#sums", (("", 28), ("rec.settled", 16), ("rec.ledger", 16)))
        self.load()

    def load(self) -> None:
        from terminal.ui import window_ops
        cfg, day = self.app.cfg, self.app.today()
        run_service(self, "dayend", lambda: window_ops.day_report(cfg, day, cfg.terminal.window), TotalsLoaded)

    def on_totals_loaded(self, message: TotalsLoaded) -> None:
        t = self.t
        report = message.report
        self.query_one("#count", Label).update(
            f"{t('rec.breakdown', settled=report.settled, reversals=report.reversals, rows=report.settled + report.reversals)}"
            f" · {t('rec.net')}: {report.count}")
        table = self.query_one("#sums", DataTable)
        table.clear()
        for name in FIELDS:
            table.add_row(t(f"f.{name}").strip(), money_cell(report.sums.get(name, 0), 16),
                          money_cell(report.ledger.get(name, 0), 16))
        verdict = self.query_one("#verdict", Static)
        verdict.update(t("rec.ok") if report.ok else t("rec.bad"))
        verdict.set_class(report.ok, "ok")
        verdict.set_class(not report.ok, "bad")
        self.query_one("#mismatches", Label).update("\n".join(report.problems()))

    def on_work_failed(self, message: WorkFailed) -> None:
        self.query_one("#error", ErrorLine).show(message.message)
