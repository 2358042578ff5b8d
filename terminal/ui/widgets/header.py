"""The window's header: Textual's Header, safe when its screen closes the moment it opened.

Keys typed faster than a screen is drawn (a scanner) can open a screen and close it again before the
header's title watchers have run; Textual's Header then looks for its title in a header already taken
apart and fails (NoMatches). A header no longer on any screen has nothing to draw: it is skipped.
"""

from __future__ import annotations

from textual.widgets import Header


class _Nothing:
    def update(self, *_args: object) -> None:
        """A title for a header that is gone: nothing to draw."""


class WindowHeader(Header):
    def query_one(self, selector, expect_type=None):
        if not self.is_attached:
            return _Nothing()   # taken apart: the title (or anything) asked for has nowhere to be drawn
        return super().query_one(selector, expect_type)
