"""The tests' headless windows compose their screen when a test looks (headless_paint.py): a widget that cannot
draw must still fail the test, whether the test settles through ui_pilot or only closes its window."""

from __future__ import annotations

import pytest
from headless_paint import paint
from textual.app import App, ComposeResult
from textual.widgets import Static


class Drawing(Static):
    """A widget of fixed size: its layout never asks it to draw (an auto height would), only the screen's paint."""

    DEFAULT_CSS = "Drawing { width: 20; height: 1; }"
    broken = False

    def render(self) -> str:
        if self.broken:
            raise RuntimeError("this widget cannot draw")
        return "drawn"


class OneWidget(App[None]):
    def compose(self) -> ComposeResult:
        yield Drawing()


@pytest.mark.parametrize("looks", [True, False], ids=["settles", "only-closes"])
async def test_a_widget_that_cannot_draw_still_fails_the_test(looks: bool):
    app = OneWidget()
    with pytest.raises(RuntimeError, match="cannot draw"):
        async with app.run_test() as pilot:
            widget = app.query_one(Drawing)
            widget.broken = True
            widget.refresh()
            await pilot.pause()
            if looks:
                paint(app)
                raise AssertionError("painting the screen did not draw the widget")
