"""A table whose columns fit the window: money and status columns keep their width, names give way.

`FitTable(cols)` with `Col(header, width, flex=0, right=False, cut_left=False)`: a column with flex 0 never
shrinks and grows to its longest cell (amounts, states, counts are never cut); the room left is shared by
the flexible ones (names, relations, ids) in proportion to `flex`, never below their `width`, and their
text is cut with "…" (by terminal cells: CJK counts two; `cut_left`: the end is kept, for ids).
`show(rows)` takes the rows as plain text (one list of cells and a key per row) and draws them again
whenever the table is resized, so 80 columns and 200 columns both show every amount in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.coordinate import Coordinate
from textual.events import Resize
from textual.widgets import DataTable

from terminal.ui.widgets.fields import fit

GAP = 1   # one blank cell before every column (instead of DataTable's padding of one on each side)


@dataclass(frozen=True)
class Col:
    header: str
    width: int            # the width of a fixed column, or the least a flexible one gets
    flex: int = 0         # 0: fixed (money, state); >0: share of the room left
    right: bool = False   # right-aligned (money), so the decimal points line up
    cut_left: bool = False  # a long text loses its beginning (an id whose end tells it apart)


def widths(cols: Sequence[Col], room: int, longest: Sequence[int] = ()) -> list[int]:
    """Cells per column (without the gap) for a table `room` cells wide; `longest`: each column's longest
    cell, which a fixed column grows to."""
    out = [max(c.width, longest[i] if i < len(longest) and not c.flex else 0) for i, c in enumerate(cols)]
    flexible = [i for i, c in enumerate(cols) if c.flex]
    spare = room - sum(out) - GAP * len(cols)
    if spare <= 0 or not flexible:
        return out
    total = sum(cols[i].flex for i in flexible)
    given = 0
    for n, i in enumerate(flexible):
        share = spare - given if n == len(flexible) - 1 else spare * cols[i].flex // total
        out[i] += share
        given += share
    return out


def cut_left(text: str, width: int) -> str:
    """`text` to `width` cells, its beginning replaced by … when longer."""
    if cell_len(text) <= width:
        return text
    while text and cell_len(text) > width - 1:
        text = text[1:]
    return "…" + text


def cell(text: str, width: int, right: bool = False, left_cut: bool = False) -> str:
    """`text` in a column of `width` cells after the gap: cut with … when longer, aligned."""
    text = cut_left(text, width) if left_cut else fit(text, width)
    pad = " " * (width - cell_len(text))
    return " " * GAP + (pad + text if right else text + pad)


class FitTable(DataTable):
    """A DataTable laid out by `Col`s; rows given with `show` are redrawn to fit on every resize."""

    DEFAULT_CSS = """
    FitTable { scrollbar-size-vertical: 1; }
    """

    def __init__(self, cols: Sequence[Col], **kwargs) -> None:
        kwargs.setdefault("cursor_type", "row")
        super().__init__(cell_padding=0, **kwargs)
        self.cols = list(cols)
        self._rows: list[tuple[list[str], str | None]] = []
        self._room = 0

    def room(self) -> int:
        """Cells a row may use: the table's width, less the vertical scrollbar's."""
        return max(0, self.size.width - 1)

    def show(self, rows: Sequence[tuple[Sequence[str], str | None]]) -> None:
        """Draw these rows (cells as plain text, and a row key or None), keeping the chosen row."""
        self._rows = [(list(cells), key) for cells, key in rows]
        self._draw()

    def _draw(self) -> None:
        cursor = self.cursor_row
        self._room = self.room()
        sizes = self._sizes()
        self.clear(columns=True)
        for col, width in zip(self.cols, sizes):
            self.add_column(Text(cell(col.header, width, col.right)), width=width + GAP)
        for cells, key in self._rows:
            self.add_row(*(cell(text, width, col.right, col.cut_left)
                           for text, width, col in zip(cells, sizes, self.cols)), key=key)
        if self._rows and cursor is not None and 0 <= cursor < len(self._rows):
            self.move_cursor(row=cursor)

    def update_text(self, row: int, column: int, text: str) -> None:
        """Change one cell (an amount arriving later) and keep it for the next redraw."""
        if not 0 <= row < len(self._rows):
            return
        self._rows[row][0][column] = text
        sizes = self._sizes()
        if sizes[column] != self.ordered_columns[column].width - GAP:
            self._draw()   # an amount wider than its column: the columns are laid out again
            return
        col = self.cols[column]
        self.update_cell_at(Coordinate(row, column), cell(text, sizes[column], col.right, col.cut_left))

    def _sizes(self) -> list[int]:
        longest = [max((cell_len(cells[i]) for cells, _key in self._rows), default=0) for i in range(len(self.cols))]
        return widths(self.cols, self._room, longest)

    def on_resize(self, event: Resize) -> None:
        if self.room() != self._room:
            self._draw()
