"""Property tests: every codec round-trips; random bytes give a parse, the project's own
CardError, or (into the card OS) an ISO status word - never another exception."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from card_helpers import psam
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers import atr, certno, codecs, summary_line, tlv
from drivers.apdu import CommandAPDU, ResponseAPDU
from drivers.card_data import CardInfo, Holder
from drivers.errors import MALFORMED, CardError
from drivers.reader import Reader
from drivers.ssse import read_card
from emulator import state
from emulator.card_os import DISPATCH
from emulator.card_os.security_cmds import _pin_digits
from emulator.profiles import load_card

fast = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
digits = st.text("0123456789", min_size=0, max_size=32)


# round trips -------------------------------------------------------------------
@fast
@given(digits)
def test_bcd_round_trip(s):
    assert codecs.bcd_digits(codecs.digits_to_bcd(s), pad_f=True) == s


@fast
@given(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_date_round_trip(d):
    assert codecs.bcd_date(codecs.date_to_bcd(d.isoformat())) == d.isoformat()


def _gb_encodable(s: str) -> bool:
    try:
        return s.encode("gb18030").decode("gb18030") == s
    except UnicodeError:
        return False


names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=12).map(
    lambda s: s.strip(" ")).filter(lambda s: _gb_encodable(s) and len(s.encode("gb18030")) <= 30)


@fast
@given(names)
def test_text_round_trip(name):
    assert codecs.text(codecs.encode_text(name, 30)) == name


@fast
@given(st.text("0123456789", min_size=4, max_size=16))
def test_pin_block_round_trip_through_the_card(pin):
    assert _pin_digits(codecs.pin_block(pin)) == pin


@fast
@given(st.integers(0, 255), st.binary(max_size=400))
def test_tlv_round_trip(tag, value):
    item = tlv.TLV(tag, value)
    assert tlv.parse_record(item.to_bytes() + b"\xff") == item


@fast
@given(st.lists(st.tuples(st.integers(1, 254), st.binary(max_size=300)), max_size=5))
def test_tlv_parse_all_round_trip(items):
    tlvs = [tlv.TLV(t, v) for t, v in items]
    assert tlv.parse_all(b"".join(x.to_bytes() for x in tlvs) + b"\x00\x00") == tlvs


@st.composite
def commands(draw):
    extended = draw(st.booleans())
    data = draw(st.binary(max_size=300 if extended else 255))
    le = draw(st.none() | st.integers(1, 65536 if extended else 256))
    b = st.integers(0, 255)
    return CommandAPDU(draw(b), draw(b), draw(b), draw(b), data, le, extended)


@fast
@given(commands())
def test_command_apdu_round_trip(cmd):
    raw = cmd.to_bytes()
    back = CommandAPDU.from_bytes(raw)
    assert (back.cla, back.ins, back.p1, back.p2, back.data, back.le) == \
        (cmd.cla, cmd.ins, cmd.p1, cmd.p2, cmd.data, cmd.le)
    assert back.to_bytes() == raw


@fast
@given(st.binary(max_size=300), st.integers(0, 0xFFFF))
def test_response_apdu_round_trip(data, sw):
    r = ResponseAPDU(data, sw)
    assert ResponseAPDU.from_bytes(r.to_bytes()) == r


@fast
@given(st.text("0123456789", min_size=17, max_size=17))
def test_certno_check_digit(first17):
    number = first17 + certno.check_digit(first17)
    assert certno.is_valid(number) and "check digit" not in (certno.problem(number) or "")  # dates are random
    wrong = first17 + ("0" if number[-1] != "0" else "1")
    assert not certno.is_valid(wrong)
    assert certno.mask(number)[:6] == number[:6] and certno.mask(number)[-4:] == number[-4:]
    assert set(certno.mask(number)[6:-4]) == {"*"}


@fast
@given(st.text("0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_the_importers_fast_id_check_agrees_with_the_full_one(first17, last):
    """The bulk importer's ID-number check (drivers.certno.shaped_ok) is the full one, faster: the same answer
    for every number of the shape, with or without birth dates remembered."""
    number = first17 + last
    births: set[str] = set()
    assert certno.shaped_ok(number) == (certno.problem(number) is None)
    assert certno.shaped_ok(number, births) == certno.shaped_ok(number, births) == (certno.problem(number) is None)
    assert births <= {number[6:14]}


field_text = st.text(st.characters(blacklist_characters="|\r\n", blacklist_categories=("Cs",)), max_size=20)


@fast
@given(st.lists(field_text, min_size=11, max_size=11))
def test_summary_line_round_trip(values):
    v = dict(zip(summary_line.FIELDS, values))
    card = CardInfo(card_sn=v["region"] + v["card_sn"], card_type="", version=v["version"], issuer="",
                    issue_date=v["issue_date"], expiry_date=v["expiry_date"], card_no=v["card_no"])
    holder = Holder(certno=v["certno"], name=v["name"], name_ext="", gend="", naty="", birthplace="", brdy="")
    line = summary_line.build_line(b"", card, holder, v["terminal_no"], v["device_no"])
    parsed = summary_line.parse_line(line)
    assert line.endswith("|") and line.count("|") == 11
    assert parsed["certno"] == v["certno"] and parsed["name"] == v["name"]
    assert parsed["device_no"] == v["device_no"]


# random bytes ----------------------------------------------------------------------
PARSERS = [
    CommandAPDU.from_bytes, ResponseAPDU.from_bytes, tlv.parse_record, tlv.parse_all,
    codecs.bcd_digits, codecs.bcd_date, codecs.text, codecs.ascii_text, atr.historical_bytes,
    lambda raw: codecs.bcd_digits(raw, pad_f=True),
]


@fast
@given(st.binary(max_size=80))
def test_random_bytes_into_parsers(raw):
    for parse in PARSERS:
        try:
            parse(raw)
        except CardError:
            pass


@fast
@given(st.text(max_size=200))
def test_random_lines_parse(line):
    assert set(summary_line.parse_line(line)) == set(summary_line.FIELDS)


_CARD = load_card("li_na", None)


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_into_the_card_os(raw):
    resp = _CARD.process(raw)
    assert len(resp) >= 2
    assert resp[-2] in (0x61, 0x62, 0x63, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x90)


@st.composite
def card_commands(draw):
    ins = draw(st.sampled_from(sorted(DISPATCH)))
    body = draw(st.binary(max_size=40))
    head = bytes((draw(st.sampled_from([0x00, 0x00, 0x00, 0x80])), ins,
                  draw(st.integers(0, 255)), draw(st.integers(0, 255))))
    return head + body


@settings(max_examples=1500, deadline=None)
@given(st.lists(card_commands(), min_size=1, max_size=8))
def test_command_sequences_into_the_card_os(cmds):
    # a fresh card each time, its PIN hashed with one PBKDF2 round instead of 20,000 (the same code, the same
    # answers; each load and VERIFY took 9 ms of CPU, most of this test's 25 s)
    with mock.patch.object(state, "_ITERATIONS", 1):
        card = load_card("li_na", None)
        for raw in [bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF"), *cmds]:
            resp = card.process(raw)
            assert len(resp) >= 2
            assert int.from_bytes(resp[-2:], "big") != 0x6F00  # 6F00 = a handler crashed


class RandomCard(Reader):
    """A 'card' answering with random bytes: the drivers must fail with CardError only."""

    def __init__(self, responses: list[bytes]) -> None:
        super().__init__()
        self.responses = responses

    def connect(self) -> bytes:
        return bytes.fromhex("3B6D0000008C544CB386844116018593CA")

    def disconnect(self) -> None:
        pass

    @property
    def atr(self) -> bytes:
        return self.connect()

    def card_present(self) -> bool:
        return True

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if not self.responses:
            return b"", 0x9000
        raw = self.responses.pop(0)
        if len(raw) < 2:
            raise CardError(MALFORMED)
        return raw[:-2], int.from_bytes(raw[-2:], "big")


responses = st.one_of(
    st.binary(min_size=2, max_size=40),
    st.builds(lambda d, sw: d + sw, st.binary(max_size=40), st.sampled_from(
        [b"\x90\x00", b"\x61\x05", b"\x6C\x03", b"\x69\x82", b"\x6A\x83", b"\x63\xC1"])),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(responses, max_size=30))
def test_random_card_answers_into_the_drivers(answers):
    try:
        read_card(RandomCard(list(answers)), psam())
    except CardError:
        pass
