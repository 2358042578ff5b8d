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

    def __init__(self, binding: Binding, label: str) -> None:
        key = binding.key_display or binding.key.upper()
        text = f"[b $accent]{key} [/]{label}"
        super().__init__(text, markup=True)
        self.binding = binding
        self.styles.width = cell_len(key) + 1 + cell_len(label) + 1

    async def on_click(self) -> None:
        await self.screen.run_action(self.binding.action)


class KeyBar(Horizontal):
    """Every shown binding the screen has active (Textual's `active_bindings`: the ones its `check_action`
    allows), in declaration order, labelled by the screen."""

    DEFAULT_CSS = """
    KeyBar { height: 1; background: $footer-background; padding: 0 1; }
    KeyBar KeyCap { margin-right: 1; }
    """

    def compose(self) -> ComposeResult:
        from terminal.ui.screens.base import CashierScreen
        screen = self.screen
        window_wide = {b.action for b in CashierScreen.BINDINGS if isinstance(b, Binding)}
        shown: list[Binding] = []
        for active in screen.active_bindings.values():
            binding = active.binding
            if active.node is screen and binding.show and binding.action not in {s.action for s in shown}:
                shown.append(binding)
        # this screen's own keys first, then the ones that work anywhere
        for binding in sorted(shown, key=lambda b: b.action in window_wide):
            label = screen.key_label(binding) if isinstance(screen, CashierScreen) else binding.description
            yield KeyCap(binding, label)
