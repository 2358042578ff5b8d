"""The message log: the window's last messages to the insurance centre (time, transaction and its name,
msgid, outcome, milliseconds), for the cashier and for support. What the window logged, read by the ledger
(`message_log`): never a request body, so never a PIN; ID numbers in the centre's text masked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label

from terminal.ui.messages import WorkFailed
from terminal.ui.screens.base import CashierScreen, ErrorLine, tcss
from terminal.ui.widgets.fit_table import Col, FitTable
from terminal.ui.workers import run_service

LIMIT = 50


@dataclass
class MessagesLoaded(Message):
    """The last messages, newest first (`terminal.services.message_log.LoggedMessage`)."""

    rows: list[Any] = field(default_factory=list)


def _short(name: str) -> str:
    """A transaction's name without its "(project-defined)" note (the detail line keeps it)."""
    return re.sub(r"\s*[(（][^()（）]*[)）]$", "", name)


class CentreLogScreen(CashierScreen):
    """^L from the waiting screen, the help, or anywhere; F5 reads the log again; Esc closes."""

    CSS_PATH = tcss(__file__)
    BINDINGS = [
        Binding("escape", "close", "back", key_display="Esc"),
        Binding("f5", "load", "refresh", key_display="F5"),
    ]
    LABELS = {"close": "key.back", "load": "key.refresh"}

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    def compose(self) -> ComposeResult:
        t = self.t
        yield from self.compose_frame_top()
        with Vertical(id="centre-log"):
            yield Label(t("log.heading", n=LIMIT, window=self.app.cfg.terminal.window), id="log-title")
            yield FitTable([Col(t("log.col_time"), 8), Col(t("log.col_infno"), 4), Col(t("log.col_name"), 6, flex=4),
                            Col(t("log.col_msgid"), 12, flex=4, cut_left=True), Col(t("log.col_result"), 6, flex=2),
                            Col(t("log.col_ms"), 6, right=True)], id="log", zebra_stripes=True)
            yield Label(t("log.none"), id="log-none")
            yield Label("", id="log-detail", markup=False)
            yield ErrorLine(id="error")
        yield from self.compose_frame_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#log").focus()
        self.query_one("#log-none").display = False
        self.load()

    def action_load(self) -> None:
        self.load()

    def load(self) -> None:
        from terminal.ui import window_ops
        cfg = self.app.cfg
        run_service(self, "centre-log", lambda: window_ops.message_log(cfg, LIMIT), MessagesLoaded)

    def result_text(self, row: Any) -> str:
        t = self.t
        text = t(f"log.{row.outcome}") if t.has(f"log.{row.outcome}") else row.outcome
        if row.outcome == "refused":
            return f"{text} {row.infcode} {row.err_code}".strip()
        return text if row.infcode is None else f"{text} {row.infcode}"

    def on_messages_loaded(self, message: MessagesLoaded) -> None:
        self.rows = list(message.rows)
        name = "name_zh" if self.lang == "zh" else "name_en"
        table = self.query_one("#log", FitTable)
        table.show([([r.at[11:19], r.infno, _short(getattr(r, name)) or r.infno, r.msgid, self.result_text(r),
                      "" if r.ms is None else f"{r.ms:.0f}"], str(i)) for i, r in enumerate(self.rows)])
        table.display = bool(self.rows)
        self.query_one("#log-none").display = not self.rows
        self.show_detail(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(event.cursor_row)

    def show_detail(self, index: int) -> None:
        """The chosen message in full (a narrow window cuts the msgid in the table): for support."""
        label = self.query_one("#log-detail", Label)
        if not 0 <= index < len(self.rows):
            label.update("")
            return
        r = self.rows[index]
        name = r.name_zh if self.lang == "zh" else r.name_en
        said = " · ".join(x for x in (r.err_code if r.outcome != "refused" else "", r.err_msg) if x)
        label.update(f"{r.at} · {r.infno} {name} · msgid {r.msgid} · {self.result_text(r)}"
                     + (f" · {self.credential_text(r)}" if r.cert_type else "") + (f" · {said}" if said else ""))

    def credential_text(self, row: Any) -> str:
        """The credential the message carried: its type by name and its number, masked."""
        from centre.interface.codes import MdtrtCertType
        try:
            kind = MdtrtCertType(row.cert_type)
            name = kind.zh if self.lang == "zh" else kind.en
        except ValueError:
            name = ""
        return f"{self.t('log.credential')} {row.cert_type} {name} {row.cert_no}".replace("  ", " ").strip()

    def on_work_failed(self, message: WorkFailed) -> None:
        self.query_one("#error", ErrorLine).show(message.message)
