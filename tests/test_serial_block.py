"""The serial block codec: exact bytes, and property tests (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import CardError
from drivers.serial_t1.block import (
    NAD_CARD_TO_HOST, NAD_HOST_TO_CARD, NAD_HOST_TO_TERMINAL, NAD_TERMINAL_TO_HOST, R_LRC, R_OTHER,
    Block, BlockError, Kind, SType, decode, i_block, lrc, nad, r_block, reply_nad, s_block, split_inf,
)


def test_addresses_are_the_designs():
    assert (NAD_HOST_TO_TERMINAL, NAD_TERMINAL_TO_HOST, NAD_HOST_TO_CARD, NAD_CARD_TO_HOST) == (0x12, 0x21, 0x02, 0x20)
    assert nad(1, 2) == 0x12 and reply_nad(0x12) == 0x21 and reply_nad(0x02) == 0x20


def test_get_status_in_an_i_block_exact_bytes():
    raw = i_block(0x12, 0, bytes.fromhex("20130080")).encode()
    assert raw == bytes.fromhex("12 00 04 20 13 00 80") + bytes((0x12 ^ 0x04 ^ 0x20 ^ 0x13 ^ 0x80,))
    assert raw[-1] == lrc(raw[:-1])


@pytest.mark.parametrize("blk, pcb", [
    (i_block(0x12, 0, b"x"), 0x00),
    (i_block(0x12, 1, b"x"), 0x40),
    (i_block(0x12, 0, b"x", more=True), 0x20),
    (i_block(0x12, 1, b"x", more=True), 0x60),
    (r_block(0x12, 0), 0x80),
    (r_block(0x12, 1), 0x90),
    (r_block(0x12, 0, R_LRC), 0x81),
    (r_block(0x12, 1, R_OTHER), 0x92),
    (s_block(0x12, SType.RESYNCH), 0xC0),
    (s_block(0x21, SType.RESYNCH, response=True), 0xE0),
    (s_block(0x12, SType.IFS, inf=b"\xfe"), 0xC1),
    (s_block(0x21, SType.IFS, response=True, inf=b"\xfe"), 0xE1),
    (s_block(0x12, SType.ABORT), 0xC2),
    (s_block(0x21, SType.ABORT, response=True), 0xE2),
    (s_block(0x21, SType.WTX, inf=b"\x02"), 0xC3),
    (s_block(0x12, SType.WTX, response=True, inf=b"\x02"), 0xE3),
])
def test_pcb_values(blk: Block, pcb: int):
    raw = blk.encode()
    assert raw[1] == pcb
    assert decode(raw) == blk


def test_bad_lrc_is_a_block_error_that_says_so():
    raw = bytearray(i_block(0x02, 0, bytes.fromhex("00A4040000")).encode())
    raw[4] ^= 0x10
    with pytest.raises(BlockError) as info:
        decode(bytes(raw))
    assert info.value.lrc and "LRC" in info.value.message
    assert isinstance(info.value, CardError) and info.value.code == "malformed"


@pytest.mark.parametrize("raw, why", [
    ("120004", "at least 4"),
    ("12 00 FF" + "00" * 256, "over 254"),
    ("12 00 02 AA BB", "LEN 2 but 1"),
    ("12 01 00 13", "reserved"),           # I-block with a low bit set
    ("12 A0 00 B2", "not defined"),        # R-block with bit 6 set
    ("12 83 00 91", "not defined"),        # R-block EE = 11
    ("12 C4 00 D6", "not defined"),        # S-block type 4
    ("12 80 01 00 93", "no INF"),          # R-block carrying data
    ("21 C3 00 E2", "one byte"),           # WTX without its multiplier
])
def test_malformed_blocks(raw: str, why: str):
    data = bytes.fromhex(raw)
    if why != "at least 4" and "LRC" not in why:
        data = data[:-1] + bytes((lrc(data[:-1]),))  # a valid LRC: the codec must see the real fault
    with pytest.raises(BlockError, match=why):
        decode(data)


def test_too_much_inf_is_refused_when_building():
    with pytest.raises(ValueError):
        i_block(0x12, 0, bytes(255))


def test_split_inf_for_chaining():
    assert split_inf(b"") == [b""]
    parts = split_inf(bytes(range(256)) * 3)
    assert [len(p) for p in parts] == [254, 254, 254, 6]
    assert b"".join(parts) == bytes(range(256)) * 3


blocks = st.one_of(
    st.builds(i_block, st.integers(0, 255), st.integers(0, 1), st.binary(max_size=254), st.booleans()),
    st.builds(r_block, st.integers(0, 255), st.integers(0, 1), st.sampled_from([0, 1, 2])),
    st.builds(lambda n, t, resp, b: s_block(n, t, resp, bytes([b]) if t in (SType.IFS, SType.WTX) else b""),
              st.integers(0, 255), st.sampled_from(list(SType)), st.booleans(), st.integers(0, 255)),
)


@given(blocks)
@settings(max_examples=400)
def test_round_trip(blk: Block):
    raw = blk.encode()
    assert len(raw) == 4 + len(blk.inf) and raw[2] == len(blk.inf)
    assert decode(raw) == blk
    assert decode(raw).encode() == raw


@given(st.binary(max_size=300))
@settings(max_examples=1000)
def test_random_bytes_decode_to_a_block_or_the_codecs_error(raw: bytes):
    try:
        blk = decode(raw)
    except BlockError:
        return
    assert blk.encode() == raw  # anything accepted is exactly one valid block


@given(blocks, st.integers(0, 7), st.data())
@settings(max_examples=400)
def test_any_single_bit_flip_is_caught(blk: Block, bit: int, data):
    raw = bytearray(blk.encode())
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= 1 << bit
    with pytest.raises(BlockError):
        decode(bytes(raw))


def test_kind_of_decoded_blocks():
    assert decode(r_block(0x21, 1, R_LRC).encode()).kind is Kind.R
    assert decode(s_block(0x21, SType.WTX, inf=b"\x01").encode()).stype is SType.WTX
