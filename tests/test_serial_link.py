"""The T=1 link over a real pty: chaining both ways, retransmission, RESYNCH, WTX, bounds."""

from __future__ import annotations

import os
import random
import time

import pytest
import serial

from drivers.errors import CardError
from drivers.serial_t1.block import Kind, decode
from drivers.serial_t1.link import HostLink, SerialLine
from emulator.serial_terminal import INS_ECHO, LineFaults, SerialTerminal

ECHO = bytes((0x20, INS_ECHO, 0x00, 0x00))


def open_host(term: SerialTerminal, trace=None, **options) -> tuple[HostLink, serial.Serial]:
    port = serial.serial_for_url(term.path, timeout=1)
    link = HostLink(SerialLine(port, term.path), trace=trace, **options)
    link.start()
    return link, port


@pytest.fixture
def term(tmp_path):
    t = SerialTerminal(None, tmp_path / "tty").start()
    yield t
    t.stop()


def echo(link: HostLink, payload: bytes) -> bytes:
    nad_, answer = link.transceive(0x12, ECHO + payload)
    assert nad_ == 0x21 and answer[-2:] == b"\x90\x00"
    return answer[:-2]


@pytest.mark.parametrize("size", [0, 1, 250, 251, 254, 600, 1000, 4000])
def test_chaining_both_ways_returns_exactly_the_payload(term, size):
    blocks = []
    term.device.confirm.mode = "never"  # exact blocks: no second copies on a clean line
    link, port = open_host(term, trace=lambda d, b: blocks.append((d, b)), confirm="never")
    payload = random.Random(size).randbytes(size)
    try:
        assert echo(link, payload) == payload
    finally:
        port.close()
    sent_i = [b for d, b in blocks if d == ">" and b.kind is Kind.I]
    got_i = [b for d, b in blocks if d == "<" and b.kind is Kind.I]
    assert all(len(b.inf) <= 254 for b in sent_i + got_i)
    assert [b.more for b in sent_i] == [True] * ((len(ECHO) + size - 1) // 254) + [False]
    assert [b.more for b in got_i] == [True] * ((size + 2 - 1) // 254) + [False]
    # sequence bits alternate on each side
    assert [b.seq for b in sent_i] == [i % 2 for i in range(len(sent_i))]


def test_a_chained_answer_block_is_i_m_fe_on_the_wire(term):
    port = serial.serial_for_url(term.path, timeout=1)
    HostLink(SerialLine(port, term.path), confirm="never").start()
    term.device.confirm.mode = "never"
    cmd = bytes.fromhex("20EC012C")  # 300 pattern bytes back
    port.write(bytes.fromhex("12 00") + bytes((len(cmd),)) + cmd + bytes((0x12 ^ len(cmd) ^ _xor(cmd),)))
    first = _read_block(port)
    assert first[:3] == bytes((0x21, 0x20, 0xFE)) and len(first) == 258  # I(0, M), 254 bytes
    port.write(bytes((0x12, 0x90, 0x00, 0x12 ^ 0x90)))  # R(1): next please
    second = _read_block(port)
    assert second[:3] == bytes((0x21, 0x40, 302 - 254))  # I(1), the rest
    assert decode(first).inf + decode(second).inf == bytes(i & 0xFF for i in range(300)) + b"\x90\x00"
    port.close()


def _xor(data: bytes) -> int:
    x = 0
    for b in data:
        x ^= b
    return x


def _read_block(port) -> bytes:
    head = port.read(3)
    return head + port.read(head[2] + 1)


@pytest.mark.parametrize("seed, drop", [(0, 0.0), (1, 0.01)])
def test_noisy_line_gives_exact_data_or_a_clear_error(tmp_path, seed, drop):
    """5% of bytes get a bit flipped (and 1% lost), both ways: every answer is exactly right or a LINE_ERROR."""
    outcomes = {"ok": 0, "line_error": 0}
    with SerialTerminal(None, tmp_path / "tty", LineFaults(flip_rate=0.05, drop_rate=drop, seed=seed)) as t:
        link, port = open_host(t, timeout=5.0, bwt=0.3)
        rng = random.Random(seed)
        try:
            for i in range(60):
                payload = rng.randbytes(rng.choice([1, 8, 20, 40, 300] if i % 10 == 0 else [1, 8, 20, 40]))
                try:
                    assert echo(link, payload) == payload
                    outcomes["ok"] += 1
                except CardError as exc:
                    assert exc.code == "line_error", exc.message
                    assert "keeps failing" in exc.message
                    outcomes["line_error"] += 1
        finally:
            port.close()
    assert outcomes["ok"] >= 5, outcomes  # the link does recover on a bad line


def test_dropped_bytes_are_recovered(tmp_path):
    with SerialTerminal(None, tmp_path / "tty", LineFaults(drop_rate=0.01, seed=3)) as t:
        link, port = open_host(t)
        try:
            for n in (10, 100, 600):
                payload = bytes(range(256))[:n] if n < 256 else os.urandom(n)
                try:
                    assert echo(link, payload) == payload
                except CardError as exc:
                    assert exc.code == "line_error"
        finally:
            port.close()
        assert link.stats["retransmits"] > 0


def test_wtx_keeps_the_host_waiting_through_a_stall(tmp_path):
    """The terminal stalls 2.5 s on a card command, asking for WTX; a 1 s BWT host still gets the answer."""
    from emulator.profiles import load_card
    card = load_card("zhang_wei", tmp_path)
    with SerialTerminal(card, tmp_path / "tty", LineFaults(stall_s=2.5)) as t:
        link, port = open_host(t, timeout=1.0, bwt=1.0)
        try:
            link.transceive(0x12, bytes.fromhex("20120101"))
            start = time.monotonic()
            nad_, answer = link.transceive(0x02, bytes.fromhex("00A40400 0F 7378312E73682EC9E7BBE1B1A3D5CF"))
            assert nad_ == 0x20 and answer[-2:] == b"\x90\x00"
            assert time.monotonic() - start >= 2.4
            assert link.stats["wtx"] >= 3
        finally:
            port.close()


def test_silent_terminal_is_a_clear_bounded_error(tmp_path):
    """Nobody serves the pty: the host gives up within its timeout, with a clear error."""
    t = SerialTerminal(None, tmp_path / "tty")  # not started
    port = serial.serial_for_url(t.path, timeout=1)
    link = HostLink(SerialLine(port, t.path), timeout=1.5, bwt=0.3)
    start = time.monotonic()
    with pytest.raises(CardError) as info:
        link.transceive(0x12, bytes.fromhex("20130080"))
    assert time.monotonic() - start < 3.0
    assert info.value.code in ("line_error", "timeout")
    port.close()
    t.stop()


def test_resynch_resets_a_terminal_left_mid_sequence(term):
    """A second host on the same terminal starts with RESYNCH and works at once."""
    link, port = open_host(term)
    echo(link, b"abc")
    port.close()
    link2, port2 = open_host(term)
    try:
        assert echo(link2, b"xyz") == b"xyz"
        assert link2.stats["retransmits"] == 0
    finally:
        port2.close()


def test_closed_pty_is_a_clear_error_not_a_hang(term):
    link, port = open_host(term)
    echo(link, b"1")
    term.unplug()
    start = time.monotonic()
    with pytest.raises(CardError) as info:
        echo(link, b"2")
    assert time.monotonic() - start < 2.0
    assert info.value.code in ("reader_error", "line_error")
    port.close()


def test_simulated_line_speed_holds_bytes_for_their_time(tmp_path):
    """At 9600 baud an exchange takes at least its bytes × 10 bits ÷ 9600 (and not wildly more)."""
    with SerialTerminal(None, tmp_path / "tty", LineFaults.at_baud(9600)) as t:
        link, port = open_host(t)
        try:
            echo(link, b"warm")
            before = link.chan.bytes_out + link.chan.bytes_in
            start = time.monotonic()
            assert echo(link, bytes(200)) == bytes(200)
            elapsed = time.monotonic() - start
            floor = (link.chan.bytes_out + link.chan.bytes_in - before) * 10 / 9600
        finally:
            port.close()
    assert floor * 0.98 <= elapsed < floor * 2 + 0.1, (elapsed, floor)
