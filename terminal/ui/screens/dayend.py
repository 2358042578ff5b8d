"""Day-end reconciliation: this window's counts and sums from its settlements, checked by the ledger's
`reconcile` (3201 per insurance type); the verdict in words a cashier can act on: this window's record and the
centre's answer side by side, and the centre's own words for what differs (`stmt_rslt_dscr`)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Label, Static

from centre.interface.codes import RECONCILE_FIELDS
from terminal.services.centre_reconcile import CentreReconcileReport
from terminal.ui.messages import TotalsLoaded, WorkFailed
from terminal.ui.screens.base import CashierScreen, ErrorLine, tcss
from terminal.ui.widgets.money import money_cell, yuan
from terminal.ui.workers import run_service


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
        self.load()

    def load(self) -> None:
        from terminal.ui import window_ops
        cfg, day = self.app.cfg, self.app.today()
        run_service(self, "dayend", lambda: window_ops.day_report(cfg, day, cfg.terminal.window), TotalsLoaded)

    def on_totals_loaded(self, message: TotalsLoaded) -> None:
        self.show_centre(message.report)

    def show_centre(self, report: CentreReconcileReport) -> None:
        """3201 per insurance type: this window's record and the centre's side by side, what differs in red."""
        t = self.t
        self.set_class(True, "-centre")
        self.query_one("#rec-title", Label).update(     # the day counted: the centre's, near midnight not the machine's
            f"{t('rec.title')} · {t('rec.date')} {report.date} · {t('rec.window')} {self.app.cfg.terminal.window}")
        self.query_one("#count", Label).update(
            f"{t('rec.breakdown', settled=report.settled, reversals=report.reversals, rows=report.settled + report.reversals)}"
            f" · {t('rec.net')}: {report.count}")
        table = self.query_one("#sums", DataTable)
        table.clear(columns=True)
        table.header_height = 2
        table.display = bool(report.rows)    # no insurance settlement here, none at the centre: said below
        table.add_column("", width=14)
        for r in report.rows:
            kind = t(f"insutype.{r.insutype}.short") if t.has(f"insutype.{r.insutype}.short") else ""
            table.add_column(Text(f"{kind} {r.insutype}\n{t('rec.mine')}".lstrip()), width=12)
            table.add_column(Text(f"{t('rec.agrees') if r.agrees else t('rec.differs')}\n{t('rec.centre')}",
                                  style="" if r.agrees else "bold red"), width=12)
        table.add_row(t("rec.count"), *(cell for r in report.rows
                                         for cell in _pair(str(r.count), "—" if r.centre_count is None
                                                           else str(r.centre_count), r.count != r.centre_count)))
        for name in RECONCILE_FIELDS:
            cells = []
            for r in report.rows:
                theirs = None if r.centre_sums is None else r.centre_sums.get(name, 0)
                cells += _pair(money_cell(r.sums.get(name, 0), 12), money_cell(theirs, 12),
                               theirs != r.sums.get(name, 0))
            table.add_row(t(f"f.{name}").strip(), *cells)
        verdict = self.query_one("#verdict", Static)
        verdict.update(t("rec.ok_centre") if report.ok else t("rec.bad_centre"))
        verdict.set_class(report.ok, "ok")
        verdict.set_class(not report.ok, "bad")
        said = [f"{t(f'insutype.{r.insutype}') if t.has(f'insutype.{r.insutype}') else r.insutype}: {r.dscr}"
                for r in report.rows if not r.agrees]
        if not report.rows:
            said.append(t("rec.no_insurance"))
        if report.cash_only_reversals:
            said.append(t("rec.cash_only_reversed", sales=report.cash_only_sales, reversals=report.cash_only_reversals,
                          n=report.cash_only_count, amount=yuan(report.cash_only)))
        elif report.cash_only_sales:
            said.append(t("rec.cash_only", n=report.cash_only_count, amount=yuan(report.cash_only)))
        self.query_one("#mismatches", Label).update("\n".join(said))

    def on_work_failed(self, message: WorkFailed) -> None:
        self.query_one("#error", ErrorLine).show(message.message)


def _pair(mine: str, theirs: str, differ: bool) -> list[Text | str]:
    """This window's figure and the centre's, in red when they differ."""
    if not differ:
        return [mine.rjust(12), theirs.rjust(12)]
    return [Text(mine.rjust(12), style="bold red"), Text(theirs.rjust(12), style="bold red")]
