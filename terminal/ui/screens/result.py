"""The settlement done: the amounts, the slip (结算单) as the service wrote it, where it was saved,
and F7 to print it to a file. F10 (or taking the card) goes back to waiting for the next patient."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Static

from terminal.services.results import SettlementResult
from terminal.services.slip import folded
from terminal.ui.screens.base import CardScreen, ErrorLine, tcss
from terminal.ui.widgets.money import yuan
from terminal.ui.widgets.split import SplitPanel


class ResultScreen(CardScreen):
    """The receipt screen."""

    CSS_PATH = tcss(__file__)
    FINISHED = True
    BINDINGS = [
        Binding("f7", "print", "print", key_display="F7"),
        Binding("f10", "next", "next", key_display="F10"),
        Binding("escape", "next", "back", key_display="Esc", show=False),
    ]
    LABELS = {"print": "key.print", "next": "key.new"}

    def __init__(self, card, result: SettlementResult, slip_text: str, slip_path: str) -> None:
        super().__init__()
        self.card = card
        self.result = result
        self.slip_text = slip_text
        self.slip_path = slip_path

    def compose(self) -> ComposeResult:
        t = self.t
        yield from self.compose_frame_top()
        with Horizontal(id="result"):
            with Vertical(id="left"):
                yield Static(f"✔ {t('res.title')}" + (f" · {t('pay.self_pay')}" if self.self_pay else ""), id="done")
                yield Label(f"{t('res.setl_id')}: {self.result.setl_id}", id="setl-id")
                yield SplitPanel(id="split")
                with Horizontal(id="cash-due"):
                    yield Label(t("pay.cash_due"), id="cash-label")
                    yield Label(yuan(self.result.split.psn_cash_pay), id="cash-value")
                yield Static(f"{t('res.saved')}:\n{self.shown_path(self.slip_path)}" if self.slip_path else "",
                             id="saved", markup=False)
                yield ErrorLine(id="error")
                yield Label(t("res.next"), id="next-hint")
            with VerticalScroll(id="slip-box"):
                yield Static(folded(self.slip_text), id="slip", markup=False)   # a long note wraps
        yield from self.compose_frame_bottom()

    @property
    def self_pay(self) -> bool:
        """Charged as full self-pay: the whole total in cash, out of scope, no account."""
        split = self.result.split
        total = split.medfee_sumamt
        return total > 0 and not split.acct_used and split.psn_cash_pay == split.fulamt_ownpay_amt == total

    def on_mount(self) -> None:
        super().on_mount()
        split = self.query_one("#split", SplitPanel)
        split.border_title = self.t("res.amounts")
        split.show(self.result.split)
        self.query_one("#slip-box").border_title = self.t("res.slip")
        warning = self.result.slip_warning
        if warning is not None:     # settled all the same: only the saved copy of the slip is missing
            self.query_one("#error", ErrorLine).show(warning.localized(self.lang))

    def print_path(self) -> Path:
        cfg = self.app.cfg
        return cfg.slips_dir / "print" / f"{self.result.setl_id or 'slip'}.txt"

    def action_print(self) -> None:
        path = self.print_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.slip_text, encoding="utf-8")
        except OSError as exc:
            self.query_one("#error", ErrorLine).show(str(exc))
            return
        self.query_one("#error", ErrorLine).show(self.t("res.printed", path=self.shown_path(path)), ok=True)

    def shown_path(self, path: str | Path) -> str:
        """A path as the cashier reads it: relative to the configuration's folder when inside it, on its own
        line (the pane is narrow; a long absolute path would wrap in the middle of a name)."""
        path = Path(path)
        base = getattr(self.app.cfg, "base_dir", None)
        if base is not None:
            try:
                return str(path.resolve().relative_to(Path(base).resolve()))
            except ValueError:
                pass
        return str(path)

    def action_next(self) -> None:
        self.app.back_to_waiting()
