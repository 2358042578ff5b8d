"""A serial card terminal on a real pty pair: card slot, PIN keypad, a noisy line.

The terminal serves the host side of `drivers.serial_t1` over the pty's master; the slave's
path is published as a symlink at `--link`, which is what the host opens. The line can be
slowed to a simulated speed (bytes/s) and made faulty: bits flipped and bytes dropped at a
rate, a delay before every answer, and a stall long enough that the terminal must ask for
more waiting time (WTX). Usable from tests (`SerialTerminal(...).start()`) and as
`cashier emulator serial --link PATH --profile P` (see `emulator.serial_cli`).
"""

from __future__ import annotations

import os
import queue
import random
import select
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from drivers.iso7816 import SW
from drivers.serial_t1 import terminal_commands as tc
from drivers.serial_t1.block import (
    NAD_CARD_TO_HOST,
    NAD_HOST_TO_CARD,
    NAD_HOST_TO_TERMINAL,
    NAD_TERMINAL_TO_HOST,
)
from drivers.serial_t1.link import DeviceLink, LineClosed
from emulator.card_os import VirtualCard

#: vendor terminal command (tests, benchmarks): `20 EC HH LL <data>` answers data, then HHLL
#: pattern bytes (i & 0xFF), then 90 00: a long answer for a short command
INS_ECHO = 0xEC
#: bytes already waiting within this long after the line clock continue the burst being paced
CONTINUATION_S = 0.002
WAITING_S = 0.0002
#: how often the terminal asks for more time while it waits (keypad, stall), seconds
WTX_EVERY = 0.4


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


@dataclass
class LineFaults:
    """What the simulated line does to bytes, and how fast it carries them."""

    bytes_per_s: float = 0.0   # 0: as fast as the pty goes; 11520 is 115200 baud (10 bits a byte)
    flip_rate: float = 0.0     # share of bytes that get one bit flipped
    drop_rate: float = 0.0     # share of bytes lost
    delay_s: float = 0.0       # before every answer
    stall_s: float = 0.0       # before a card answer: this long, asking for WTX meanwhile
    stall_every: int = 1       # ... on every n-th card command (when stall_s > 0)
    both_ways: bool = True     # faults on the host's bytes too (not only the terminal's)
    seed: int | None = None

    @classmethod
    def at_baud(cls, baud: int, **kw) -> "LineFaults":
        return cls(bytes_per_s=baud / 10, **kw)


class PtyLine:
    """The terminal's end of the line: the pty master, with pacing and faults."""

    def __init__(self, fd: int, faults: LineFaults) -> None:
        self.fd = fd
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.closed = False
        self._line_clock = 0.0
        self.bytes_in = 0
        self.bytes_out = 0

    def _spoil(self, data: bytes) -> bytes:
        f = self.faults
        if not (f.flip_rate or f.drop_rate):
            return data
        out = bytearray()
        for b in data:
            if f.drop_rate and self.rng.random() < f.drop_rate:
                continue
            if f.flip_rate and self.rng.random() < f.flip_rate:
                b ^= 1 << self.rng.randrange(8)
            out.append(b)
        return bytes(out)

    def _pace(self, n: int, start: float) -> None:
        """Hold n bytes for their time on the line from `start`, on a line clock (no sleep drift)."""
        self._line_clock = start + n / self.faults.bytes_per_s
        left = self._line_clock - time.monotonic()
        if left > 0:
            time.sleep(left)

    def read(self, n: int, timeout: float) -> bytes:
        if self.closed:
            raise LineClosed("the terminal's line is closed")
        called = time.monotonic()
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return b""
        arrived = time.monotonic()
        try:
            data = os.read(self.fd, n)
        except OSError:  # EIO: no host has the slave open (yet, or any more)
            time.sleep(min(timeout, 0.05))
            return b""
        self.bytes_in += len(data)
        if self.faults.bytes_per_s > 0 and data:
            # bytes that were waiting right after we paced their first part continue that burst;
            # otherwise they start arriving now
            burst = arrived - called < WAITING_S and called - self._line_clock < CONTINUATION_S
            self._pace(len(data), self._line_clock if burst else arrived)
        return self._spoil(data) if self.faults.both_ways else data

    def write(self, data: bytes) -> None:
        if self.closed:
            raise LineClosed("the terminal's line is closed")
        if self.faults.bytes_per_s > 0 and data:
            self._pace(len(data), max(self._line_clock, time.monotonic()))
        self.bytes_out += len(data)
        data = self._spoil(data)
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:  # nobody reads the other end: wait, unless we were unplugged
                if self.closed:
                    raise LineClosed("the terminal's line is closed") from None
                select.select([], [self.fd], [], 0.05)
                continue
            view = view[n:]


