"""The SSSE application byte for byte, over every transport (card_reader fixture)."""

from __future__ import annotations

import pytest
from card_helpers import PROFILE_IDS, QUIRKS, SELECT_SSSE, expected_json, psam, tx

from drivers import ssse
from drivers.apdu import Trace
from drivers.errors import CardError
from drivers.psam import external_cryptogram

OK = 0x9000


def test_select_bytes_are_the_spec_bytes():
    assert ssse.select_aid_apdu().to_bytes().hex(" ").upper() == SELECT_SSSE
    assert ssse.select_ef_apdu(0xEF05).to_bytes().hex(" ").upper() == "00 A4 02 00 02 EF 05"
    assert ssse.read_record_apdu(7, sfi=5, by_number=True).to_bytes().hex(" ").upper() == "00 B2 07 2C 00"
    assert ssse.read_record_apdu(0x08).to_bytes().hex(" ").upper() == "00 B2 08 00 00"
    assert ssse.verify_apdu("123456").to_bytes().hex(" ").upper() == "00 20 00 00 03 12 34 56"
    assert ssse.change_pin_apdu("123456", "65432").to_bytes().hex(" ").upper() == \
        "00 24 00 00 07 12 34 56 FF 65 43 2F"


def test_select_application_and_ef(card_reader):
    r = card_reader("zhang_wei")
    assert tx(r, SELECT_SSSE) == (b"", OK)
    assert tx(r, "00 A4 02 00 02 EF 05") == (b"", OK)
    assert tx(r, "00 A4 00 00 02 EF 05") == (b"", OK)  # P1 = 00 accepted too
    assert tx(r, "00 A4 02 00 02 EF 09")[1] == 0x6A82


def test_read_record_by_number_through_sfi(card_reader):
    r = card_reader("zhang_wei")
    tx(r, SELECT_SSSE)
    assert tx(r, "00 B2 07 2C 00") == (b"\x07\x09A10000001", OK)
    assert tx(r, "00 B2 01 2C 00") == (bytes.fromhex("0110 410100D156000005C38275EEFC9B1001"), OK)
    # EF06 through its SFI 6: record 1 is the ID number
    data, sw = tx(r, "00 B2 01 34 00")
    assert (data, sw) == (b"\x08\x12410102197805126716", OK)


def test_read_record_by_tag_in_current_ef(card_reader):
    r = card_reader("zhang_wei")
    tx(r, SELECT_SSSE)
    tx(r, "00 A4 02 00 02 EF 06")
    assert tx(r, "00 B2 08 00 00") == (b"\x08\x12410102197805126716", OK)
    data, sw = tx(r, "00 B2 09 00 00")
    assert sw == OK and data[:2] == b"\x09\x1E" and data[2:6] == "张伟".encode("gbk")
    assert data[6:] == b"\x00" * 26


def test_tag_and_position_differ_in_ef06(card_reader):
    r = card_reader("zhang_wei")
    tx(r, SELECT_SSSE)
    tx(r, "00 A4 02 00 02 EF 06")
    assert tx(r, "00 B2 0A 00 00") == (b"\x0A\x011", OK)       # sex by its tag 0A ...
    assert tx(r, "00 B2 04 04 00") == (b"\x0A\x011", OK)       # ... sits at position 4
    assert tx(r, "00 B2 03 04 00")[0][:1] == b"\x4E"           # position 3 is the name extension
    assert tx(r, "00 B2 0D 00 00") == (b"\x0D\x04\x19\x78\x05\x12", OK)
    assert tx(r, "00 B2 0C 00 00") == (b"\x0C\x03\x41\x01\x02", OK)


def test_one_point_zero_card_has_no_name_extension(card_reader):
    r = card_reader("liu_yang")
    tx(r, SELECT_SSSE)
    tx(r, "00 A4 02 00 02 EF 06")
    assert tx(r, "00 B2 4E 00 00") == (b"", 0x6A83)
    assert tx(r, "00 B2 03 04 00") == (b"\x0A\x011", OK)  # positions shift: read by tag


