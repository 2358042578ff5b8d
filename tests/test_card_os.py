"""The card OS directly (VirtualCard.process): every malformed or out-of-order command gets an ISO SW."""

from __future__ import annotations

import json
import re

import pytest
from card_helpers import EXTERNAL_KEY, PROFILE_IDS, SELECT_SSSE

from drivers.errors import CardError
from drivers.psam import external_cryptogram
from emulator.card_os import DISPATCH
from emulator.profiles import list_profiles, load_card, profile_path


def run(card, apdu_hex: str) -> tuple[bytes, int]:
    raw = card.process(bytes.fromhex(apdu_hex.replace(" ", "")))
    return raw[:-2], int.from_bytes(raw[-2:], "big")


@pytest.fixture
def card(state_dir):
    c = load_card("zhang_wei", state_dir)
    c.power_on()
    return c


def test_dispatch_table_covers_the_commands():
    assert {0xA4, 0xB2, 0xB0, 0x84, 0x82, 0x88, 0x20, 0x24, 0xC0} <= set(DISPATCH)


@pytest.mark.parametrize("apdu, sw", [
    ("00 A4 04", 0x6700),                       # shorter than a header
    ("", 0x6700),
    ("80 A4 04 00 00", 0x6E00),                 # proprietary class
    ("01 A4 04 00 00", 0x6881),                 # logical channel 1
    ("0C B2 01 2C 00", 0x6882),                 # secure messaging
    ("00 FF 00 00", 0x6D00),
    ("00 A4 04 00 05 01 02", 0x6700),           # Lc says 5, 2 bytes follow
    ("00 A4 04 00", 0x6700),                    # SELECT by name without a name
    ("00 A4 04 00 03 A0 00 01", 0x6A82),        # unknown application
    ("00 A4 05 00 02 EF 05", 0x6A86),
    ("00 A4 04 01 0F 7378312E73682EC9E7BBE1B1A3D5CF", 0x6A86),
    ("00 A4 02 00 01 EF", 0x6700),
    ("00 B2 01 04 00", 0x6986),                 # no current EF
    ("00 B2 01 2C 01 00", 0x6700),              # READ RECORD with data
    ("00 B2 01 FC 00", 0x6A86),                 # SFI 31
    ("00 B2 01 2D 00", 0x6A81),                 # records P1 to last: not supported
    ("00 B2 01 2F 00", 0x6A86),
    ("00 B2 01 3C 00", 0x6A82),                 # SFI 7 does not exist
    ("00 C0 00 00 10", 0x6985),                 # nothing to GET RESPONSE
    ("00 C0 01 00 10", 0x6A86),
    ("00 84 00 00 05", 0x6700),
    ("00 84 00 00", 0x6700),
    ("00 84 01 00 08", 0x6A86),
    ("00 82 00 0A 10" + " 00" * 16, 0x6D00),   # a 2.0 card has no key 0A
    ("00 88 00 00 0F" + " 00" * 15, 0x6700),
    ("00 88 01 00 10" + " 00" * 16, 0x6A86),
    ("00 20 00 00 03 12 3A 56", 0x6A80),        # not BCD
    ("00 20 00 00 01 12", 0x6A80),              # too short for a PIN
    ("00 20 00 05 03 12 34 56", 0x6A86),
    ("00 24 00 00 06 12 34 56 65 43 21", 0x6A80),  # no FF separator
    ("00 24 00 00", 0x6700),
])
def test_bad_commands_get_a_status_word(card, apdu, sw):
    assert run(card, apdu) == (b"", sw)


def test_nothing_changes_after_bad_commands(card):
    for apdu in ("00 20 00 00 03 12 3A 56", "00 24 00 00 06 12 34 56 65 43 21"):
        run(card, apdu)
    assert run(card, "00 20 00 00") == (b"", 0x63C3)


def test_external_auth_errors(state_dir):
    c = load_card("li_na", state_dir)
    run(c, SELECT_SSSE)
    assert run(c, "00 82 00 0A 10" + " 00" * 16) == (b"", 0x6985)   # no challenge yet
    ch, _ = run(c, "00 84 00 00 08")
    assert run(c, "00 82 00 01 10" + " 00" * 16) == (b"", 0x6A88)   # key 01 is not there
    ch, _ = run(c, "00 84 00 00 08")
    assert run(c, "00 82 00 0A 08" + " 00" * 8) == (b"", 0x6700)
    ch, _ = run(c, "00 84 00 00 08")
    good = external_cryptogram(bytes.fromhex(EXTERNAL_KEY), ch)
    assert run(c, "00 82 00 0A 10 " + good.hex()) == (b"", 0x9000)


