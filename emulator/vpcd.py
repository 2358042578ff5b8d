"""The card side of vsmartcard's vpcd: plug a virtual card into the real pcscd.

vpcd (the pcscd driver) listens on TCP 35963 + slot; we are the client. Connecting
inserts the card, closing removes it. Every message is a 2-byte big-endian length
and a payload; a 1-byte payload is a control code (0 power off, 1 power on,
2 reset: no reply; 4: reply with the ATR); anything longer is a command APDU,
answered with the response APDU. Written from the protocol description, not vpcd's code.

Latency: Debian's vpcd sends length and payload in two writes without TCP_NODELAY,
so we set TCP_NODELAY and re-arm TCP_QUICKACK after every receive (else ~44 ms per APDU).
"""

from __future__ import annotations

import argparse
import logging
import socket
import struct
import sys
import threading
import time
from typing import Callable, Protocol

from drivers.iso7816 import SW

log = logging.getLogger("cashier.vpcd")

BASE_PORT = 35963
#: a card put back sooner than this after a removal may be missed by pcscd's polling
REINSERT_GAP_S = 0.6
CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET, CTRL_GET_ATR = 0, 1, 2, 4


class CardLike(Protocol):
    """What the vpcd card side needs of a virtual card."""

    atr: bytes

    def power_on(self) -> object: ...  # the ATR, or nothing: vpcd asks for it separately
    def power_off(self) -> None: ...
    def process(self, apdu: bytes) -> bytes: ...


def reader_name(slot: int) -> str:
    """The PC/SC reader name vpcd gives the slot."""
    return f"Virtual PCD 00 {slot:02d}"


def _quickack(sock: socket.socket) -> None:
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """Exactly n bytes, or None when the peer closed first."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        _quickack(sock)
        if k == 0:
            return None
        got += k
    return bytes(buf)


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack("!H", len(payload)) + payload)  # one write: one segment


def answer(card: CardLike, payload: bytes) -> bytes | None:
    """The card's reply to one vpcd message (None: control code that needs no reply)."""
    if len(payload) == 1:
        code = payload[0]
        if code == CTRL_POWER_OFF:
            card.power_off()
        elif code == CTRL_POWER_ON:
            card.power_on()
        elif code == CTRL_RESET:
            card.power_off()
            card.power_on()
        elif code == CTRL_GET_ATR:
            return bytes(card.atr)
        else:
            log.warning("vpcd: unknown control code %d", code)
        return None
    try:
        return bytes(card.process(bytes(payload)))
    except Exception:  # a broken card must not take the reader down
        log.exception("vpcd: card failed on an APDU")
        return SW.NO_DIAGNOSIS.to_bytes(2, "big")


