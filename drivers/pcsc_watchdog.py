"""The watchdog of the PC/SC transport: bounds the calls that wait on the card.

pcscd's own calls return at once, but SCardConnect/SCardTransmit wait for ever on a card
that does not answer (vpcd). Each reader sets a deadline before such a call; on overrun
the watchdog cuts that context's socket to pcscd (Linux: found in /proc/self/fd), so the
blocked call returns with an error. Elsewhere such a call is reported late.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import weakref
from typing import Callable, Protocol


class Watched(Protocol):
    """A reader the watchdog looks after (drivers.pcsc.PcscReader)."""

    _deadline: float | None  # set while a call waits on the card
    _aborted: bool

    def _abort_context(self) -> None: ...


def _open_fds() -> set[tuple[int, str]]:
    """(fd, what it points to) for this process; empty where there is no /proc."""
    found: set[tuple[int, str]] = set()
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return found
    for name in names:
        try:
            found.add((int(name), os.readlink(f"/proc/self/fd/{name}")))
        except (OSError, ValueError):
            pass
    return found


def _pcscd_sockets(fds: set[tuple[int, str]]) -> list[int]:
    """Those of `fds` that are sockets connected to pcscd."""
    result = []
    for fd, target in fds:
        if not target.startswith("socket:"):
            continue
        try:
            with socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM) as dup:
                peer = dup.getpeername()
        except OSError:
            continue
        if isinstance(peer, str) and peer.endswith("pcscd.comm"):
            result.append(fd)
    return result


_ESTABLISH_LOCK = threading.Lock()


def watched_context(establish: Callable[[], int]) -> tuple[int, list[int]]:
    """A new PC/SC context (from `establish`) and the socket(s) pcsc-lite opened for it (one per context)."""
    with _ESTABLISH_LOCK:
        before = _open_fds()
        ctx = establish()
        return ctx, _pcscd_sockets(_open_fds() - before)


def shut_down(fds: list[int]) -> None:
    """Shut down these sockets (the context's connection to pcscd): a call blocked on them returns."""
    for fd in fds:
        try:
            with socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM) as dup:
                dup.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Watchdog:
    """Bounds the calls that wait on the card (connect, transmit, reset) without a thread hop per APDU.

    vpcd waits for ever for a card that does not answer, and so would SCardTransmit. The caller sets
    a deadline before such a call; one watchdog thread for all readers looks ten times a second and,
    when a deadline passed, shuts down that context's socket to pcscd: the blocked call returns at once
    with an error and the reader reports a timeout.
    """

    def __init__(self) -> None:
        self._readers: "weakref.WeakSet[Watched]" = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, reader: "Watched") -> None:
        with self._lock:
            self._readers.add(reader)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pcsc-watchdog", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            with self._lock:
                readers = list(self._readers)
            for reader in readers:
                deadline = reader._deadline
                if deadline is not None and now > deadline and not reader._aborted:
                    reader._abort_context()  # checks the deadline again


WATCHDOG = Watchdog()
