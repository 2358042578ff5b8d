"""The T=1-style link over a byte line: chaining, retransmission, RESYNCH, WTX.

`HostLink` is the host (master) side used by the serial reader; `DeviceLink` is the
terminal side the emulator serves with. Both share one block reader with bounded waits.

Rules (ISO 7816-3 T=1, simplified):
- a message over 254 bytes is chained (M bit); every chained block is acknowledged with R(N = next);
- a bad block (LRC, framing) or a silent peer is answered with R(N = the block wanted, EE);
  the peer retransmits; after 3 failures on one block the host sends S(RESYNCH) and restarts
  the exchange; when that fails too, a clear `CardError(LINE_ERROR)`;
- S(WTX request) is answered with S(WTX response) and extends the next wait.

The XOR LRC misses two flips in the same bit column (and 1 in 256 misframed blocks), so
each side accepts only blocks addressed to it (NAD), and once a line has shown an error
(and at the start of a link) each receiver asks for a second copy of every I-block
(R(N = that block, EE = 00)) and accepts only two identical copies: a noisy line
yields the right data or an error, not wrong data.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from drivers.errors import LINE_ERROR, READER_ERROR, TIMEOUT, CardError
from drivers.iso7816 import SW
from drivers.serial_t1.block import (
    MAX_INF,
    NAD_CARD_TO_HOST,
    NAD_HOST_TO_CARD,
    NAD_HOST_TO_TERMINAL,
    NAD_TERMINAL_TO_HOST,
    R_LRC,
    R_OK,
    R_OTHER,
    Block,
    BlockError,
    Kind,
    SType,
    decode,
    i_block,
    r_block,
    reply_nad,
    s_block,
    split_inf,
)

log = logging.getLogger("cashier.serial")

#: clean blocks received in a row before a receiver stops asking for second copies
CLEAN_STREAK = 8
#: seconds of silence that end a garbled block (5 byte times at 9600 baud; leftovers only cost a retry)
QUIET = 0.005
#: copies of one block a receiver asks for before it counts a failure
MAX_COPIES = 4


class LineClosed(CardError):
    """The other end of the line went away (pty closed, device unplugged)."""

    def __init__(self, detail: str) -> None:
        super().__init__(READER_ERROR, detail)


class BlockTimeout(Exception):
    """No block started within the wait."""


class Line(Protocol):
    """A byte line: `read` returns up to n bytes, b"" when `timeout` passes; raises LineClosed."""

    def read(self, n: int, timeout: float) -> bytes: ...

    def write(self, data: bytes) -> None: ...


class SerialLine:
    """A pyserial port as a Line (device, pty, socket://, loop://)."""

    def __init__(self, port, name: str = "") -> None:
        self.port = port
        self.name = name or getattr(port, "port", "") or "serial line"
        self._timeout: float | None = None

    def _gone(self, exc: Exception) -> LineClosed:
        return LineClosed(f"the card terminal at {self.name} went away ({exc})")

    def read(self, n: int, timeout: float) -> bytes:
        timeout = max(0.0, round(timeout, 3))
        try:
            if timeout != self._timeout:
                self.port.timeout = timeout
                self._timeout = timeout
            return self.port.read(n)
        except (OSError, ValueError) as exc:  # SerialException is an OSError
            raise self._gone(exc) from None
        except Exception as exc:  # pyserial's PortNotOpenError and friends
            raise self._gone(exc) from None

    def write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except Exception as exc:
            raise self._gone(exc) from None


class Channel:
    """Reads and writes whole blocks on a Line, every wait bounded."""

    def __init__(self, line: Line, cwt: float = 0.05, trace: Callable[[str, Block], None] | None = None,
                 nads: frozenset[int] | None = None) -> None:
        self.line = line
        self.nads = nads  # NADs this side can receive: a misframed block rarely has one
        self.cwt = cwt  # longest gap between two bytes of one block
        self.quiet = min(cwt, QUIET)  # a gap this long ends a garbled block
        self.trace = trace
        self.bytes_out = 0
        self.bytes_in = 0

    def write(self, blk: Block) -> None:
        raw = blk.encode()
        self.bytes_out += len(raw)
        if self.trace:
            self.trace(">", blk)
        self.line.write(raw)

    def _read_exact(self, n: int, first_wait: float, starts: bool = False) -> bytes:
        buf = bytearray()
        wait = first_wait
        while len(buf) < n:
            got = self.line.read(n - len(buf), wait)
            if not got:
                if starts and not buf:
                    raise BlockTimeout()
                raise BlockError(f"block cut short ({len(buf)} of {n} bytes)")
            buf += got
            wait = self.cwt
        return bytes(buf)

    def read(self, wait: float) -> Block:
        """The next block; BlockTimeout when none starts within `wait`, BlockError for garbage."""
        head = self._read_exact(3, max(wait, 0.0), starts=True)
        self.bytes_in += 3
        if head[2] > MAX_INF:
            raise BlockError(f"LEN {head[2]} over {MAX_INF}")
        rest = self._read_exact(head[2] + 1, self.cwt)
        self.bytes_in += len(rest)
        blk = decode(head + rest)
        if self.nads is not None and blk.nad not in self.nads:
            raise BlockError(f"NAD {blk.nad:02X} is not addressed to this side")
        if self.trace:
            self.trace("<", blk)
        return blk

    def drain(self, limit: float = 1.0) -> None:
        """Swallow the rest of a garbled block: read until the line is quiet for `quiet` s (bounded)."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            got = self.line.read(4096, self.quiet)
            self.bytes_in += len(got)
            if not got:
                return


@dataclass
class Confirmer:
    """Second-copy checking of received I-blocks while the line is (or may be) noisy."""

    mode: str = "auto"  # "auto" | "always" | "never"
    clean: int = 0
    noisy: bool = False  # a line that failed once stays suspect for the link's life
    copies: list[Block] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return self.mode == "always" or (self.mode == "auto" and (self.noisy or self.clean < CLEAN_STREAK))

    def error(self) -> None:
        self.clean = 0
        self.noisy = True

    def good(self) -> None:
        self.clean += 1

    def offer(self, blk: Block) -> bool:
        """True when `blk` is confirmed (an identical copy was seen before)."""
        if not self.needed:
            self.copies.clear()
            return True
        if blk in self.copies:
            self.copies.clear()
            return True
        self.copies.append(blk)
        return False


class _Failed(Exception):
    """Three failures on one block: time for RESYNCH."""


class HostLink:
    """The host side: `transceive(nad, data) -> (nad, data)`, one command and its answer."""

    def __init__(self, line: Line, *, timeout: float = 5.0, bwt: float | None = None, cwt: float = 0.05,
                 retries: int = 3, restarts: int = 3, confirm: str = "auto", max_wtx: float = 300.0,
                 trace: Callable[[str, Block], None] | None = None) -> None:
        self.chan = Channel(line, cwt, trace, nads=frozenset((NAD_TERMINAL_TO_HOST, NAD_CARD_TO_HOST)))
        self.timeout = timeout
        self.bwt = bwt if bwt is not None else min(1.0, timeout)
        self.retries = retries
        self.restarts = restarts
        self.max_wtx = max_wtx
        self.confirm = Confirmer(confirm)
        self.ns = 0  # N(S) of our next I-block
        self.nr = 0  # N(S) we expect on the terminal's next I-block
        self._deadline = 0.0
        self._wtx_granted = 0.0
        self._troubled = ""
        self._dirty = False  # True while an exchange is unfinished or failed: RESYNCH first
        self.stats = {"retransmits": 0, "resynchs": 0, "wtx": 0, "confirms": 0}

    # public -------------------------------------------------------------------
    def transceive(self, nad_: int, data: bytes, extra_wait: float = 0.0,
                   restartable: bool = True) -> tuple[int, bytes]:
        """Send one message to `nad_` and return (NAD, message) of the answer.

        After 3 failures on one block: RESYNCH, then the exchange starts again (up to `restarts`
        times; never for a command that must not run twice, like a PIN check); then LINE_ERROR.
        """
        self._deadline = time.monotonic() + self.timeout + extra_wait
        self._wtx_granted = 0.0
        self._troubled = ""
        restarts = 0
        if self._dirty:  # an earlier exchange failed: the sequence numbers are unknown
            self.resynch()
        while True:
            self._dirty = True
            try:
                answer = self._exchange(nad_, data)
            except _Failed as exc:
                self.resynch()
                if not restartable or restarts >= self.restarts:
                    raise CardError(LINE_ERROR, f"{exc}; gave up after RESYNCH") from None
                restarts += 1
                continue
            self._dirty = False
            return answer

    def start(self) -> None:
        """Begin a session: RESYNCH so both sides count from 0 (bounded by `timeout`)."""
        self._deadline = time.monotonic() + self.timeout
        self._troubled = ""
        self.stats["resynchs"] -= 1
        self.resynch()

    def resynch(self) -> None:
        """S(RESYNCH): both sides back to sequence 0; CardError(LINE_ERROR) if it fails 3 times."""
        self.stats["resynchs"] += 1
        req = s_block(NAD_HOST_TO_TERMINAL, SType.RESYNCH)
        for _ in range(self.retries):
            self.chan.drain()
            self.chan.write(req)
            if self._resynch_answered():
                self.ns = self.nr = 0
                self.confirm = Confirmer(self.confirm.mode, noisy=self.confirm.noisy)
                self._dirty = False
                return
        raise CardError(LINE_ERROR, "the card terminal does not answer RESYNCH")

    def _resynch_answered(self) -> bool:
        """Read until S(RESYNCH response); stale blocks before it are skipped. False on garbage or silence."""
        end = time.monotonic() + self.bwt
        while True:
            try:
                got = self.chan.read(self._wait(end - time.monotonic()))
            except (BlockTimeout, BlockError):
                return False
            if got.kind is Kind.S and got.stype is SType.RESYNCH and got.response:
                return True
            if got.kind is Kind.R:
                return False  # the terminal did not understand our request

    # exchange -----------------------------------------------------------------
    def _wait(self, wanted: float) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            if self._troubled:
                raise CardError(LINE_ERROR, f"{self._troubled}; out of time")
            raise CardError(TIMEOUT, f"no valid answer from the card terminal within {self.timeout:g} s")
        return min(wanted, left)

    def _exchange(self, nad_: int, data: bytes) -> tuple[int, bytes]:
        chunks = split_inf(data)
        reply: Block | None = None
        for i, chunk in enumerate(chunks):
            blk = i_block(nad_, self.ns, chunk, more=i < len(chunks) - 1)
            reply = self._send(blk)
            self.ns ^= 1
        assert reply is not None
        parts = [reply.inf]
        answer_nad = reply.nad
        self.nr ^= 1
        while reply.more:
            reply = self._send(r_block(nad_, self.nr))
            parts.append(reply.inf)
            self.nr ^= 1
        return answer_nad, b"".join(parts)

    def _send(self, blk: Block) -> Block:
        """Send `blk`; return the terminal's ack (chained I) or its next I-block (confirmed)."""
        chaining = blk.kind is Kind.I and blk.more
        self.confirm.copies.clear()
        failures = 0
        copies = 0
        self.chan.write(blk)
        wait = self.bwt

        def fail(reason: str, answer: Block) -> None:
            nonlocal failures
            failures += 1
            self._troubled = reason
            self.confirm.error()
            if failures >= self.retries:
                raise _Failed(f"{reason} ({failures} times)")
            self.stats["retransmits"] += 1
            self.chan.write(answer)

        while True:
            try:
                got = self.chan.read(self._wait(wait))
            except BlockTimeout:
                wait = self.bwt
                fail("the card terminal did not answer", blk if blk.kind is Kind.R and not blk.error
                     else r_block(blk.nad, self.nr, R_OTHER))
                continue
            except BlockError as exc:
                self.chan.drain()
                wait = self.bwt
                fail(f"bad block ({exc.detail})", r_block(blk.nad, self.nr, R_LRC if exc.lrc else R_OTHER))
                continue
            wait = self.bwt
            if got.kind is Kind.S:
                if got.stype is SType.WTX and not got.response:
                    wait = self._grant_wtx(got, blk.nad)
                    continue
                if got.stype is SType.ABORT:
                    raise CardError(READER_ERROR, "the card terminal aborted the exchange")
                fail(f"unexpected {got.describe()}", blk)
                continue
            if got.kind is Kind.R:
                if chaining and got.seq != blk.seq:
                    self.confirm.good()
                    return got
                if blk.kind is Kind.I and got.seq == blk.seq and got.error == R_OK and copies < MAX_COPIES:
                    copies += 1  # the terminal wants a second copy of our block
                    self.stats["confirms"] += 1
                    self.chan.write(blk)
                    continue
                fail("the card terminal asked for a retransmission", blk)
                continue
            # an I-block
            if chaining or got.seq != self.nr:
                fail(f"unexpected {got.describe()}", r_block(blk.nad, self.nr, R_OTHER))
                continue
            failures = 0  # consecutive failures: a good block is progress
            if not self.confirm.offer(got):
                self.stats["confirms"] += 1
                if len(self.confirm.copies) > MAX_COPIES:
                    self.confirm.copies.clear()
                    fail("copies of a block disagree", r_block(blk.nad, self.nr, R_OK))
                else:
                    self.chan.write(r_block(blk.nad, self.nr, R_OK))
                continue
            self.confirm.good()
            return got

    def _grant_wtx(self, req: Block, nad_: int) -> float:
        mult = max(1, req.inf[0] if req.inf else 1)
        extra = self.bwt * mult
        if self._wtx_granted + extra > self.max_wtx:
            raise CardError(TIMEOUT, f"the card terminal kept asking for more time (over {self.max_wtx:g} s)")
        self._wtx_granted += extra
        self._deadline = max(self._deadline, time.monotonic() + extra + self.bwt)
        self.stats["wtx"] += 1
        self.chan.write(s_block(nad_, SType.WTX, response=True, inf=req.inf))
        return extra


Handler = Callable[[int, bytes], tuple[int, bytes]]


class DeviceLink:
    """The terminal side: waits for commands, hands them to `handler`, sends the answers.

    `serve_once(wait)` handles whatever block arrives; `wtx(mult)` asks the host for more time
    while a handler is busy (keypad, slow card).
    """

    def __init__(self, line: Line, handler: Handler, *, cwt: float = 0.05, confirm: str = "auto",
                 trace: Callable[[str, Block], None] | None = None) -> None:
        self.chan = Channel(line, cwt, trace, nads=frozenset((NAD_HOST_TO_TERMINAL, NAD_HOST_TO_CARD)))
        self.handler = handler
        self.confirm = Confirmer(confirm)
        self._reset()

    def _reset(self) -> None:
        self.expect = 0          # N(S) expected on the host's next I-block
        self.ns = 0              # N(S) of our next I-block
        self.inbuf = bytearray()
        self.last: Block | None = None  # the last block we sent (for retransmission)
        self.out: list[Block] = []      # chained answer blocks not yet sent

    def _send(self, blk: Block) -> None:
        self.last = blk
        self.chan.write(blk)

    def serve_once(self, wait: float = 0.2) -> None:
        try:
            blk = self.chan.read(wait)
        except BlockTimeout:
            return
        except BlockError as exc:
            self.confirm.error()
            self.chan.drain()
            self.chan.write(r_block(NAD_TERMINAL_TO_HOST, self.expect, R_LRC if exc.lrc else R_OTHER))
            return
        if blk.kind is Kind.S:
            self._on_s(blk)
        elif blk.kind is Kind.R:
            self._on_r(blk)
        else:
            self._on_i(blk)

    def _on_s(self, blk: Block) -> None:
        if blk.response:
            return  # a late WTX response
        if blk.stype in (SType.RESYNCH, SType.ABORT):
            self._reset()
            self.confirm = Confirmer(self.confirm.mode, noisy=self.confirm.noisy)
        self.chan.write(s_block(reply_nad(blk.nad), blk.stype, response=True, inf=blk.inf))

    def _on_r(self, blk: Block) -> None:
        last = self.last
        if last is not None and last.kind is Kind.I and blk.seq == last.seq:
            if blk.error:
                self.confirm.error()
            self.chan.write(last)  # retransmit (or a second copy on request)
        elif last is not None and last.kind is Kind.I and last.more and self.out:
            self._send(self.out.pop(0))  # ack: next chained block
        elif last is not None and last.kind is Kind.R:
            self.chan.write(last)  # our ack was lost
        else:
            self.chan.write(r_block(reply_nad(blk.nad), self.expect, R_OTHER))

    def _on_i(self, blk: Block) -> None:
        answer_nad = reply_nad(blk.nad)
        if blk.seq != self.expect:
            if self.last is not None:
                self.chan.write(self.last)
            else:
                self.chan.write(r_block(answer_nad, self.expect, R_OTHER))
            return
        if not self.confirm.offer(blk):
            if len(self.confirm.copies) > MAX_COPIES:
                self.confirm.copies.clear()
            self.chan.write(r_block(answer_nad, blk.seq, R_OK))  # send that block again
            return
        self.confirm.good()
        self.expect ^= 1
        self.inbuf += blk.inf
        if blk.more:
            self._send(r_block(answer_nad, self.expect))
            return
        command, self.inbuf = bytes(self.inbuf), bytearray()
        self.out = []
        self.last = None
        try:
            out_nad, answer = self.handler(blk.nad, command)
        except Exception:  # a broken handler still answers, like a terminal reporting a fault
            log.exception("serial terminal: handling %s failed", command[:4].hex())
            out_nad, answer = NAD_TERMINAL_TO_HOST, SW.NO_DIAGNOSIS.to_bytes(2, "big")
        chunks = split_inf(answer)
        blocks = []
        for i, chunk in enumerate(chunks):
            blocks.append(i_block(out_nad, self.ns, chunk, more=i < len(chunks) - 1))
            self.ns ^= 1
        self.out = blocks[1:]
        self._send(blocks[0])

    def wtx(self, mult: int = 1, nad_: int = NAD_TERMINAL_TO_HOST, wait: float = 0.3) -> None:
        """Ask the host for `mult` more block waiting times; tolerate a lost answer."""
        self.chan.write(s_block(nad_, SType.WTX, inf=bytes((max(1, min(255, mult)),))))
        end = time.monotonic() + wait
        while time.monotonic() < end:
            try:
                got = self.chan.read(end - time.monotonic())
            except (BlockTimeout, BlockError):
                return
            if got.kind is Kind.S and got.stype is SType.WTX and got.response:
                return


__all__ = ["HostLink", "DeviceLink", "SerialLine", "Channel", "Line", "LineClosed", "BlockTimeout",
           "R_OK", "R_LRC", "R_OTHER"]
