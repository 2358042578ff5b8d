"""The window's header: the title, and on the right the centre's state and the signed-in operator.

Keys typed faster than a screen is drawn (a scanner) can open a screen and close it again before the
header's title watchers have run; Textual's Header then looks for its title in a header already taken
apart and fails (NoMatches). A header no longer on any screen, or whose title is already taken apart, has
nothing to draw: it is skipped.

The centre's state (connected / slow / down) is polled from the ledger's client
(`terminal.services.ledger.status_of`: memory only, nothing is sent) twice a second and redrawn when it changes.
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.widgets import Header, Static
from textual.widgets._header import HeaderIcon, HeaderTitle

POLL_S = 0.5


class _Nothing:
    def update(self, *_args: object) -> None:
        """A title for a header that is gone: nothing to draw."""


class CentreBadge(Static):
    """● the centre's state · the operator signed in to it."""

    DEFAULT_CSS = """
    CentreBadge { dock: right; width: auto; max-width: 40; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    CentreBadge.-connected { color: $text-success; }
    CentreBadge.-slow { color: $text-warning; text-style: bold; }
    CentreBadge.-down { color: $text-error; text-style: bold; }
    CentreBadge.-unknown { color: $text-muted; }
    """
    STATES = ("connected", "slow", "down", "unknown")

    def __init__(self) -> None:
        super().__init__("", markup=False, id="centre-state")
        self._shown: tuple[object, ...] | None = None

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(POLL_S, self.poll)

    def poll(self) -> None:
        from terminal.services.ledger import status_of
        from terminal.ui.app import CashierApp
        app = self.app
        if not isinstance(app, CashierApp):
            return
        status = status_of(app.cfg)
        ms = round(status.last_ms) if status.state == "slow" and status.last_ms is not None else None
        key = (status.state, status.operator, ms, app.lang)
        if key == self._shown:
            return
        self._shown = key
        t = app.t
        name = "slow_no_ms" if status.state == "slow" and ms is None else status.state
        state = t(f"hdr.{name}", ms=ms) if status.state in self.STATES else status.state
        who = status.operator or t("hdr.not_signed")
        self.update(f"● {state} · {who}")
        for name in self.STATES:
            self.set_class(name == status.state, f"-{name}")


class WindowHeader(Header):
    def compose(self):
        yield HeaderIcon().data_bind(Header.icon)
        yield CentreBadge()
        yield HeaderTitle()

    def query_one(self, selector, expect_type=None):
        if not self.is_attached:
            return _Nothing()   # taken apart: the title (or anything) asked for has nowhere to be drawn
        try:
            return super().query_one(selector, expect_type)
        except NoMatches:
            if selector is not HeaderTitle:
                raise
            return _Nothing()   # its parts taken apart before it: the title has nowhere to be drawn
