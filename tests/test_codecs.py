"""Decoding the card's bytes: BCD, dates, GBK/GB18030 text, ID numbers, TLV, ATR, the summary line."""

from __future__ import annotations

import pytest
from card_helpers import PROFILE_IDS, profile

from drivers import atr, certno, codecs, summary_line, tlv
from drivers.card_data import CardInfo, Holder
from drivers.errors import CardError


def test_bcd():
    assert codecs.bcd_digits(bytes.fromhex("410102")) == "410102"
    assert codecs.bcd_digits(bytes.fromhex("12345F"), pad_f=True) == "12345"
    assert codecs.digits_to_bcd("12345") == bytes.fromhex("12345F")
    assert codecs.digits_to_bcd("4101", 3) == bytes.fromhex("4101FF")
    with pytest.raises(CardError):
        codecs.bcd_digits(bytes.fromhex("1A"))
    with pytest.raises(ValueError):
        codecs.digits_to_bcd("12a")


def test_dates():
    assert codecs.bcd_date(bytes.fromhex("20311202")) == "2031-12-02"
    assert codecs.bcd_date(b"\x00" * 4) == "" and codecs.bcd_date(b"\xff" * 4) == ""
    assert codecs.date_to_bcd("1978-05-12") == bytes.fromhex("19780512")
    assert codecs.compact_date("2021-12-03") == "20211203"
    for bad in ("20211332", "202112", "2021AB01"):  # no 32nd of December; 3 bytes; not BCD
        with pytest.raises(CardError):
            codecs.bcd_date(bytes.fromhex(bad))


def test_text_gbk_and_rare_characters():
    assert codecs.text("张伟".encode("gbk") + b"\x00" * 26) == "张伟"
    assert codecs.text("张伟".encode("gbk") + b"\x20" * 26) == "张伟"
    assert codecs.text("张伟".encode("gbk") + b"\xff" * 26) == "张伟"
    rare = codecs.encode_text("陈𬌗", 30)
    assert len(rare) == 30 and rare[2:6] == "𬌗".encode("gb18030") and len("𬌗".encode("gb18030")) == 4
    assert codecs.text(rare) == "陈𬌗"
    with pytest.raises(ValueError):
        codecs.encode_text("长" * 16, 30)
    with pytest.raises(CardError):
        codecs.text(b"\x81\x00")  # a lone lead byte
    assert codecs.ascii_text(b"3.00") == "3.00"
    with pytest.raises(CardError):
        codecs.ascii_text(b"\x80")


def test_pin_block():
    assert codecs.pin_block("123456") == bytes.fromhex("123456")
    assert codecs.pin_block("12345") == bytes.fromhex("12345F")
    for bad in ("123", "1" * 17, "12a4", "١٢٣٤", ""):
        with pytest.raises(CardError) as e:
            codecs.pin_block(bad)
        assert e.value.code == "pin_invalid"


@pytest.mark.parametrize("pid", PROFILE_IDS)
def test_cast_id_numbers_are_valid(pid):
    assert certno.is_valid(profile(pid)["holder"]["certno"])


def test_certno():
    assert certno.check_digit("41010519800923682") == "X"
    assert certno.is_valid("41010519800923682x")
    assert not certno.is_valid("410105198009236821")
    assert certno.problem("410105198009236821") == "check digit should be X, not 1"
    assert certno.problem("4101") == "an ID number has 18 characters"
    assert certno.problem("41010519800923682Y") == "an ID number is 17 digits and a digit or X"
    assert certno.mask("41010519800923682X") == "410105********682X"
    assert certno.mask("") == "" and certno.mask("12345") == "*****"


def test_tlv():
    rec = tlv.parse_record(bytes.fromhex("0704") + b"ABCD" + b"\xff\xff")
    assert rec == tlv.TLV(7, b"ABCD")
    assert tlv.TLV(1, bytes(200)).to_bytes()[:3] == b"\x01\x81\xc8"
    assert tlv.parse_record(tlv.TLV(1, bytes(300)).to_bytes()).value == bytes(300)
    assert tlv.parse_all(bytes.fromhex("0101AA0202BBCC00FF")) == [tlv.TLV(1, b"\xaa"), tlv.TLV(2, b"\xbb\xcc")]
    assert tlv.parse_all(bytes.fromhex("01810141")) == [tlv.TLV(1, b"A")]  # long form of a short length
    for bad in ("07", "0705414243", "0781", "078200", "0790"):
        with pytest.raises(CardError):
            tlv.parse_record(bytes.fromhex(bad))


def test_atr_historical_bytes():
    assert atr.historical_bytes(bytes.fromhex("3B6D0000008C544CB386844116018593CA")).hex().upper() == \
        "008C544CB386844116018593CA"
    # TD1 and TD2 present: 3B 8F 80 01 + 15 historical bytes + TCK
    hist = bytes(range(1, 16))
    assert atr.historical_bytes(bytes.fromhex("3B8F8001") + hist + b"\x00") == hist
    assert atr.historical_bytes(b"") == b"" and atr.historical_bytes(b"\x3b") == b""


def _card(**kw) -> CardInfo:
    base = dict(card_sn="411600D156000005C38275EEFC9B9648", card_type="33", version="3.00",
                issuer="411600000000000000000000", issue_date="2021-12-03", expiry_date="2031-12-02", card_no="")
    base.update(kw)
    return CardInfo(**base)


def test_summary_line_matches_the_spec_example():
    holder = Holder(certno="", name="", name_ext="", gend="", naty="", birthplace="", brdy="")
    line = summary_line.build_line(bytes.fromhex("3B6D0000008C544CB386844116018593CA"), _card(), holder)
    assert line == "411600|||411600D156000005C38275EEFC9B9648||008C544CB386844116018593CA|3.00|20211203|20311202|||"
    assert line.count("|") == 11
    fields = summary_line.parse_line(line)
    assert fields["region"] == "411600" and fields["version"] == "3.00" and fields["terminal_no"] == ""


def test_summary_line_terminal_numbers_and_no_stray_bars():
    holder = Holder(certno="410102197805126716", name="张|伟", name_ext="", gend="1", naty="01",
                    birthplace="410102", brdy="1978-05-12")
    line = summary_line.build_line(b"\x3b\x60\x00\x00", _card(card_no="A10000001"), holder, "T01", "D9")
    assert line == "411600|410102197805126716|A10000001|411600D156000005C38275EEFC9B9648|张伟||3.00|20211203|20311202|T01|D9|"
