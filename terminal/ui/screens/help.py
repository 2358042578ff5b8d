"""Every key of every screen, read from the screens' own bindings so the list cannot go stale; and what happens
to a bill not charged when the card is pulled or the cashier leaves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Label

from terminal.ui.screens.base import CENTRE_LOG_KEY, CashierScreen, tcss
from terminal.ui.widgets.fit_table import Col, FitTable


def _screens() -> list[tuple[str, type[CashierScreen]]]:
    from terminal.ui.screens.bill import BillScreen
    from terminal.ui.screens.bindings import BindingsScreen
    from terminal.ui.screens.centre_log import CentreLogScreen
    from terminal.ui.screens.dayend import DayEndScreen
    from terminal.ui.screens.patient import PatientScreen
    from terminal.ui.screens.payment import PaymentScreen
    from terminal.ui.screens.result import ResultScreen
    from terminal.ui.screens.today import TodayScreen
    from terminal.ui.screens.waiting import WaitingScreen
    return [("wait.name", WaitingScreen), ("pat.title", PatientScreen), ("bill.title", BillScreen),
            ("pay.title", PaymentScreen), ("res.title", ResultScreen), ("bind.title", BindingsScreen),
            ("today.title", TodayScreen), ("rec.title", DayEndScreen), ("log.title", CentreLogScreen)]


#: a binding said more fully in the help than in the key bar: action -> i18n key
HELP_LABELS = {"id_card": "help.k_id_card"}

#: keys that are not bindings of a screen (typing and the widgets' own keys)
EXTRA = {
    "wait.name": [("help.scan_key", "help.k_scan"), ("1-9", "help.k_insert")],
    "bill.title": [("Enter", "help.k_add"), ("Tab", "help.k_next_field"), ("help.pull", "help.k_pull")],
    "pay.title": [("Enter", "key.confirm")],
    "today.title": [("Enter", "key.reverse")],
    "bind.title": [("Enter", "key.add")],
}


class HelpScreen(CashierScreen):
    """F1 anywhere; Esc closes."""

    CSS_PATH = tcss(__file__)
    BINDINGS = [Binding("escape", "close", "back", key_display="Esc"), CENTRE_LOG_KEY]
    LABELS = {"close": "key.back"}

    def compose(self) -> ComposeResult:
        yield from self.compose_frame_top()
        with VerticalScroll(id="help"):
            yield Label(self.t("help.title"), id="help-title")
            yield FitTable([Col(self.t("help.where"), 8, flex=1), Col(self.t("help.key"), 6),
                            Col(self.t("help.does"), 20, flex=4)], id="keys", zebra_stripes=True)
            yield Label(self.t("help.close"), id="help-close")
        yield from self.compose_frame_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        t = self.t
        rows: list = []
        labels = {**CashierScreen._BASE_LABELS, "app.quit": "help.k_quit", "centre_log": "help.k_centre_log"}
        first = True
        for b in _declared(CashierScreen):
            if b.action.startswith("tray") and not self.app.demo:
                continue
            rows.append([t("help.global") if first else "", b.key_display or b.key, t(labels.get(b.action, b.action))])
            first = False
        rows.append(["", t("help.mouse"), t("help.mouse_does")])
        for title, screen in _screens():
            own = {**CashierScreen._BASE_LABELS, **screen.LABELS, **HELP_LABELS}
            first = True
            seen = {b.key for b in _declared(CashierScreen)}
            for b in _own_bindings(screen):
                if b.key in seen or (b.action.startswith("insert") and not self.app.demo):
                    continue
                seen.add(b.key)
                if b.action.startswith(("insert", "pin_digit")) or b.action == "pick_row(1)":
                    continue  # shown once as 1-9 below; ↓ is shown with ↑ ("↑↓"); digits are the PIN's
                rows.append([t(title) if first else "", b.key_display or b.key, t(own.get(b.action, b.action))])
                first = False
            for key, what in EXTRA.get(title, []):
                if key == "1-9" and not self.app.demo:
                    continue
                rows.append([t(title) if first else "", t(key) if t.has(key) else key, t(what)])
                first = False
        table = self.query_one("#keys", FitTable)
        table.show([(row, None) for row in rows])
        table.focus()



def _declared(cls: type) -> list[Binding]:
    """The bindings written in one class's BINDINGS (not its bases')."""
    return [b for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding)]


def _own_bindings(screen: type[CashierScreen]) -> list[Binding]:
    """A screen's bindings above the window-wide ones (its class and its bases up to CashierScreen)."""
    out: list[Binding] = []
    for cls in screen.__mro__:
        if cls is CashierScreen:
            break
        out.extend(_declared(cls))
    return out
