"""CT-BCS-style terminal commands: exact bytes both ways, and the terminal's answers."""

from __future__ import annotations

import pytest
from serial_support import reader_on, terminal_with

from drivers.errors import CardError
from drivers.serial_t1 import terminal_commands as tc


def test_command_bytes_are_the_designs():
    assert tc.reset_ct() == bytes.fromhex("20110000")
    assert tc.request_icc() == bytes.fromhex("20120101")
    assert tc.request_icc(10) == bytes.fromhex("20120101010A")
    assert tc.get_status() == bytes.fromhex("20130080")
    assert tc.eject_icc() == bytes.fromhex("20150100")
    cmd = tc.perform_verification(0x00, 30)
    assert cmd[:5] == bytes.fromhex("2018010007") and cmd[5:] == bytes.fromhex("52050020 00001E")
    t = tc.parse_verification(cmd[5:])
    assert (t.cla, t.ins, t.p1, t.p2, t.timeout_s) == (0x00, 0x20, 0x00, 0x00, 30)


def test_answers_are_parsed_or_refused_clearly():
    assert tc.parse_status(bytes.fromhex("8001059000")) == 0x05
    assert tc.parse_request_icc(bytes.fromhex("3B6D00009001")) == bytes.fromhex("3B6D0000")
    with pytest.raises(CardError) as info:
        tc.parse_request_icc(bytes.fromhex("6200"))
    assert info.value.code == "no_card"
    for bad in ("9000", "80019000", "8101009000", "90"):
        with pytest.raises(CardError) as info:
            tc.parse_status(bytes.fromhex(bad))
        assert info.value.code == "malformed"
    with pytest.raises(CardError):
        tc.parse_verification(bytes.fromhex("53020020"))


def test_terminal_answers_on_the_line(state_dir, tmp_path):
    with terminal_with("zhang_wei", state_dir, tmp_path) as term, reader_on(term) as reader:
        link = reader.link
        assert link.transceive(0x12, tc.get_status()) == (0x21, bytes.fromhex("8001019000"))
        nad_, answer = link.transceive(0x12, tc.request_icc())
        assert nad_ == 0x21 and answer == term.card.atr + bytes.fromhex("9001")
        assert link.transceive(0x12, tc.get_status()) == (0x21, bytes.fromhex("8001059000"))
        assert link.transceive(0x02, bytes.fromhex("00A40400 0F 7378312E73682EC9E7BBE1B1A3D5CF")) == (
            0x20, bytes.fromhex("9000"))  # card APDUs come back from NAD 20 unchanged
        assert link.transceive(0x12, tc.eject_icc()) == (0x21, bytes.fromhex("9000"))
        assert link.transceive(0x12, tc.get_status()) == (0x21, bytes.fromhex("8001019000"))
        assert link.transceive(0x12, tc.reset_ct()) == (0x21, bytes.fromhex("9000"))
        assert link.transceive(0x12, bytes.fromhex("2099 0000"))[1] == bytes.fromhex("6D00")
        term.remove()
        assert link.transceive(0x12, tc.get_status()) == (0x21, bytes.fromhex("8001009000"))
        assert link.transceive(0x12, tc.request_icc()) == (0x21, bytes.fromhex("6200"))