def test_pin_counts_down_to_blocked_and_stays_blocked(card_reader):
    r = card_reader("zhang_xiaoyu")
    tx(r, SELECT_SSSE)
    assert tx(r, "00 20 00 00") == (b"", 0x63C3)             # no data: tries left
    assert tx(r, "00 20 00 00 03 99 99 99") == (b"", 0x63C2)
    assert tx(r, "00 20 00 00 03 12 34 56") == (b"", OK)      # right PIN resets the counter
    assert tx(r, "00 20 00 00") == (b"", 0x63C3)
    assert tx(r, "00 20 00 00 03 99 99 99") == (b"", 0x63C2)
    assert tx(r, "00 20 00 00 03 99 99 99") == (b"", 0x63C1)
    assert tx(r, "00 20 00 00 03 99 99 99") == (b"", 0x6983)
    assert tx(r, "00 20 00 00 03 12 34 56") == (b"", 0x6983)  # even the right PIN now
    r.disconnect()
    again = card_reader("zhang_xiaoyu")                       # reinserted: same state folder
    tx(again, SELECT_SSSE)
    assert tx(again, "00 20 00 00 03 12 34 56") == (b"", 0x6983)
    assert tx(again, "00 20 00 00") == (b"", 0x6983)


def test_blocked_profile_starts_blocked(card_reader):
    r = card_reader("wang_fang")
    card = ssse.SocialSecurityCard(r, psam())
    card.read()
    with pytest.raises(CardError) as e:
        card.verify_pin("123456")
    assert e.value.code == "pin_blocked"


def test_wrong_pin_says_tries_left(card_reader):
    card = ssse.SocialSecurityCard(card_reader("zhang_wei"), psam())
    card.read()
    with pytest.raises(CardError) as e:
        card.verify_pin("654321")
    assert e.value.code == "pin_wrong" and e.value.tries_left == 2
    assert "2 tries left" in e.value.message
    card.verify_pin("123456")
    assert card.pin_tries_left() == 3


def test_change_pin(card_reader):
    card = ssse.SocialSecurityCard(card_reader("zhang_guoqiang"), psam())
    card.read()
    card.change_pin("123456", "24680")
    with pytest.raises(CardError):
        card.verify_pin("123456")
    card.verify_pin("24680")


def test_3_0_card_refuses_ef06_before_external_auth(card_reader):
    r = card_reader("li_na")
    tx(r, SELECT_SSSE)
    tx(r, "00 A4 02 00 02 EF 05")
    assert tx(r, "00 B2 03 00 00") == (b"\x03\x043.00", OK)   # EF05 is open
    tx(r, "00 A4 02 00 02 EF 06")
    assert tx(r, "00 B2 08 00 00") == (b"", 0x6982)
    assert tx(r, "00 B2 01 34 00") == (b"", 0x6982)
    challenge, sw = tx(r, "00 84 00 00 08")
    assert sw == OK and len(challenge) == 8
    cryptogram = external_cryptogram(bytes.fromhex(psam().external_key.hex()), challenge)
    assert tx(r, "00 82 00 0A 10 " + cryptogram.hex()) == (b"", OK)
    assert tx(r, "00 B2 08 00 00") == (b"\x08\x1241010519800923682X", OK)
    # the challenge was single use
    assert tx(r, "00 82 00 0A 10 " + cryptogram.hex())[1] == 0x6985


def test_external_auth_with_wrong_cryptogram(card_reader):
    r = card_reader("li_na")
    tx(r, SELECT_SSSE)
    challenge, _ = tx(r, "00 84 00 00 08")
    wrong = external_cryptogram(bytes(16), challenge)
    assert tx(r, "00 82 00 0A 10 " + wrong.hex())[1] == 0x6300
    tx(r, "00 A4 02 00 02 EF 06")
    assert tx(r, "00 B2 08 00 00") == (b"", 0x6982)


def test_wrong_psam_key_is_a_clear_error(card_reader):
    with pytest.raises(CardError) as e:
        ssse.read_card(card_reader("li_na"), psam(external="00" * 16))
    assert e.value.code == "external_auth_failed"
    assert "External authentication" in e.value.message


