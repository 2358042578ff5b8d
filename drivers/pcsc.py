"""The PC/SC transport (pyscard): a real reader, or the emulator plugged into pcscd via vpcd.

Uses pyscard's thin `smartcard.scard` layer so every PC/SC return code can be
mapped to the error catalogue (no pcscd, no reader, no card, card pulled, reader
held exclusively by another program, ...). Insert/remove events come from
pyscard's CardMonitor. Every wait is bounded by `timeout`: pcscd's own calls return at
once, and the calls that wait on the card are cut off by a watchdog (`drivers.pcsc_watchdog`; Linux: it finds the
context's socket to pcscd in /proc/self/fd; elsewhere such a call is reported late).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from smartcard import scard as sc
from smartcard.CardMonitoring import CardMonitor, CardMonitoringThread, CardObserver

from drivers.errors import (
    CARD_REMOVED,
    NO_CARD,
    NO_READER,
    NO_SERVICE,
    READER_BUSY,
    READER_ERROR,
    TIMEOUT,
    WRONG_CARD_TYPE,
    CardError,
    ErrorKind,
)
from drivers.pcsc_watchdog import WATCHDOG, shut_down, watched_context
from drivers.reader import CardEvent, Reader

log = logging.getLogger("cashier.pcsc")

_KIND_BY_RC: dict[int, ErrorKind] = {
    sc.SCARD_E_NO_SERVICE: NO_SERVICE,
    sc.SCARD_E_SERVICE_STOPPED: NO_SERVICE,
    sc.SCARD_E_NO_READERS_AVAILABLE: NO_READER,
    sc.SCARD_E_UNKNOWN_READER: NO_READER,
    sc.SCARD_E_READER_UNAVAILABLE: NO_READER,
    sc.SCARD_E_NO_SMARTCARD: NO_CARD,
    sc.SCARD_W_REMOVED_CARD: CARD_REMOVED,
    sc.SCARD_E_SHARING_VIOLATION: READER_BUSY,
    sc.SCARD_E_TIMEOUT: TIMEOUT,
    sc.SCARD_W_UNRESPONSIVE_CARD: WRONG_CARD_TYPE,
    sc.SCARD_W_UNSUPPORTED_CARD: WRONG_CARD_TYPE,
    sc.SCARD_E_CARD_UNSUPPORTED: WRONG_CARD_TYPE,
    sc.SCARD_E_PROTO_MISMATCH: WRONG_CARD_TYPE,
}
_CONTEXT_LOST = {sc.SCARD_E_NO_SERVICE, sc.SCARD_E_SERVICE_STOPPED, sc.SCARD_E_INVALID_HANDLE}


def pcsc_error(rc: int, doing: str, kind: ErrorKind | None = None) -> CardError:
    """A CardError for a PC/SC return code; `doing` says what we were attempting."""
    kind = kind or _KIND_BY_RC.get(rc, READER_ERROR)
    return CardError(kind, f"{doing}: {sc.SCardGetErrorMessage(rc).strip()} (0x{rc & 0xFFFFFFFF:08X})")


def _context() -> int:
    rc, ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
    if rc != sc.SCARD_S_SUCCESS:
        raise pcsc_error(rc, "connecting to pcscd", NO_SERVICE)
    return ctx


def _readers(ctx: int) -> list[str]:
    rc, names = sc.SCardListReaders(ctx, [])
    if rc == sc.SCARD_E_NO_READERS_AVAILABLE:
        return []
    if rc != sc.SCARD_S_SUCCESS:
        raise pcsc_error(rc, "listing readers")
    return list(names)


def _states(ctx: int, names: list[str]) -> dict[str, tuple[int, bytes]]:
    """Reader name -> (event state, ATR) now (timeout 0: never waits)."""
    if not names:
        return {}
    rc, states = sc.SCardGetStatusChange(ctx, 0, [(n, sc.SCARD_STATE_UNAWARE) for n in names])
    if rc != sc.SCARD_S_SUCCESS:
        raise pcsc_error(rc, "asking for the readers' state")
    return {name: (state, bytes(atr)) for name, state, atr in states}


def list_readers() -> list[str]:
    """Names of the PC/SC readers; CardError(no_service) when pcscd does not answer."""
    ctx = _context()
    try:
        return _readers(ctx)
    finally:
        sc.SCardReleaseContext(ctx)


def wait_card_state(reader: str, present: bool, timeout: float) -> bool:
    """Block (≤ timeout) until pcscd reports a card in `reader` (present) or none; False on timeout."""
    ctx = _context()
    try:
        deadline = time.monotonic() + timeout
        known = sc.SCARD_STATE_UNAWARE
        while True:
            left = max(0, int((deadline - time.monotonic()) * 1000))
            rc, states = sc.SCardGetStatusChange(ctx, left, [(reader, known)])
            if rc == sc.SCARD_E_TIMEOUT:
                return False
            if rc != sc.SCARD_S_SUCCESS:
                raise pcsc_error(rc, f"watching {reader!r}")
            state = states[0][1]
            if bool(state & sc.SCARD_STATE_PRESENT) == present:
                return True
            if left == 0:
                return False
            known = state & ~sc.SCARD_STATE_CHANGED
    finally:
        sc.SCardReleaseContext(ctx)


def _release(card: int | None, ctx: int | None, disposition: int = sc.SCARD_LEAVE_CARD) -> None:
    if card is not None:
        sc.SCardDisconnect(card, disposition)
    if ctx is not None:
        sc.SCardReleaseContext(ctx)


class PcscReader(Reader):
    """One PC/SC reader: `name=None` picks the first reader holding a card at connect time."""

    def __init__(self, name: str | None = None, timeout: float = 5.0) -> None:
        super().__init__()
        self.wanted = name
        self.timeout = timeout
        self.name = name or "pcsc"
        self._lock = threading.RLock()
        self._ctx: int | None = None
        self._card: int | None = None
        self._protocol = 0
        self._atr = b""
        #: the session broke (card pulled, no answer): no silent reconnect to whatever is there now
        self._lost: ErrorKind | None = None
        self._ctx_sockets: list[int] = []
        self._deadline: float | None = None  # set while a call waits on the card (see drivers.pcsc_watchdog)
        self._aborted = False
        self._observer: "_Observer | None" = None

    # context ---------------------------------------------------------------
    def _ctx_or_new(self) -> int:
        if self._ctx is None:
            self._ctx, self._ctx_sockets = watched_context(_context)
            self._aborted = False
            WATCHDOG.watch(self)
        return self._ctx

    def _call(self, rc: int, doing: str, kind: ErrorKind | None = None) -> None:
        """Raise for a failed PC/SC call; forget a context pcscd no longer knows."""
        if rc == sc.SCARD_S_SUCCESS:
            return
        if rc in _CONTEXT_LOST:
            self._forget()
            raise pcsc_error(rc, doing, NO_SERVICE)
        raise pcsc_error(rc, doing, kind)

    def _forget(self) -> None:
        card, ctx = self._card, self._ctx
        self._card, self._ctx, self._ctx_sockets, self._atr = None, None, [], b""
        _release(card, ctx)

    def _abort_context(self) -> None:
        """Called by the watchdog: cut this context's connection to pcscd so the blocked call returns."""
        deadline = self._deadline
        if deadline is None or time.monotonic() <= deadline:  # the call returned meanwhile
            return
        self._aborted = True
        shut_down(self._ctx_sockets)

    def _on_card(self, doing: str, fn: Callable[..., Any], *args: Any) -> Any:
        """A call that waits on the card, bounded by timeout (see drivers.pcsc_watchdog). On overrun the context is
        gone and the session counts as lost."""
        self._deadline = time.monotonic() + self.timeout
        try:
            result = fn(*args)
        finally:
            self._deadline = None
        if self._aborted:
            self._forget()
            self._lost = TIMEOUT
            raise CardError(TIMEOUT, f"{doing}: no answer within {self.timeout:g} s")
        return result

    def list_readers(self) -> list[str]:
        with self._lock:
            try:
                return _readers(self._ctx_or_new())
            except CardError as exc:
                if exc.kind is NO_SERVICE:
                    self._forget()
                raise

    def _pick(self, ctx: int) -> str:
        names = self.list_readers()
        if not names:
            raise CardError(NO_READER, "pcscd lists no reader")
        if self.wanted is not None:
            if self.wanted not in names:
                raise CardError(NO_READER, f"no reader named {self.wanted!r} (readers: {', '.join(names)})")
            return self.wanted
        for name, (state, _atr) in _states(ctx, names).items():
            if state & sc.SCARD_STATE_PRESENT and not state & sc.SCARD_STATE_MUTE:
                return name
        raise CardError(NO_CARD, f"no card in any of: {', '.join(names)}")

    # Reader ----------------------------------------------------------------
    def connect(self) -> bytes:
        """Connect shared, T=0 or T=1; retries only while the reader is mid-insertion, up to timeout."""
        with self._lock:
            if self._card is not None:
                return self._atr
            ctx = self._ctx_or_new()
            deadline = time.monotonic() + self.timeout
            while True:
                reader = self._pick(ctx)
                rc, card, protocol = self._on_card(f"connecting to the card in {reader!r}", sc.SCardConnect,
                                                   ctx, reader, sc.SCARD_SHARE_SHARED,
                                                   sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1)
                if rc == sc.SCARD_S_SUCCESS:
                    break
                if rc == sc.SCARD_E_NO_SMARTCARD or rc == sc.SCARD_W_REMOVED_CARD:
                    self._call(rc, f"connecting to the card in {reader!r}", NO_CARD)
                if rc == sc.SCARD_E_SHARING_VIOLATION:
                    self._call(rc, f"{reader!r} is held exclusively by another program", READER_BUSY)
                if rc in (sc.SCARD_W_UNPOWERED_CARD, sc.SCARD_E_NOT_READY) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                self._call(rc, f"connecting to the card in {reader!r}")
            rc, _name, _state, _proto, atr = sc.SCardStatus(card)
            if rc != sc.SCARD_S_SUCCESS:
                sc.SCardDisconnect(card, sc.SCARD_LEAVE_CARD)
                self._call(rc, "reading the ATR", CARD_REMOVED)
            self._card, self._protocol, self._atr, self._lost = card, protocol, bytes(atr), None
            self.name = reader
            return self._atr

    def disconnect(self) -> None:
        """Release the card; reset it so the next program starts from a fresh card session."""
        with self._lock:
            card, self._card, self._atr, self._lost = self._card, None, b"", None
            if card is not None:
                try:
                    self._on_card("resetting the card", sc.SCardDisconnect, card, sc.SCARD_RESET_CARD)
                except CardError:
                    self._lost = None  # it is gone either way

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """One APDU; transmit without connect connects first, but never after the card was lost."""
        with self._lock:
            if self._lost is not None:
                raise CardError(self._lost, "the card session broke; connect again to start a new one")
            if self._card is None:
                self.connect()
            doing = f"sending {bytes(apdu[:4]).hex().upper()}"
            rc, response = self._on_card(doing, sc.SCardTransmit, self._card, self._protocol, list(apdu))
            if rc != sc.SCARD_S_SUCCESS or len(response) < 2:
                card, self._card, self._atr = self._card, None, b""
                if card is not None:
                    sc.SCardDisconnect(card, sc.SCARD_LEAVE_CARD)
                # vpcd answers nothing at all when its card went away mid-command
                kind = self._why_failed(rc if rc != sc.SCARD_S_SUCCESS else sc.SCARD_E_NOT_TRANSACTED)
                self._lost = kind or READER_ERROR
                if rc != sc.SCARD_S_SUCCESS:
                    self._call(rc, doing, kind)
                raise CardError(self._lost, f"{doing}: no status word in the answer")
            return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def _why_failed(self, rc: int) -> ErrorKind | None:
        """A failed transmit: card_removed if the card left (pcscd notices within ~0.6 s; we wait ≤ 1.5 s)."""
        if rc in (sc.SCARD_W_REMOVED_CARD, sc.SCARD_E_NO_SMARTCARD):
            return CARD_REMOVED
        if rc in _CONTEXT_LOST or rc == sc.SCARD_W_RESET_CARD:
            return None
        deadline = time.monotonic() + min(1.5, self.timeout)
        while time.monotonic() < deadline:
            if not self._present_in([self.name]):
                return CARD_REMOVED
            time.sleep(0.05)
        return None

    @property
    def atr(self) -> bytes:
        return self._atr

    def card_present(self) -> bool:
        """Asks pcscd now (no wait). For the connected reader, or any reader when unnamed."""
        with self._lock:
            if self._card is not None:
                return self._present_in([self.name])
            return self._present_in([self.wanted] if self.wanted else None)

    def _present_in(self, names: list[str] | None) -> bool:
        try:
            ctx = self._ctx_or_new()
            states = _states(ctx, names if names is not None else self.list_readers())
        except CardError as exc:
            if exc.kind in (NO_SERVICE, NO_READER):
                return False
            raise
        return any(s & sc.SCARD_STATE_PRESENT for s, _ in states.values())

    # events ----------------------------------------------------------------
    def _start_events(self) -> None:
        with self._lock:
            if self._observer is not None:
                return
            sc.SCardReleaseContext(_context())  # raise NO_SERVICE now rather than lose the monitor thread
            self._observer = _Observer(self)
            with _MONITOR_LOCK:
                _monitor().addObserver(self._observer)

    def _stop_events(self) -> None:
        with self._lock:
            observer, self._observer = self._observer, None
        if observer is not None:
            with _MONITOR_LOCK:
                monitor = CardMonitor()
                monitor.deleteObserver(observer)
                if monitor.countObservers() == 0:
                    _stop_monitor()

    def close(self) -> None:
        super().close()
        with self._lock:
            self._forget()