def _authenticate(c) -> None:
    ch, _ = run(c, "00 84 00 00 08")
    assert run(c, "00 82 00 0A 10 " + external_cryptogram(bytes.fromhex(EXTERNAL_KEY), ch).hex())[1] == 0x9000


def test_power_on_and_reselect_lose_authentication(state_dir):
    c = load_card("li_na", state_dir)
    run(c, SELECT_SSSE)
    _authenticate(c)
    assert run(c, "00 B2 01 34 00")[1] == 0x9000
    c.power_on()
    assert run(c, "00 B2 01 34 00") == (b"", 0x6A82)                # back in the MF: no SFI 6 here
    run(c, SELECT_SSSE)
    assert run(c, "00 B2 01 34 00") == (b"", 0x6982)
    _authenticate(c)
    run(c, "00 A4 00 00 02 3F 00")                                  # leave the DF
    run(c, SELECT_SSSE)
    assert run(c, "00 B2 01 34 00") == (b"", 0x6982)


def test_select_forms(card):
    assert run(card, "00 A4 08 00 04 DD F1 EF 06") == (b"", 0x9000)  # path from MF
    assert run(card, "00 B2 08 00 00")[0][:2] == b"\x08\x12"
    assert run(card, "00 A4 03 00") == (b"", 0x9000)                 # parent: MF
    assert run(card, "00 A4 01 00 02 DD F1") == (b"", 0x9000)        # child DF
    assert run(card, "00 A4 02 00 02 DD F1") == (b"", 0x6A82)        # a DF is not an EF
    assert run(card, "00 A4 00 00") == (b"", 0x9000)                 # MF
    assert run(card, "00 A4 04 0C 07 73 78 31 2E 73 68 2E") == (b"", 0x9000)  # truncated name


def test_read_record_modes(card):
    run(card, SELECT_SSSE)
    run(card, "00 A4 02 00 02 EF 06")
    assert run(card, "00 B2 00 04 00") == (b"", 0x6A83)           # no current record yet
    first, _ = run(card, "00 B2 01 04 00")
    assert run(card, "00 B2 00 04 00") == (first, 0x9000)          # current record
    assert run(card, "00 B2 0A 01 00")[0][:1] == b"\x0A"           # last occurrence
    assert run(card, "00 B2 0D 02 00")[0][:1] == b"\x0D"           # next occurrence after 0A
    assert run(card, "00 B2 08 03 00")[0][:1] == b"\x08"           # previous occurrence
    assert run(card, "00 B2 08 02 00") == (b"", 0x6A83)            # no 08 after record 1
    assert run(card, "00 B2 00 00 00") == (b"", 0x6A86)            # tag 0 is not a tag
    assert run(card, "00 B2 09 00 05") == (b"", 0x6C20)            # Le too short: 6C with the length


def test_transparent_file(card):
    content, sw = run(card, "00 B0 81 00 00")                      # SFI 1 in P1
    assert sw == 0x9000 and content.hex().upper() == "410100D156000005C38275EEFC9B1001"
    assert run(card, "00 B0 00 04 04") == (content[4:8], 0x9000)   # offset in P1P2, current EF
    assert run(card, "00 B0 00 0C 10") == (content[12:], 0x6282)   # end of file before Le
    assert run(card, "00 B0 00 10 00") == (b"", 0x6B00)
    assert run(card, "00 B0 80 00 00") == (b"", 0x6A86)
    run(card, SELECT_SSSE)
    run(card, "00 A4 02 00 02 EF 05")
    assert run(card, "00 B0 00 00 00") == (b"", 0x6981)            # a record file
    assert run(card, "00 B2 01 0C 00") == (b"", 0x6A82)            # SFI 1 is in the MF, not here


def test_get_response_in_pieces(state_dir):
    c = load_card("zhang_wei", state_dir, get_response=True)
    run(c, SELECT_SSSE)
    assert run(c, "00 B2 01 2C 00") == (b"", 0x6112)
    part, sw = run(c, "00 C0 00 00 08")
    assert sw == 0x610A and part == bytes.fromhex("0110410100D15600")
    assert run(c, "00 C0 00 00 20") == (b"", 0x6C0A)
    rest, sw = run(c, "00 C0 00 00 0A")
    assert sw == 0x9000 and part + rest == bytes.fromhex("0110410100D156000005C38275EEFC9B1001")
    assert run(c, "00 C0 00 00 0A") == (b"", 0x6985)


