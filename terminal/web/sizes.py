"""The terminal size a browser may ask for: clamped, so a websocket cannot make its app draw a 20000×20000 screen.

The page measures its window and sends the size in cells (`/ws?width=W&height=H`, then `["resize", {...}]`).
Textual keeps a screen buffer of width × height cells per frame: an unbounded size lets one client grow its app
process by gigabytes. 500 × 200 cells is more than a 4K screen shows at the smallest readable font; 20 × 10
is less than any layout here can use, but still a screen.
"""

from __future__ import annotations

from typing import Any

MIN_COLS, MAX_COLS = 20, 500
MIN_ROWS, MAX_ROWS = 10, 200
DEFAULT_COLS, DEFAULT_ROWS = 80, 24   # textual-serve's own default, for a query without a size


def whole_number(value: Any) -> int | None:
    """An integer from a query string or a JSON number; None for anything else (text, bool, NaN, 1.5, null)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and 0 < len(value) <= 12 and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return None


def clamp(width: int, height: int) -> tuple[int, int]:
    """width and height inside MIN..MAX columns and rows."""
    return min(max(width, MIN_COLS), MAX_COLS), min(max(height, MIN_ROWS), MAX_ROWS)


def size_from_query(query: Any) -> tuple[int, int]:
    """The first size of a websocket (`?width=&height=`), clamped; a missing or non-numeric value is the default."""
    width = whole_number(query.get("width", DEFAULT_COLS))
    height = whole_number(query.get("height", DEFAULT_ROWS))
    return clamp(DEFAULT_COLS if width is None else width, DEFAULT_ROWS if height is None else height)


def size_from_message(data: Any) -> tuple[int, int] | None:
    """A `resize` message's size, clamped; None when it is no {"width": n, "height": n} (the message is dropped)."""
    if not isinstance(data, dict):
        return None
    width, height = whole_number(data.get("width")), whole_number(data.get("height"))
    if width is None or height is None:
        return None
    return clamp(width, height)
