"""A deadline for each request's bytes: a client that opens a connection and sends part of a request (part of
its headers, or a body shorter than its Content-Length) is cut off, instead of holding a connection and a file
descriptor for as long as it likes (uvicorn, as it is, waits for ever).

The deadline runs from a request's first byte (from the connection, for its first request) until its answer is
sent. When it passes while the centre is answering a request that has arrived whole, the connection is left
alone: the centre's own time is not the client's fault. `cashier centre serve --request-timeout S` sets it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_SECONDS = 30.0


class DeadlineH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request to arrive."""

    seconds: float = DEFAULT_SECONDS   # set per process by `centre.serve`, before the server starts
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None:   # the first byte of the next request on a kept-alive connection
            self._arm()
        super().data_received(data)

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        cycle = self.cycle
        if cycle is not None and not cycle.more_body and not cycle.response_complete:
            return   # the whole request is in and the centre is answering it
        if not self.transport.is_closing():
            self.transport.close()
