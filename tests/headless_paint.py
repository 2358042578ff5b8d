"""The tests' windows paint when a test looks, not at every refresh.

A window under test runs headless: at every refresh (after each key, each worker's answer, each of Pilot's
pauses) Textual still composes the whole top screen into terminal lines, then throws them away, as no terminal is
there to show them: a sixth of a UI test's CPU. Here the top screen's composition is owed instead, and `paint` pays
it: the screen composed as a terminal would get it, every widget drawn, so a widget that cannot draw still fails
the test. ui_pilot's `settle_down` paints (after keys, after the workers: every point a test looks at the screen),
and every window paints its last screen before it closes. Layout is not deferred (the widgets' sizes and places are
worked out at every refresh as before), nor is a covered screen's refresh (it only hands its changed regions to the
top screen). Snapshots compose the screen themselves. A pytest plugin (conftest.py), so every test gets it.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

_compose_now = Screen._compositor_refresh
_run_test = App.run_test
_OWED = "_tests_paint_owed"


def _compositor_refresh(self: Screen) -> None:
    app = self.app
    if app.is_headless and not app.is_inline and self is app.screen:
        setattr(self, _OWED, True)
        return
    _compose_now(self)


def paint(app: App) -> None:
    """Compose the top screen now if a refresh is owed (what the terminal would have been sent)."""
    if app.is_headless and app.is_running and app.screen_stack:
        screen = app.screen
        if getattr(screen, _OWED, False):
            setattr(screen, _OWED, False)
            _compose_now(screen)


@asynccontextmanager
async def _run_test_painted(self: App, *args: Any, **kwargs: Any) -> AsyncIterator[Pilot]:
    """`App.run_test`, and the window's last screen painted before it closes (for a test that never settles)."""
    async with _run_test(self, *args, **kwargs) as pilot:
        yield pilot
        if self.is_running:
            await pilot.pause()
            paint(self)


Screen._compositor_refresh = _compositor_refresh  # type: ignore[method-assign]
App.run_test = _run_test_painted  # type: ignore[assignment, method-assign]
