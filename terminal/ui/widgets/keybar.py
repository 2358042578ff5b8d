"""The key bar at the bottom of every cashier screen: the screen's keys with their labels, clickable.

(Textual's Footer miscounts the width of Chinese labels and cuts them; this bar lays out whole cells.)
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static


class KeyCap(Static):
    """One key: a click does what the key does."""

    DEFAULT_CSS = """
    KeyCap { width: auto; height: 1; padding: 0 1 0 0; }
    KeyCap:hover { background: $accent 40%; }
    """

    def __init__(self, binding: Binding) -> None:
        key = binding.key_display or binding.key.upper()
        text = f"[b $accent]{key} [/]{binding.description}"
        super().__init__(text, markup=True)
        self.binding = binding
        self.styles.width = cell_len(key) + 1 + cell_len(binding.description) + 1

    async def on_click(self) -> None:
        await self.screen.run_action(self.binding.action)


class KeyBar(Horizontal):
    """Every shown binding of the screen, in declaration order."""

    DEFAULT_CSS = """
    KeyBar { height: 1; background: $footer-background; padding: 0 1; }
    KeyBar KeyCap { margin-right: 1; }
    """

    def compose(self) -> ComposeResult:
        from terminal.ui.screens.base import CashierScreen
        window_wide = {b.action for b in CashierScreen.BINDINGS}
        shown: list[Binding] = []
        for bindings in self.screen._bindings.key_to_bindings.values():
            shown += [b for b in bindings if b.show and b.action not in {s.action for s in shown}]
        # this screen's own keys first, then the ones that work anywhere
        for binding in sorted(shown, key=lambda b: b.action in window_wide):
            yield KeyCap(binding)
