"""APDU codec (short and extended), the exchange rules (61xx, 6Cxx) and the redacted trace."""

from __future__ import annotations

import logging

import pytest
from card_helpers import SELECT_SSSE, tx

from drivers.apdu import CommandAPDU, ResponseAPDU, Trace, exchange, redacted_hex
from drivers.errors import CardError
from emulator.inprocess import InProcessReader
from emulator.profiles import load_card


@pytest.mark.parametrize("cmd, hexs", [
    (CommandAPDU(0x00, 0xA4, 0x00, 0x00), "00A40000"),                                  # case 1
    (CommandAPDU(0x00, 0x84, 0x00, 0x00, le=8), "0084000008"),                          # case 2
    (CommandAPDU(0x00, 0xB2, 0x08, 0x00, le=256), "00B2080000"),                        # Le 256 -> 00
    (CommandAPDU(0x00, 0xA4, 0x02, 0x00, b"\xEF\x05"), "00A4020002EF05"),               # case 3
    (CommandAPDU(0x00, 0x88, 0x00, 0x00, bytes(16), le=256), "0088000010" + "00" * 16 + "00"),  # case 4
    (CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=65536), "00B00000000000"),                  # extended Le
    (CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=300), "00B0000000012C"),
    (CommandAPDU(0x00, 0xD6, 0x00, 0x00, bytes(300)), "00D6000000012C" + "00" * 300),
    (CommandAPDU(0x00, 0xD6, 0x00, 0x00, bytes(300), le=2), "00D6000000012C" + "00" * 300 + "0002"),
])
def test_encode_decode(cmd, hexs):
    assert cmd.to_bytes().hex().upper() == hexs.upper()
    back = CommandAPDU.from_bytes(bytes.fromhex(hexs))
    assert (back.cla, back.ins, back.p1, back.p2, back.data, back.le) == \
        (cmd.cla, cmd.ins, cmd.p1, cmd.p2, cmd.data, cmd.le)


@pytest.mark.parametrize("hexs", ["", "00A404", "00A4040005010203", "00A404000001", "00A4040000000001",
                                  "00A4040000000301", "00A404000000"])
def test_malformed_commands(hexs):
    with pytest.raises(CardError) as e:
        CommandAPDU.from_bytes(bytes.fromhex(hexs))
    assert e.value.code == "bad_apdu"


def test_field_ranges():
    with pytest.raises(CardError):
        CommandAPDU(0x100, 0, 0, 0)
    with pytest.raises(CardError):
        CommandAPDU(0, 0, 0, 0, le=70000)


def test_response():
    r = ResponseAPDU.from_bytes(bytes.fromhex("01029000"))
    assert (r.data, r.sw, r.sw1, r.sw2, r.ok) == (b"\x01\x02", 0x9000, 0x90, 0x00, True)
    assert r.to_bytes() == bytes.fromhex("01029000")
    with pytest.raises(CardError) as e:
        ResponseAPDU.from_bytes(b"\x90")
    assert e.value.code == "malformed"


def test_redaction():
    assert redacted_hex(bytes.fromhex("0020000003123456")) == "00 20 00 00 03 ** ** **"
    assert redacted_hex(bytes.fromhex("00240000071234 56FF654321".replace(" ", ""))) == \
        "00 24 00 00 07 " + " ".join(["**"] * 7)
    assert redacted_hex(bytes.fromhex("00200000")) == "00 20 00 00"
    assert redacted_hex(bytes.fromhex("00B2080000")) == "00 B2 08 00 00"


def test_trace_and_log_never_hold_the_pin(state_dir, caplog):
    r = InProcessReader(load_card("zhang_wei", state_dir))
    trace = Trace()
    caplog.set_level(logging.DEBUG, logger="cashier.apdu")
    exchange(r, CommandAPDU.from_bytes(bytes.fromhex(SELECT_SSSE.replace(" ", ""))), trace)
    exchange(r, CommandAPDU(0x00, 0x20, 0x00, 0x00, bytes.fromhex("123456")), trace)
    text = "\n".join(trace.lines) + caplog.text
    assert "12 34 56" not in text and "123456" not in text
    assert trace.lines[-2] == "> 00 20 00 00 03 ** ** **" and trace.lines[-1] == "< 9000"


def test_exchange_follows_61_and_6c(state_dir):
    r = InProcessReader(load_card("zhang_wei", state_dir, get_response=True, exact_le=True))
    trace = Trace()
    tx(r, SELECT_SSSE)
    resp = exchange(r, CommandAPDU(0x00, 0xB2, 0x07, 0x2C, le=256), trace)
    assert (resp.data, resp.sw) == (b"\x07\x09A10000001", 0x9000)
    assert trace.lines == ["> 00 B2 07 2C 00", "< 610B", "> 00 C0 00 00 0B", "< 07 09 41 31 30 30 30 30 30 30 31 9000"]
    r2 = InProcessReader(load_card("zhang_wei", state_dir, exact_le=True))
    tx(r2, SELECT_SSSE)
    trace = Trace()
    resp = exchange(r2, CommandAPDU(0x00, 0xB2, 0x07, 0x2C, le=256), trace)
    assert resp.data == b"\x07\x09A10000001"
    assert trace.lines[:3] == ["> 00 B2 07 2C 00", "< 6C0B", "> 00 B2 07 2C 0B"]


def test_exchange_gives_up_on_endless_61(state_dir):
    class Endless(InProcessReader):
        def transmit(self, apdu: bytes) -> tuple[bytes, int]:
            return b"\x00", 0x6101

    with pytest.raises(CardError) as e:
        exchange(Endless(None), CommandAPDU(0, 0xB2, 1, 4, le=256))
    assert e.value.code == "malformed"
