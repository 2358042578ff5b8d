""""This kiosk is in use": what a second browser tab shows while another tab holds the reader.

It checks the lock every second; when the first tab closes (or its process dies) this app
ends, and the kiosk page reloads itself into a fresh app that takes the reader.
"""

from __future__ import annotations

from typing import Callable

from textual.app import App, ComposeResult
from textual.containers import Center, Middle
from textual.widgets import Static

from terminal.ui.kiosk.texts import t


class InUseApp(App[str]):
    """A one-screen app with no keys but its own; ends with "free" once try_lock() succeeds."""

    CSS = """
    Screen { background: $surface; align: center middle; }
    #in-use-box { width: 70; height: auto; border: heavy $warning; padding: 2 4; background: $panel; }
    #in-use-title { text-style: bold; color: $warning; content-align: center middle; width: 100%; }
    #in-use-hint { content-align: center middle; width: 100%; margin-top: 1; text-align: center; }
    """
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = []

    def __init__(self, try_lock: Callable[[], bool], lang: str = "zh", poll_s: float = 1.0) -> None:
        super().__init__()
        self.try_lock = try_lock
        self.lang = lang
        self.poll_s = poll_s
        self.title = t("title", lang)

    def compose(self) -> ComposeResult:
        with Middle(), Center(id="in-use-box"):
            yield Static(t("in_use", self.lang), id="in-use-title")
            yield Static(t("in_use_hint", self.lang), id="in-use-hint")

    def on_mount(self) -> None:
        self.set_interval(self.poll_s, self._poll)

    def _poll(self) -> None:
        if self.try_lock():
            self.exit("free")
