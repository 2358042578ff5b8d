"""Today's settlements at this window, newest first; F7 (or Enter) reverses the chosen one after a
confirmation. The reversal itself is the service's (same day, every balance restored)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from centre.interface.codes import SetlStatus
from terminal.services.results import SettlementResult
from terminal.services.views import Split
from terminal.ui.messages import Reversed, SettlementsLoaded, WorkFailed
from terminal.ui.screens.base import CashierScreen, ErrorLine, tcss
from terminal.ui.widgets.confirm import ConfirmModal
from terminal.ui.widgets.fit_table import Col, FitTable
from terminal.ui.widgets.money import yuan
from terminal.ui.workers import run_service

# a settlement row's state as the window says it (正常 / 已冲正 / 冲正记录)
STATE_KEYS: dict[str, str] = {SetlStatus.SETTLED: "today.state_ok", SetlStatus.REVERSED: "today.state_reversed",
                              SetlStatus.REVERSAL: "today.state_reversal"}


class TodayScreen(CashierScreen):
    """The day's list; the reversal behind a yes/no."""

    CSS_PATH = tcss(__file__)
    BINDINGS = [
        Binding("escape", "close", "back", key_display="Esc"),
        Binding("f7", "reverse", "reverse", key_display="F7"),
        Binding("f5", "load", "refresh", key_display="F5"),
    ]
    LABELS = {"close": "key.back", "reverse": "key.reverse", "load": "key.refresh"}

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[SettlementResult] = []
        self.names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        t = self.t
        yield from self.compose_frame_top()
        with Vertical(id="today"):
            yield Label(self._title(self.app.today()), id="today-title")
            yield FitTable([Col(t("today.col_time"), 8), Col(t("today.col_id"), 8, flex=2, cut_left=True),
                            Col(t("today.col_name"), 4, flex=1), Col(t("today.col_total"), 10, right=True),
                            Col(t("today.col_fund"), 10, right=True), Col(t("today.col_acct"), 10, right=True),
                            Col(t("today.col_cash"), 10, right=True), Col(t("today.col_state"), 4)],
                           id="setl", zebra_stripes=True)
            yield Label(t("today.none"), id="none")
            yield ErrorLine(id="error")
        yield from self.compose_frame_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#setl").focus()
        self.load()

    def load(self) -> None:
        from terminal.ui import window_ops
        cfg, day = self.app.cfg, self.app.today()
        run_service(self, "today", lambda: window_ops.todays_settlements(cfg, day, cfg.terminal.window),
                    lambda loaded: SettlementsLoaded(*loaded))

    def _title(self, day: str) -> str:
        return f"{self.t('today.title')} · {day} · {self.t('wait.window')} {self.app.cfg.terminal.window}"

    def on_settlements_loaded(self, message: SettlementsLoaded) -> None:
        t = self.t
        if message.day:   # the day the rows are of: the centre's, past its midnight the machine's tomorrow
            self.query_one("#today-title", Label).update(self._title(message.day))
        self.rows = list(message.rows or [])
        self.names = dict(message.names or {})
        table = self.query_one("#setl", FitTable)
        rows = []
        for r in self.rows:
            split = r.split
            state = STATE_KEYS.get(r.status, "")
            if r.status == SetlStatus.SETTLED and self._self_pay(split):
                state = "today.state_self_pay"
            rows.append(([r.created_at[11:19], r.setl_id, r.psn_name, yuan(split.medfee_sumamt),
                          yuan(split.fund_pay_sumamt), yuan(split.acct_pay), yuan(split.psn_cash_pay),
                          t(state) if state else r.status], r.setl_id))
        table.show(rows)
        self.query_one("#none", Label).display = not self.rows
        table.display = bool(self.rows)

    @staticmethod
    def _self_pay(split: Split) -> bool:
        """Fully self-paid: the whole total out of scope and in cash, nothing from the fund or any account."""
        return (split.medfee_sumamt > 0 and split.psn_cash_pay == split.medfee_sumamt == split.fulamt_ownpay_amt
                and not split.acct_used)

    def on_work_failed(self, message: WorkFailed) -> None:
        self.query_one("#error", ErrorLine).show(message.message)

    def selected(self) -> SettlementResult | None:
        table = self.query_one("#setl", DataTable)
        if not self.rows or not (0 <= table.cursor_row < len(self.rows)):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected)
    def row_chosen(self) -> None:
        self.action_reverse()

    def action_reverse(self) -> None:
        row = self.selected()
        if row is None:
            self.query_one("#error", ErrorLine).show(self.t("today.pick"))
            return
        if row.status in (SetlStatus.REVERSAL, SetlStatus.REVERSED):   # said at once, in the window's word (冲正)
            self.query_one("#error", ErrorLine).show(self.t(f"today.not_reversible_{row.status}", setl_id=row.setl_id))
            return
        question = (self.t("today.confirm", setl_id=row.setl_id, name=row.psn_name, amount=yuan(row.split.medfee_sumamt))
                    + "\n" + self.refund_text(row))

        def answered(yes: bool | None) -> None:
            if yes:
                self.query_one("#error", ErrorLine).clear()
                self.do_reverse(row.setl_id)
        self.app.push_screen(ConfirmModal(question), answered)

    def refund_text(self, row: SettlementResult) -> str:
        """Where each amount of the settlement goes back (its own, family and cash fields)."""
        t, split = self.t, row.split
        parts = []
        if split.fund_pay_sumamt:
            parts.append(t("today.back_fund", amount=yuan(split.fund_pay_sumamt)))
        if split.own_acct_pay:
            parts.append(t("today.back_account", amount=yuan(split.own_acct_pay), owner=row.psn_name))
        for part in split.mulaid:
            owner = part.owner_psn_no
            parts.append(t("today.back_account", amount=yuan(part.amount), owner=self.names.get(owner, owner)))
        parts.append(t("today.back_cash", amount=yuan(split.psn_cash_pay)))
        return t("today.back_sep").join(parts)

    def do_reverse(self, setl_id: str) -> None:
        from terminal.ui import window_ops
        cfg, now = self.app.cfg, self.app.now()
        run_service(self, "reverse", lambda: window_ops.reverse(cfg, setl_id, now=now),
                    lambda result: Reversed(setl_id, result))

    def on_reversed(self, message: Reversed) -> None:
        notice = self.t("notice.reversed", setl_id=message.setl_id)
        warning = message.result.slip_warning
        if warning is not None:     # reversed all the same: only the saved copy of its slip is missing
            notice += "\n" + warning.localized(self.lang)
        self.query_one("#error", ErrorLine).show(notice, ok=warning is None)
        self.load()