def test_internal_authenticate_answer(card):
    from drivers.psam import internal_answer
    data = bytes(range(16))
    answer, sw = run(card, "00 88 00 00 10 " + data.hex() + " 00")
    assert sw == 0x9000 and answer == internal_answer(bytes.fromhex("00112233445566778899AABBCCDDEEFF"), data)


def test_state_file_has_no_pin(state_dir):
    c = load_card("zhang_wei", state_dir)
    assert run(c, "00 24 00 00 07 12 34 56 FF 24 68 0F") == (b"", 0x9000)
    files = sorted(state_dir.iterdir())
    assert [f.name for f in files] == [".410100D156000005C38275EEFC9B1001.lock",   # the card's lock, empty
                                       "410100D156000005C38275EEFC9B1001.json"]
    assert files[0].read_bytes() == b""
    text = files[1].read_text()
    saved = json.loads(text)
    # random hex (the salt, the PIN's hash) may hold "2468" by chance: the PINs are looked for everywhere else
    digests = {k for k, v in saved.items() if isinstance(v, str) and re.fullmatch(r"[0-9a-f]{32,}", v)}
    rest = json.dumps({k: v for k, v in saved.items() if k not in digests})
    assert digests == {"salt", "pin_hash"} and "123456" not in rest and "2468" not in rest, text
    assert saved["changed"] is True and len(saved["salt"]) == 32
    again = load_card("zhang_wei", state_dir)                      # the new PIN survives reinsertion
    assert run(again, "00 20 00 00 03 24 68 0F") == (b"", 0x9000)
    assert run(again, "00 20 00 00 03 12 34 56") == (b"", 0x63C2)


def test_same_pin_different_hashes(tmp_path):
    a = load_card("zhang_wei", tmp_path / "a")
    b = load_card("zhang_wei", tmp_path / "b")
    assert a.pin.pin_hash != b.pin.pin_hash


def test_damaged_state_file_starts_from_profile(state_dir):
    (state_dir / "410100D156000005C38275EEFC9B1001.json").write_text("{not json")
    c = load_card("zhang_wei", state_dir)
    assert run(c, "00 20 00 00") == (b"", 0x63C3)


def test_unwritable_state_folder_does_not_break_the_card(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    c = load_card("zhang_wei", blocker / "cards")                    # cannot be created
    assert run(c, "00 20 00 00 03 99 99 99") == (b"", 0x63C2)
    memory_only = load_card("zhang_wei", None)
    assert run(memory_only, "00 20 00 00") == (b"", 0x63C3)


def test_profiles():
    items = {p.id: p for p in list_profiles()}
    assert sorted(items) == PROFILE_IDS and len(items) == 9
    assert items["li_na"].name == "李娜" and items["li_na"].version == "3.00"
    assert items["chen_jie"].name == "陈𬌗"
    assert profile_path("zhang_wei").name == "zhang_wei.json"


@pytest.mark.parametrize("bad", ["nobody", "../zhang_wei", "", "Zhang_Wei"])
def test_unknown_profile(bad, state_dir):
    with pytest.raises(CardError) as e:
        load_card(bad, state_dir)
    assert e.value.code == "unknown_profile"


def test_profile_from_a_path(tmp_path, state_dir):
    src = json.loads(profile_path("zhang_wei").read_text(encoding="utf-8"))
    src["holder"]["name"] = "测试"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(src, ensure_ascii=False), encoding="utf-8")
    c = load_card(str(path), state_dir)
    run(c, SELECT_SSSE)
    run(c, "00 A4 02 00 02 EF 06")
    assert run(c, "00 B2 09 00 00")[0][2:6] == "测试".encode("gbk")


def test_unknown_option(state_dir):
    with pytest.raises(TypeError):
        load_card("zhang_wei", state_dir, bogus=True)


def test_df_name_is_the_spec_bytes():
    from emulator.ssse_layout import SSSE_DF_NAME
    assert SSSE_DF_NAME.hex(" ").upper() == SELECT_SSSE[15:]


def test_card_without_key_0a_on_a_3_0_profile_switch(state_dir):
    c = load_card("zhang_min", state_dir)                           # a 3.0 card: key 0A present
    assert c.keys.external is not None
    assert load_card("liu_yang", state_dir).keys.external is None   # 1.0: none