def test_locked_ef06_on_an_older_card_is_authenticated_on_demand(card_reader):
    """A card that answers 69 82 on EF06 gets EXTERNAL AUTHENTICATE even below version 3.00."""
    trace = Trace()
    result = ssse.read_card(card_reader("zhang_wei", needs_external_auth=True), psam(), trace=trace)
    assert result.holder.certno == "410102197805126716" and result.authenticated
    i = trace.lines.index("< 6982")
    assert trace.lines[i + 1] == "> 00 84 00 00 08"


def test_3_0_card_without_psam_reads_empty_name_and_certno(card_reader):
    result = ssse.read_card(card_reader("li_na"), None)
    assert result.holder.certno == "" and result.holder.name == ""
    assert result.line.split("|")[1] == "" and result.line.split("|")[4] == ""
    assert result.card.card_no == "A10000002"


def test_3_0_card_that_blanks_instead_of_refusing(card_reader):
    """The real 3.0 card's way: unauthenticated, name and ID number read as empty."""
    r = card_reader("li_na", locked_reads_blank=True)
    tx(r, SELECT_SSSE)
    tx(r, "00 A4 02 00 02 EF 06")
    assert tx(r, "00 B2 08 00 00") == (b"\x08\x12" + bytes(18), OK)
    assert tx(r, "00 B2 0A 00 00") == (b"\x0A\x012", OK)
    r.disconnect()
    blank = ssse.read_card(card_reader("li_na", locked_reads_blank=True), None)
    assert (blank.holder.certno, blank.holder.name, blank.holder.gend) == ("", "", "2")
    full = ssse.read_card(card_reader("li_na", locked_reads_blank=True), psam())
    assert full.to_json()["holder"] == expected_json("li_na")[1]


def test_older_card_has_no_key_0a(card_reader):
    r = card_reader("zhang_wei")
    tx(r, SELECT_SSSE)
    challenge, _ = tx(r, "00 84 00 00 08")
    assert tx(r, "00 82 00 0A 10 " + external_cryptogram(bytes.fromhex(psam().external_key.hex()),
                                                          challenge).hex())[1] == 0x6D00


def test_internal_authenticate(card_reader):
    card = ssse.SocialSecurityCard(card_reader("chen_jie"), psam())
    card.read()
    assert card.internal_authenticate(bytes(range(16)))
    bad = ssse.SocialSecurityCard(card.reader, psam(internal="FF" * 16))
    with pytest.raises(CardError) as e:
        bad.internal_authenticate(bytes(range(16)))
    assert e.value.code == "internal_auth_failed"


@pytest.mark.parametrize("pid", PROFILE_IDS)
def test_full_read_matches_profile(card_reader, pid):
    result = ssse.read_card(card_reader(pid), psam())
    card, holder = expected_json(pid)
    got = result.to_json()
    assert got["card"] == card
    assert got["holder"] == holder
    assert got["region"] == card["card_sn"][:6]


@pytest.mark.parametrize("quirks", QUIRKS, ids=lambda q: "+".join(q))
@pytest.mark.parametrize("pid", ["li_na", "chen_jie", "liu_yang"])
def test_drivers_read_cards_with_other_habits(card_reader, pid, quirks):
    result = ssse.read_card(card_reader(pid, **quirks), psam())
    card, holder = expected_json(pid)
    assert result.to_json()["card"] == card
    assert result.to_json()["holder"] == holder


def test_quirk_bytes(card_reader):
    r = card_reader("zhang_wei", select_fci=True, get_response=True)
    data, sw = tx(r, SELECT_SSSE)
    assert data == b"" and sw >> 8 == 0x61
    fci, sw = tx(r, f"00 C0 00 00 {sw & 0xFF:02X}")
    assert sw == OK and fci[0] == 0x6F and bytes.fromhex(SELECT_SSSE.replace(" ", ""))[5:] in fci
    r2 = card_reader("zhang_wei", exact_le=True)
    tx(r2, SELECT_SSSE)
    assert tx(r2, "00 B2 07 2C 00") == (b"", 0x6C0B)
    assert tx(r2, "00 B2 07 2C 0B") == (b"\x07\x09A10000001", OK)