_MONITOR_LOCK = threading.Lock()


def _monitor():
    """pyscard's CardMonitor singleton, rebuilt if its thread died (e.g. pcscd was restarted)."""
    with CardMonitor.lock, CardMonitoringThread.lock:
        thread = CardMonitoringThread.instance
        if CardMonitor.instance is not None and (thread is None or not thread.is_alive()):
            CardMonitoringThread.instance = None
            CardMonitor.instance = None
    return CardMonitor()  # takes CardMonitor.lock itself


def _stop_monitor(wait: float = 2.0) -> None:
    """No observer is left: end pyscard's monitor thread (SCardCancel wakes it) so none lingers."""
    with CardMonitor.lock, CardMonitoringThread.lock:
        thread = CardMonitoringThread.instance
        CardMonitoringThread.instance = None
        CardMonitor.instance = None
    if thread is None:
        return
    thread.stop()
    if thread is threading.current_thread():  # a listener stopped events from inside a callback
        return
    request = getattr(thread.cardrequest, "pcsccardrequest", None)
    hcontext = getattr(request, "hcontext", None)
    deadline = time.monotonic() + wait
    while thread.is_alive() and time.monotonic() < deadline:
        if hcontext is not None:  # a cancel only wakes a wait already under way: repeat it
            sc.SCardCancel(hcontext)
        thread.join(0.05)
    if not thread.is_alive() and request is not None:
        try:
            request.release()  # else its __del__ complains once pcscd is gone
        except Exception:
            pass


class _Observer(CardObserver):
    """Turns CardMonitor updates into CardEvents for one PcscReader."""

    def __init__(self, reader: PcscReader) -> None:
        super().__init__()
        self.reader = reader

    def _ours(self, card) -> bool:
        return self.reader.wanted is None or card.reader == self.reader.wanted

    def update(self, observable, handlers) -> None:
        added, removed = handlers
        events = [CardEvent("removed", c.reader, bytes(c.atr)) for c in removed if self._ours(c)]
        events += [CardEvent("inserted", c.reader, bytes(c.atr)) for c in added if self._ours(c)]
        for event in events:
            self.reader._emit(event)
