"""Keys that arrive faster than the window handles them (a barcode scanner typing, a paste into the
terminal, a fast typist) are handled one after the other, each where the one before it left the focus.

Textual hands a key to the focused widget's queue and goes on with the next key at once; a Tab, an Enter
or an F-key takes effect only when it has come back up to the app, after every key that arrived with it
was already handed to the old widget: "X001<Tab>amox" typed in one go landed all in the first box. Here
the cashier app queues the keys and gives each to Textual only when the one before has settled: every
widget it went through, the screen and the app have handled what it caused (a new focus, a new screen).
No key is dropped; a step that does not settle within `SETTLE_S` lets the next key go (never a freeze).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Awaitable, Callable

from textual import events
from textual.message_pump import MessagePump

SETTLE_S = 0.5   # the longest one key may hold back the next
PASSES = 4       # settle rounds per key (a key may open a screen that focuses a field)


async def _drained(pump: MessagePump | None, deadline: float, after_refresh: bool = False) -> None:
    """Wait until `pump` has handled every message it had when asked (a callback queued behind them); with
    `after_refresh`, until it has also been drawn once (a new screen: every widget on it mounted and set up)."""
    if pump is None or not pump.is_running or getattr(pump, "_closing", False):
        return
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    if after_refresh:
        pump.call_after_refresh(done.set)
    elif not pump.call_later(done.set):
        return
    try:
        await asyncio.wait_for(done.wait(), max(0.0, deadline - loop.time()))
    except TimeoutError:
        pass


class KeyQueue:
    """The app's keys, handed on one at a time. `handle(key)` is the app's own handling of a key."""

    def __init__(self, app, handle: Callable[[events.Key], Awaitable[None]]) -> None:
        self.app = app
        self.handle = handle
        self.keys: deque[events.Key] = deque()
        self.task: asyncio.Task | None = None

    def busy(self) -> bool:
        """A key waits here or is being handed on."""
        return bool(self.keys) or (self.task is not None and not self.task.done())

    def put(self, key: events.Key) -> None:
        self.keys.append(key)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._feed())

    async def _feed(self) -> None:
        while self.keys:
            key = self.keys.popleft()
            screen = self.app.screen
            await self.handle(key)
            await self.settled(screen)

    async def settled(self, screen_before=None) -> None:
        """Every pump a key may have gone through has handled it, and what it set off has started; a screen
        it opened has been drawn (a screen closed the moment it opened would leave its widgets half set up)."""
        app = self.app
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_S
        try:
            await self._passes(app, loop, deadline)
        finally:
            if screen_before is not None and app.screen is not screen_before:
                await _drained(app, deadline, after_refresh=True)

    async def _passes(self, app, loop, deadline: float) -> None:
        for _ in range(PASSES):
            before = (app.screen, app.focused)
            node = app.focused
            while node is not None and node is not app:      # the focused widget up to the screen
                await _drained(node, deadline)
                node = node.parent
            await _drained(app.screen, deadline)
            await _drained(app, deadline)                     # a key that came back up: bindings, actions
            if (app.screen, app.focused) == before or loop.time() >= deadline:
                return
