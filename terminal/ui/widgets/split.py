"""The pre-settlement split (the national field names) as a two-column panel: what the fund, the accounts and
cash pay. Used by the bill, the payment and the result screens."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Callable

from textual import getters
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Label

from terminal.services.views import Split
from terminal.ui.app import CashierApp
from terminal.ui.screens.base import CardScreen
from terminal.ui.widgets.money import yuan

if TYPE_CHECKING:
    from terminal.ui.messages import PreSettled, WorkFailed

#: rows of the panel: (field, i18n key, emphasised)
ROWS = (
    ("medfee_sumamt", "f.medfee_sumamt", True),
    ("fulamt_ownpay_amt", "f.fulamt_ownpay_amt", False),
    ("preselfpay_amt", "f.preselfpay_amt", False),
    ("inscp_scp_amt", "f.inscp_scp_amt", False),
    ("act_pay_dedc", "f.deductible", False),
    ("fund_pay_sumamt", "f.fund_pay_sumamt", True),
    ("psn_part_amt", "f.psn_part_amt", True),
    ("acct_pay", "f.acct_pay", True),
    ("own_acct_pay", "f.own_pay", False),
    ("acct_mulaid_pay", "f.acct_mulaid_pay", False),
    ("psn_cash_pay", "f.psn_cash_pay", True),
    ("balc", "f.balc", False),
)
#: rows shown only when the answer has them (through the centre): (field, i18n key, after this row)
OPTIONAL_ROWS = (("wallet_pay", "f.wallet_pay", "own_acct_pay"),)


def amount(split: Split | None, name: str) -> int | None:
    """One row's amount (a field of `Split` named in ROWS or OPTIONAL_ROWS); None before any answer."""
    return None if split is None else getattr(split, name)


class SplitPanel(Grid):
    """Who pays what, updated whenever the bill or the chosen accounts change. In a narrow panel (80-column
    window) the labels are the short ones and the amounts column narrower; every amount stays whole."""

    DEFAULT_CSS = """
    SplitPanel { grid-size: 2; grid-columns: 1fr 16; height: auto; border: round $primary; padding: 0 1; }
    SplitPanel.narrow { grid-columns: 1fr 13; }
    SplitPanel > .k { color: $text-muted; }
    SplitPanel > .k.strong { color: $text; text-style: bold; }
    SplitPanel > .v { text-align: right; width: 100%; }
    SplitPanel > .v.strong { text-style: bold; }
    SplitPanel > .optional { display: none; }
    SplitPanel > #v-psn_cash_pay { color: $text-warning; }
    SplitPanel > #v-fund_pay_sumamt { color: $text-success; }
    """
    app = getters.app(CashierApp)
    NARROW = 40   # below this many columns: short labels

    def compose(self) -> ComposeResult:
        for name, key, strong in ROWS:
            yield Label(self._label(key, False), id=f"k-{name}", classes="k strong" if strong else "k")
            yield Label("—", id=f"v-{name}", classes="v strong" if strong else "v")
            for extra, extra_key, after in OPTIONAL_ROWS:
                if after == name:   # hidden until an answer carries it
                    yield Label(self._label(extra_key, False), id=f"k-{extra}", classes="k optional")
                    yield Label("—", id=f"v-{extra}", classes="v optional")

    def _label(self, key: str, narrow: bool) -> str:
        t = self.app.t
        return t(f"{key}.short") if narrow and t.has(f"{key}.short") else t(key)

    def on_resize(self) -> None:
        narrow = 0 < self.size.width + 4 < self.NARROW   # size is inside the border and padding
        if narrow == self.has_class("narrow"):
            return
        self.set_class(narrow, "narrow")
        for name, key, _strong in ROWS:
            self.query_one(f"#k-{name}", Label).update(self._label(key, narrow))
        for name, key, _after in OPTIONAL_ROWS:
            self.query_one(f"#k-{name}", Label).update(self._label(key, narrow))

    _result: Split | None = None

    def show(self, result: Split | None) -> None:
        self._result = result
        self._draw()

    def on_mount(self) -> None:
        self._draw()   # a screen may show a result before this panel's rows are there (a fast switch)

    def _draw(self) -> None:
        values = {label.id: label for label in self.query(".v").results(Label)}
        for name, _key, _strong in ROWS:
            label = values.get(f"v-{name}")
            if label is not None:
                label.update(yuan(amount(self._result, name)))
        for name, _key, _after in OPTIONAL_ROWS:
            value = amount(self._result, name)   # the split has the wallet's part, before and after
            for part in self.query(f"#k-{name}, #v-{name}").results(Label):
                part.display = bool(value)
            if value:
                values[f"v-{name}"].update(yuan(value))


class SplitPreview(CardScreen):
    """For screens that show the split of what is on screen (a `SplitPanel#split`): ask the settlement
    service on a worker; only the answer to the newest question is shown."""

    preview: Split | None = None
    _token: int = 0

    def ask_split(self, call: Callable[[], Split]) -> None:
        from terminal.ui.messages import PreSettled
        from terminal.ui.workers import run_service
        self._token = token = next(_TOKENS)
        run_service(self, "presettle", call, lambda result: PreSettled(result, token), token=token)

    def drop_split(self, message: WorkFailed) -> bool:
        """The split was refused (an item the centre has not catalogued, the centre out of reach): no split
        stands for what is on screen, so none is shown beside the refusal. False when the refusal answers an
        older question than the newest (it is dropped, as an older answer is)."""
        if message.token != self._token:
            return False
        self.preview = None
        self.query_one("#split", SplitPanel).show(None)
        return True

    def take_split(self, message: PreSettled) -> bool:
        """Show a PreSettled answer; False when a newer question is pending (the answer is dropped)."""
        if message.token != self._token:
            return False
        self.preview = message.result
        self.query_one("#split", SplitPanel).show(message.result)
        return True


_TOKENS = itertools.count(1)
