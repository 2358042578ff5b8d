"""A panel of label: value lines drawn as one widget (a Rich grid), so a screen full of details
mounts fast (each Textual widget costs a style pass)."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.table import Table
from rich.text import Text
from textual.widgets import Static


class FieldPanel(Static):
    """`FieldPanel([(label, value, alert), ...])`: an alert value is drawn bold in the error colour."""

    DEFAULT_CSS = """
    FieldPanel { height: auto; border: round $primary; padding: 0 1; width: 1fr; }
    """

    def __init__(self, rows: list[tuple[str, str, bool]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows = rows

    def render(self) -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        for label, value, alert in self.rows:
            grid.add_row(label, Text(value or "—", style="bold red" if alert else ""))
        return grid


def fit(text: str, width: int) -> str:
    """`text` cut to `width` terminal cells with an ellipsis when it is longer (CJK counts two cells)."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip() + "…"