class VpcdCardSide:
    """Serves one vpcd slot from a thread; `insert(card)` / `remove()` while it runs."""

    def __init__(self, slot: int = 0, host: str = "127.0.0.1", port: int | None = None,
                 reinsert_gap: float = REINSERT_GAP_S, retry_interval: float = 0.05) -> None:
        if slot not in (0, 1):
            raise ValueError("vpcd has slots 0 and 1")
        self.slot = slot
        self.host = host
        self.port = port if port is not None else BASE_PORT + slot
        self.reinsert_gap = reinsert_gap
        self.retry_interval = retry_interval
        self.reader_name = reader_name(slot)
        self._cond = threading.Condition()
        self._card: CardLike | None = None
        self._generation = 0
        self._sock: socket.socket | None = None
        self._removed_at = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None
        #: monotonic time of the last successful connect (= insertion seen by vpcd)
        self.inserted_at = 0.0
        #: connection attempts refused since start (vpcd not listening: pcscd not running)
        self.refused = 0

    # control (any thread) -----------------------------------------------------
    def start(self) -> "VpcdCardSide":
        with self._cond:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name=f"vpcd-slot{self.slot}", daemon=True)
                self._thread.start()
        return self

    def insert(self, card: CardLike, wait: float | None = 5.0) -> bool:
        """Put `card` in the slot (removing any card first, keeping the reinsertion gap).

        With `wait`, block until vpcd has accepted the connection; False if it did not in time.
        """
        self.remove()
        self.start()
        with self._cond:
            self._card = card
            self._generation += 1
            generation = self._generation
            self._cond.notify_all()
            if wait is None:
                return True
            return self._cond.wait_for(lambda: self._sock is not None or self._generation != generation
                                       or self._stopping, timeout=wait) and self._sock is not None

    def remove(self, wait: float = 5.0) -> None:
        """Take the card out: close the connection and wait until it is closed."""
        with self._cond:
            self._card = None
            self._generation += 1
            sock = self._sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._sock is None, timeout=wait)

    def removal_seen(self) -> None:
        """Whoever watches pcscd saw this slot empty: the next card may go in at once, without the reinsertion
        gap (the gap only guards against a removal pcscd's polling has not noticed yet)."""
        with self._cond:
            if self._sock is None:
                self._removed_at = float("-inf")
                self._cond.notify_all()

    def wait_until(self, predicate: Callable[[VpcdCardSide], bool], timeout: float) -> bool:
        """Block until `predicate(self)` holds, looked at on every change of the slot (card put in or taken,
        connection made, refused or closed); False if it did not within `timeout` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout=timeout)

    @property
    def connected(self) -> bool:
        return self._sock is not None

    @property
    def card(self) -> CardLike | None:
        return self._card

    def stop(self, wait: float = 5.0) -> None:
        """Remove the card and end the thread."""
        self.remove(wait)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(wait)

    def __enter__(self) -> "VpcdCardSide":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # the serving thread --------------------------------------------------------
    def _current(self, generation: int) -> bool:
        return not self._stopping and self._generation == generation

    def _wait_replaced(self, generation: int, timeout: float) -> bool:
        """With the condition held: wait until the card of `generation` is removed or replaced, or we stop."""
        return self._cond.wait_for(lambda: not self._current(generation), timeout=timeout)

    def _keep_gap(self, generation: int) -> bool:
        """With the condition held: keep the slot empty until the reinsertion gap since the last removal is over
        (pcscd's polling would miss a card put back sooner), unless removal_seen() says pcscd noticed; True
        if we waited (the caller looks again: the card may have changed meanwhile)."""
        removed_at = self._removed_at
        gap = removed_at + self.reinsert_gap - time.monotonic()
        if gap <= 0:
            return False
        self._cond.wait_for(lambda: not self._current(generation) or self._removed_at != removed_at, timeout=gap)
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._card is not None or self._stopping)
                if self._stopping:
                    return
                card, generation = self._card, self._generation
                if self._keep_gap(generation):
                    continue
            assert card is not None
            sock = self._connect(generation)
            if sock is None:
                continue
            try:
                self._serve(sock, card)
            except OSError as exc:
                log.debug("vpcd slot %d: connection ended: %s", self.slot, exc)
            finally:
                with self._cond:
                    self._sock = None
                    self._removed_at = time.monotonic()
                    sock.close()
                    self._cond.notify_all()  # the slot is empty now, whatever comes next
                    if self._current(generation):  # vpcd went away (pcscd stopped): retry after a pause
                        self._wait_replaced(generation, self.reinsert_gap)

    def _connect(self, generation: int) -> socket.socket | None:
        """Connect, retrying while refused; None when the card was removed or we stop meanwhile."""
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(2.0)
            try:
                sock.connect((self.host, self.port))
            except OSError:
                sock.close()
                with self._cond:
                    self.refused += 1
                    self._cond.notify_all()
                    if self._wait_replaced(generation, self.retry_interval):
                        return None
                continue
            sock.settimeout(None)
            _quickack(sock)
            with self._cond:
                if not self._current(generation):  # removed while connecting: vpcd saw a brief insertion
                    sock.close()
                    self._removed_at = time.monotonic()
                    return None
                self._sock = sock
                self.inserted_at = time.monotonic()
                log.debug("vpcd slot %d: connected %s -> %s", self.slot, sock.getsockname(), sock.getpeername())
                self._cond.notify_all()
            return sock

    def _serve(self, sock: socket.socket, card: CardLike) -> None:
        while True:
            head = _recv_exact(sock, 2)
            if head is None:
                return
            (length,) = struct.unpack("!H", head)
            payload = _recv_exact(sock, length) if length else b""
            if payload is None:
                return
            if not payload:
                continue
            reply = answer(card, payload)
            if reply is not None:
                _send(sock, reply)


# command line ------------------------------------------------------------------

def register_cli(group, common: argparse.ArgumentParser) -> None:
    """Add `cashier emulator vpcd --profile P [--slot 0|1]` to the emulator group."""
    p = group.add_parser("vpcd", parents=[common],
                         help="serve a virtual card to pcscd through vpcd until stopped",
                         description="Serve a virtual card to pcscd through vpcd until stopped "
                                     "(Ctrl-C or SIGTERM). Lines on stdin switch cards: "
                                     "'insert PROFILE' or 'remove'.")
    p.add_argument("--profile", required=True, help="card profile to insert first")
    p.add_argument("--slot", type=int, choices=(0, 1), default=0,
                   help="vpcd slot: 0 = 'Virtual PCD 00 00' (port 35963), 1 = 'Virtual PCD 00 01'")
    p.add_argument("--host", default="127.0.0.1", help="where vpcd listens (default 127.0.0.1)")
    p.set_defaults(handler=_cli_serve)


def _cli_serve(args: argparse.Namespace) -> int:
    import signal

    from emulator.profiles import load_card
    state_dir = args.resolve_state_dir(args)  # given by the terminal's CLI: the config's card-state folder

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    first = load_card(args.profile, state_dir)  # an unknown profile fails here, before serving
    signal.signal(signal.SIGTERM, stop)
    side = VpcdCardSide(args.slot, args.host).start()
    say = _Say(args)
    try:
        side.insert(first, wait=None)
        say(f"serving {args.profile} in {side.reader_name} (port {side.port}); "
            "stdin: 'insert PROFILE' / 'remove'; Ctrl-C stops")
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "remove" and len(words) == 1:
                side.remove()
                say("removed")
            elif words[0] == "insert" and len(words) == 2:
                try:
                    card = load_card(words[1], state_dir)
                except Exception as exc:  # unknown profile: say so, keep serving
                    say(f"error: {getattr(exc, 'message', exc)}")
                    continue
                side.insert(card, wait=None)
                say(f"inserted {words[1]}")
            else:
                say("error: expected 'insert PROFILE' or 'remove'")
        _wait_forever()  # stdin closed: serve until a signal
    except KeyboardInterrupt:
        pass
    finally:
        side.stop()
        say("stopped")
    return 0


def _wait_forever() -> None:
    while True:
        time.sleep(3600)


class _Say:
    """One status line per event, flushed (a driving program reads them)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json = getattr(args, "json", False)

    def __call__(self, text: str) -> None:
        if self.json:
            import json
            print(json.dumps({"vpcd": text}, ensure_ascii=False), flush=True)
        else:
            print(text, flush=True)
