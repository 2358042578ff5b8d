"""The vpcd card side against a stand-in vpcd (a local TCP listener): framing, control codes, timing.

No pcscd needed: these run everywhere and pin the wire protocol (a 2-byte length, then control code or APDU) byte for byte.
"""

from __future__ import annotations

import socket
import struct
import time

import pytest

from emulator.vpcd import VpcdCardSide, answer, reader_name

HOST = "127.0.0.1"


class TinyCard:
    """Enough of a card for the wire: records power changes, echoes APDUs with 90 00."""

    atr = bytes.fromhex("3B6D0000008C544CB386844116018593CA")

    def __init__(self) -> None:
        self.events: list[str] = []

    def power_on(self) -> bytes:
        self.events.append("on")
        return self.atr

    def power_off(self) -> None:
        self.events.append("off")

    def process(self, apdu: bytes) -> bytes:
        self.events.append(apdu.hex())
        return apdu[1:2] * 300 + b"\x90\x00"  # a long answer: 302 bytes needs the 2-byte length


class FakeVpcd:
    """The driver side: accepts the card, sends messages in awkward pieces, reads answers."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((HOST, 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self, timeout: float = 5.0) -> socket.socket:
        self.server.settimeout(timeout)
        self.conn, _ = self.server.accept()
        self.conn.settimeout(timeout)
        return self.conn

    def send_split(self, payload: bytes) -> None:
        """Length and payload in separate writes, the payload one byte at a time (like a slow vpcd)."""
        assert self.conn is not None
        self.conn.sendall(struct.pack("!H", len(payload)))
        for b in payload:
            self.conn.sendall(bytes([b]))
            time.sleep(0.0005)

    def read_reply(self) -> bytes:
        assert self.conn is not None
        head = self._exact(2)
        return self._exact(struct.unpack("!H", head)[0])

    def _exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.conn.recv(n - len(buf))
            assert chunk, "card side closed"
            buf += chunk
        return buf

    def close(self) -> None:
        if self.conn:
            self.conn.close()
        self.server.close()


@pytest.fixture
def fake():
    f = FakeVpcd()
    yield f
    f.close()


def test_reader_names_follow_the_slot():
    assert reader_name(0) == "Virtual PCD 00 00"
    assert reader_name(1) == "Virtual PCD 00 01"
    with pytest.raises(ValueError):
        VpcdCardSide(2)


def test_control_codes_and_apdus(fake: FakeVpcd):
    card = TinyCard()
    with VpcdCardSide(0, host=HOST, port=fake.port) as side:
        assert side.insert(card, wait=None)
        conn = fake.accept()
        assert conn.getsockname()[1] == fake.port
        fake.send_split(b"\x04")                       # GET ATR
        assert fake.read_reply() == card.atr
        fake.send_split(b"\x01")                       # power on: no reply
        fake.send_split(b"\x00")                       # power off: no reply
        fake.send_split(b"\x02")                       # reset: no reply
        apdu = bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")
        fake.send_split(apdu)
        reply = fake.read_reply()
        assert len(reply) == 302 and reply[-2:] == b"\x90\x00" and reply[0] == 0xA4
        assert card.events == ["on", "off", "off", "on", apdu.hex()]


def test_card_side_sets_nodelay(fake: FakeVpcd):
    with VpcdCardSide(0, host=HOST, port=fake.port) as side:
        assert side.insert(TinyCard())                 # True once connected
        fake.accept()
        sock = side._sock
        assert sock is not None and sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_connect_retries_while_refused():
    probe = socket.socket()
    probe.bind((HOST, 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens: connections are refused
    with VpcdCardSide(0, host=HOST, port=port) as side:
        side.insert(TinyCard(), wait=None)
        assert side.wait_until(lambda s: s.refused >= 3, timeout=5.0)   # refused, and tried again
        assert not side.connected
        late = socket.socket()
        late.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        late.bind((HOST, port))
        late.listen(1)
        late.settimeout(5)
        conn, _ = late.accept()  # the retry loop found us
        conn.close()
        late.close()


def test_remove_closes_and_reinsert_keeps_the_gap(fake: FakeVpcd):
    with VpcdCardSide(0, host=HOST, port=fake.port, reinsert_gap=0.6) as side:
        side.insert(TinyCard())
        conn = fake.accept()
        side.remove()
        conn.settimeout(2)
        assert conn.recv(10) == b""                    # removal = the connection closes
        removed = time.monotonic()
        side.insert(TinyCard())
        fake.accept()
        assert time.monotonic() - removed >= 0.55      # slot kept empty long enough for pcscd to notice


def test_a_removal_pcscd_has_seen_needs_no_gap(fake: FakeVpcd):
    with VpcdCardSide(0, host=HOST, port=fake.port, reinsert_gap=5.0) as side:
        side.insert(TinyCard())
        fake.accept()
        side.remove()
        side.removal_seen()                            # the reader side saw the slot empty
        removed = time.monotonic()
        side.insert(TinyCard(), wait=None)
        fake.accept()
        assert time.monotonic() - removed < 2.0        # not the 5 s gap


def test_stop_ends_the_thread_even_while_refused():
    probe = socket.socket()
    probe.bind((HOST, 0))
    port = probe.getsockname()[1]
    probe.close()
    side = VpcdCardSide(1, host=HOST, port=port).start()
    side.insert(TinyCard(), wait=None)
    thread = side._thread
    t0 = time.monotonic()
    side.stop()
    assert thread is not None and not thread.is_alive()
    assert time.monotonic() - t0 < 2


def test_a_failing_card_still_answers():
    class Broken(TinyCard):
        def process(self, apdu: bytes) -> bytes:
            raise RuntimeError("bug")

    assert answer(Broken(), b"\x00\xA4\x00\x00") == b"\x6F\x00"
    assert answer(Broken(), b"\x09") is None           # unknown control code: ignored, no reply


def test_peer_closing_mid_message_is_a_removal(fake: FakeVpcd):
    with VpcdCardSide(0, host=HOST, port=fake.port) as side:
        side.insert(TinyCard())
        conn = fake.accept()
        conn.sendall(b"\x00\x10\x00\xA4")              # announces 16 bytes, sends 2, goes away
        conn.close()
        side.wait_until(lambda s: not s.connected, timeout=2.0)
        assert not side.connected