class Keypad:
    """The terminal's PIN pad: PINs typed by a script (queue), by stdin, or by a test."""

    def __init__(self, scripted: list[str] | None = None) -> None:
        self._q: queue.Queue[str] = queue.Queue()
        for pin in scripted or []:
            self.type(pin)

    def type(self, pin: str) -> None:
        self._q.put(pin)

    def take(self, timeout: float) -> str | None:
        try:
            return self._q.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None


class SerialTerminal:
    """A card terminal on a pty: `start()`, `insert(card)`, `remove()`, `keypad.type(pin)`, `unplug()`, `stop()`."""

    def __init__(self, card: VirtualCard | None = None, link: str | os.PathLike[str] | None = None,
                 faults: LineFaults | None = None, keypad: Keypad | None = None) -> None:
        self.faults = faults or LineFaults()
        self.keypad = keypad or Keypad()
        self._card = card
        self._powered = False
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._card_commands = 0
        self.link_path = Path(link) if link else None
        if self.link_path is not None and self.link_path.exists() and not self.link_path.is_symlink():
            raise FileExistsError(f"{self.link_path} exists and is not a link; not replacing it")
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.slave_path = os.ttyname(self.slave)
        if self.link_path is not None:
            if self.link_path.is_symlink():
                self.link_path.unlink()  # a link left by an earlier terminal
            self.link_path.symlink_to(self.slave_path)
        self.line = PtyLine(self.master, self.faults)
        self.device = DeviceLink(self.line, self._handle)

    @property
    def path(self) -> str:
        """What the host opens: the --link symlink, or the pty slave itself."""
        return str(self.link_path) if self.link_path is not None else self.slave_path

    # slot ----------------------------------------------------------------------
    def insert(self, card: VirtualCard) -> None:
        with self._lock:
            self._card, self._powered = card, False

    def remove(self) -> None:
        with self._lock:
            self._power_down()
            self._card = None

    @property
    def card(self) -> VirtualCard | None:
        return self._card

    # life ------------------------------------------------------------------------
    def start(self) -> "SerialTerminal":
        self._thread = threading.Thread(target=self.serve, name="serial terminal", daemon=True)
        self._thread.start()
        return self

    def serve(self) -> None:
        while not self._stop.is_set():
            try:
                self.device.serve_once(0.1)
            except LineClosed:
                return

    def unplug(self) -> None:
        """Pull the terminal's cable: the pty closes and the host's next read fails."""
        self._stop.set()
        self.line.closed = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
        self.master = self.slave = -1

    def stop(self) -> None:
        self.unplug()
        if self.link_path is not None and self.link_path.is_symlink():
            self.link_path.unlink()

    def __enter__(self) -> "SerialTerminal":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # commands ----------------------------------------------------------------------
    def _handle(self, nad_: int, data: bytes) -> tuple[int, bytes]:
        if self.faults.delay_s:
            time.sleep(self.faults.delay_s)
        if nad_ == NAD_HOST_TO_CARD:
            return self._card_command(data)
        if nad_ == NAD_HOST_TO_TERMINAL:
            return NAD_TERMINAL_TO_HOST, self._terminal_command(data)
        return NAD_TERMINAL_TO_HOST, _sw(tc.SW_WRONG_PARAMS)

    def _wait_busy(self, seconds: float, until: Callable[[], bool] = lambda: False) -> bool:
        """Wait up to `seconds`, asking the host for more time; True if `until()` became true."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until():
                return True
            self.device.wtx(1)
            step = min(WTX_EVERY, end - time.monotonic())
            if step > 0 and self._stop.wait(step):
                return False
        return until()

    def _card_gone(self) -> bool:
        return self._card is None

    def _card_command(self, apdu: bytes) -> tuple[int, bytes]:
        self._card_commands += 1
        f = self.faults
        if f.stall_s and self._card_commands % max(1, f.stall_every) == 0:
            self._wait_busy(f.stall_s, self._card_gone)
        with self._lock:
            card = self._card
            if card is None:
                return NAD_TERMINAL_TO_HOST, _sw(tc.SW_NO_CARD)
            if not self._powered:
                return NAD_TERMINAL_TO_HOST, _sw(tc.SW_NOT_POWERED)
            return NAD_CARD_TO_HOST, card.process(apdu)

    def _power_down(self) -> None:
        with self._lock:
            if self._card is not None:
                self._card.power_off()
            self._powered = False

    def _terminal_command(self, cmd: bytes) -> bytes:
        if len(cmd) < 4 or cmd[0] != tc.CLA_CT:
            return _sw(SW.CLA_NOT_SUPPORTED if cmd[:1] != bytes((tc.CLA_CT,)) else SW.WRONG_LENGTH)
        ins = cmd[1]
        if ins in (tc.INS_RESET_CT, tc.INS_EJECT_ICC):
            self._power_down()  # EJECT: the card is powered off and offered at the slot's lip
            return _sw(SW.OK)
        if ins == tc.INS_REQUEST_ICC:
            wait = cmd[5] if len(cmd) >= 6 and cmd[4] == 0x01 else 0
            if self._card is None and wait:
                self._wait_busy(wait, lambda: self._card is not None)
            with self._lock:
                if self._card is None:
                    return _sw(tc.SW_NO_CARD_IN_TIME)
                atr = self._card.power_on()
                self._powered = True
                return atr + _sw(tc.SW_ICC_ASYNC)
        if ins == tc.INS_GET_STATUS:
            with self._lock:
                ss = tc.STATUS_NO_CARD if self._card is None else (
                    tc.STATUS_POWERED if self._powered else tc.STATUS_PRESENT)
            return bytes((0x80, 0x01, ss)) + _sw(SW.OK)
        if ins == tc.INS_PERFORM_VERIFICATION:
            return self._perform_verification(cmd)
        if ins == INS_ECHO:
            pattern = bytes(i & 0xFF for i in range(int.from_bytes(cmd[2:4], "big")))
            return cmd[4:] + pattern + _sw(SW.OK)
        return _sw(SW.INS_NOT_SUPPORTED)

    def _perform_verification(self, cmd: bytes) -> bytes:
        from drivers.codecs import pin_block
        from drivers.errors import CardError
        try:
            template = tc.parse_verification(cmd[5:5 + cmd[4]] if len(cmd) > 5 else b"")
        except CardError:
            return _sw(tc.SW_WRONG_PARAMS)
        if self._card is None:
            return _sw(tc.SW_NO_CARD)
        if not self._powered:
            return _sw(tc.SW_NOT_POWERED)
        box: list[str] = []

        def typed() -> bool:
            if self._card is None:
                return True
            pin = self.keypad.take(0)
            if pin is not None:
                box.append(pin)
            return bool(box)

        self._wait_busy(float(template.timeout_s), typed)
        if self._card is None:
            return _sw(tc.SW_NO_CARD)
        if not box:
            return _sw(tc.SW_KEYPAD_TIMEOUT)
        try:
            block = pin_block(box[0])
        except CardError:
            return _sw(tc.SW_KEYPAD_CANCEL)
        verify = bytes((template.cla, template.ins, template.p1, template.p2, len(block))) + block
        with self._lock:
            if self._card is None:
                return _sw(tc.SW_NO_CARD)
            return self._card.process(verify)[-2:]


__all__ = ["SerialTerminal", "LineFaults", "Keypad", "PtyLine", "INS_ECHO"]
