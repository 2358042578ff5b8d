"""The e-voucher code itself: sealed and read back, refused when altered, made with another key or malformed;
shown as a QR code (PNG and terminal text) that an independent decoder reads back to the same code; and the
keyboard-wedge recogniser that finds a code among keystrokes without losing a key."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qr_decode import decode, png_grey, terminal_grey

from drivers import voucher as v
from drivers.scanner_wedge import ENTER, Wedge
from emulator.phone import qr, qr_text, show_code, write_png

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
ZHANG_WEI = "410102197805126716"
LI_NA = "41010519800923682X"
T0 = 1_800_000_000


def test_a_code_reads_back_to_its_person_and_times():
    code = v.issue(KEY, LI_NA, issued=T0, lifetime_s=180)
    assert code.startswith(v.PREFIX) and len(code) == v.CODE_CHARS == 76 and v.looks_like(code)
    got = v.decode(KEY, code)
    assert (got.certno, got.issued, got.expires) == (LI_NA, T0, T0 + 180)
    assert len(got.nonce) == 12
    assert v.decode(KEY, "  " + code.lower() + "\r\n") == got      # as a scanner may send it


def test_every_code_is_new_and_says_nothing_readable():
    codes = {v.issue(KEY, ZHANG_WEI, issued=T0, lifetime_s=180) for _ in range(50)}
    assert len(codes) == 50                                         # a fresh nonce each time
    for code in codes:
        body = base64.b32decode(code[len(v.PREFIX):] + "=")
        assert ZHANG_WEI.encode() not in body and bytes.fromhex(ZHANG_WEI[:16]) not in body


def test_expiry_is_the_issue_time_plus_the_lifetime():
    got = v.decode(KEY, v.issue(KEY, ZHANG_WEI, issued=T0, lifetime_s=60))
    assert not v.expired(got, T0 + 59.9) and v.expired(got, T0 + 60)
    assert not v.from_the_future(got, T0 - v.CLOCK_SKEW_S) and v.from_the_future(got, T0 - v.CLOCK_SKEW_S - 1)


@pytest.mark.parametrize("bit", range(0, 44 * 8, 7))
def test_any_flipped_bit_is_refused(bit):
    code = v.issue(KEY, ZHANG_WEI, issued=T0, lifetime_s=180)
    body = bytearray(base64.b32decode(code[len(v.PREFIX):] + "="))
    body[bit // 8] ^= 1 << (bit % 8)
    forged = v.PREFIX + base64.b32encode(bytes(body)).decode().rstrip("=")
    with pytest.raises(v.VoucherError) as caught:
        v.decode(KEY, forged)
    # the version byte is checked before the seal (malformed); every other bit breaks the seal (forged)
    assert caught.value.code == ("voucher_malformed" if bit < 8 else "voucher_forged")


def test_a_code_made_with_another_key_is_forged():
    with pytest.raises(v.VoucherError) as caught:
        v.decode(KEY, v.issue(OTHER_KEY, ZHANG_WEI, issued=T0, lifetime_s=180))
    assert caught.value.code == "voucher_forged"
    assert "篡改" in caught.value.message_zh and "altered" in caught.value.message


@pytest.mark.parametrize("text,why", [
    ("", "does not begin"), ("hello", "does not begin"), ("YBEV:", "76 characters"), ("YBEV:ABC", "76 characters"),
    ("YBEV:" + "1" * 71, "76 characters"), ("YBEV:" + "A" * 72, "76 characters"),
    ("YBEV:" + "A" * 70 + "B", "canonical"),                        # low bits of the last character set
    ("YBEV:" + "A" * 71, "version 0"),
])
def test_malformed_codes_say_why(text, why):
    with pytest.raises(v.VoucherError) as caught:
        v.decode(KEY, text)
    assert caught.value.code == "voucher_malformed" and why in caught.value.message


def test_the_key_and_the_issue_are_checked():
    assert v.parse_key("ab" * 32) == bytes([0xAB]) * 32
    for bad in ("", "ab" * 31, "zz" * 32, "ab" * 33):
        with pytest.raises(v.VoucherError) as caught:
            v.parse_key(bad)
        assert caught.value.code == "voucher_key"
    with pytest.raises(v.VoucherError):
        v.issue(KEY, "41010219780512671", issued=T0, lifetime_s=180)      # 17 characters
    with pytest.raises(v.VoucherError):
        v.issue(KEY, ZHANG_WEI, issued=T0, lifetime_s=0)
    with pytest.raises(v.VoucherError):
        v.issue(KEY[:16], ZHANG_WEI, issued=T0, lifetime_s=180)


# ------------------------------------------------------------------------------------------------ the QR code
def test_qr_round_trip_through_a_png_file(tmp_path):
    shown = show_code("zhang_wei", KEY)
    png = write_png(shown.code, tmp_path / "voucher.png")
    assert decode(*png_grey(png)) == [shown.code]
    assert v.decode(KEY, shown.code).certno == ZHANG_WEI
    assert qr(shown.code).mode == "alphanumeric"


def test_qr_round_trip_through_the_terminal_text_the_demo_shows():
    shown = show_code("li_na", KEY)
    text = qr_text(shown.code)
    assert set(text) <= set(" \u2580\u2584\u2588\n")
    assert decode(*terminal_grey(text)) == [shown.code]


def test_the_phone_names_the_profiles_holder_and_a_profile_file_works(tmp_path):
    import json

    from emulator.profiles import FOLDER
    data = json.loads((FOLDER / "zhao_lan.json").read_text(encoding="utf-8"))
    data["id"] = "my_card"
    own = tmp_path / "my_card.json"
    own.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    shown = show_code(str(own), KEY, lifetime_s=90, now=T0)
    assert (shown.profile, shown.issued, shown.expires, shown.lifetime_s) == ("my_card", T0, T0 + 90, 90)
    assert v.decode(KEY, shown.code).certno == data["holder"]["certno"]
    assert shown.as_json()["expires"].startswith("2027-01-15T")   # ISO 8601 with the UTC offset


# ------------------------------------------------------------------------------------------ keyboard wedge
def _scan(wedge: Wedge, text: str, at: float, gap: float = 0.004) -> tuple[list[str], list[str]]:
    """Type `text` and Enter `gap` apart from `at`: (released keys, codes)."""
    released, codes = [], []
    for i, key in enumerate([*text, "enter"]):
        step = wedge.feed(key, at + i * gap)
        released += step.release
        if step.code:
            codes.append(step.code)
    return released, codes


def test_a_fast_burst_ending_in_enter_is_a_code_and_nothing_leaks():
    code = v.issue(KEY, ZHANG_WEI, issued=T0, lifetime_s=180)
    released, codes = _scan(Wedge(), code, 10.0, gap=0.001)     # keys 1 ms apart: none is lost
    assert codes == [code] and released == []


def test_slow_typing_of_the_same_text_is_typing():
    code = v.issue(KEY, ZHANG_WEI, issued=T0, lifetime_s=180)
    released, codes = _scan(Wedge(), code, 10.0, gap=0.2)
    assert codes == [] and "".join(released) == code + ENTER


def test_a_scan_read_late_once_is_still_a_scan():
    """The machine held up 60 ms in the middle of a scan (keys 1 ms apart) reads the rest at once, late: one
    pause the scanner never made. Judged as typing, its digits went on as keys (on the demo, 3 inserted a card)."""
    code = v.issue(KEY, LI_NA, issued=T0, lifetime_s=180)
    wedge, released, codes = Wedge(), [], []
    for i, key in enumerate([*code, "enter"]):
        step = wedge.feed(key, 10.0 + i * 0.001 + (0.06 if i >= 35 else 0.0))
        released += step.release
        codes += [step.code] if step.code else []
    assert codes == [code] and released == []


def test_two_pauses_in_a_burst_are_typing():
    wedge, released = Wedge(), []
    for at, key in ((1.0, "Y"), (1.1, "B"), (1.2, "E")):
        released += wedge.feed(key, at).release
    assert released == ["Y", "B", "E"] and not wedge.holding


def test_typing_then_a_scan_right_after_keeps_both():
    code = v.issue(KEY, ZHANG_WEI, issued=T0, lifetime_s=180)
    wedge = Wedge()
    released = []
    for i, key in enumerate("Y1"):
        released += wedge.feed(key, 1.0 + i * 0.3).release
    more, codes = _scan(wedge, code, 1.31)
    assert codes == [code]
    assert "".join(released + more) == "Y1"


def test_held_keys_come_back_when_the_burst_stops():
    wedge = Wedge()
    assert wedge.feed("Y", 5.0).release == () and wedge.holding
    assert wedge.due(5.01).release == ()                             # not yet: a scan may pause a little
    assert wedge.due(5.2).release == ("Y",) and not wedge.holding


def test_a_wrong_scan_and_other_keys_are_given_back():
    wedge = Wedge()
    released, codes = _scan(wedge, "YBEV:NOTACODE", 3.0)
    assert codes == [] and "".join(released) == "YBEV:NOTACODE" + ENTER
    assert wedge.feed("tab", 4.0).release == ("tab",)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Y", "B", "E", "V", ":", "A", "7", "x", " ", "enter", "tab", "CODE"]),
                          st.floats(0.0, 0.2)), max_size=60))
def test_every_key_comes_back_once_in_order(events):
    """Whatever arrives, at whatever pace: the released keys and the codes, in order, are exactly what was typed."""
    code = v.issue(KEY, ZHANG_WEI, issued=T0, lifetime_s=180)
    wedge, at, typed, out = Wedge(), 0.0, [], []
    for key, gap in events:
        keys = [*code, "enter"] if key == "CODE" else [key]
        for k in keys:
            at += gap if k == keys[0] else 0.002
            typed.append(ENTER if k == "enter" else k)
            step = wedge.feed(k, at)
            out += step.release
            if step.code:
                out += [*step.code, ENTER]
    out += wedge.due(at + 1).release
    assert out == typed


def test_a_random_key_leaves_everything_refused():
    with pytest.raises(v.VoucherError):
        v.decode(os.urandom(32), v.issue(KEY, ZHANG_WEI, issued=T0, lifetime_s=180))
