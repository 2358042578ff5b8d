"""A card profile given as a path (`--reader emulator:/path/card.json`) is checked before a card is built: a
wrong type, a missing key, bad hex, a bad date or a wrong length for the card's field is CardError(bad_profile)
naming the field, never a KeyError/ValueError/OSError from deep in the card build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from card_helpers import PROFILE_IDS, profile
from drivers.errors import CardError
from emulator.profiles import load_card, read_profile

ROOT = Path(__file__).resolve().parent.parent


def changed(part: str, key: str, value, drop: bool = False) -> dict:
    p = profile("zhang_wei")
    target = p[part] if part else p
    if drop:
        del target[key]
    else:
        target[key] = value
    return p


def written(tmp_path: Path, content) -> str:
    path = tmp_path / "card.json"
    if isinstance(content, (dict, list)):
        content = json.dumps(content, ensure_ascii=False)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    return str(path)


@pytest.mark.parametrize("content, message", [
    (changed("card", "card_sn", None, drop=True), "card.card_sn is missing"),
    (changed("card", "card_sn", 5), "card.card_sn must be 32 hex digits (the 16-byte card identification code), "
                                    "not 5"),
    (changed("card", "card_sn", "ZZ" * 16), "card.card_sn must be 32 hex digits"),
    (changed("card", "card_sn", "00" * 17), "card.card_sn must be 32 hex digits"),
    (changed("card", "card_sn", "9" * 100_000), "card.card_sn must be 32 hex digits"),
    (changed("card", "card_type", "3333"), "card.card_type must be 2 hex digits (one byte)"),
    (changed("card", "issuer", "41"), "card.issuer must be 24 hex digits (12 bytes)"),
    (changed("card", "version", "三"), 'card.version must be a version of 4 characters like "3.00"'),
    (changed("card", "version", None), 'card.version must be a version of 4 characters like "3.00", not None'),
    (changed("card", "issue_date", "2019-13-45"), "card.issue_date must be a real date written YYYY-MM-DD"),
    (changed("card", "expiry_date", 20290314), "card.expiry_date must be a real date written YYYY-MM-DD"),
    (changed("card", "card_no", "A" * 21), "card.card_no must be 9 capital letters or digits"),
    (changed("card", "card_no", "A1000000１"), "card.card_no must be 9 capital letters or digits"),
    (changed("holder", "certno", "４１０１０２１９７８０５１２６７１６"), "holder.certno must be 18 characters"),
    (changed("holder", "name", "张" * 16), "holder.name needs 32 bytes; the card's field has 30"),
    (changed("holder", "name", "\x1b[2J张伟"), "holder.name must not contain control or invisible characters"),
    (changed("holder", "name", ""), "holder.name must not be empty"),
    (changed("holder", "name", ["张伟"]), "holder.name must be text, not ['张伟']"),
    (changed("holder", "name_ext", "x" * 30), "holder.name_ext needs 30 bytes; the card's field has 20"),
    (changed("holder", "gend", "x"), "holder.gend must be one of 0, 1, 2, 9"),
    (changed("holder", "naty", "1234"), "holder.naty must be 2 digits"),
    (changed("holder", "birthplace", "x"), "holder.birthplace must be a region code of up to 6 digits"),
    (changed("holder", "brdy", "1978-02-30"), "holder.brdy must be a real date"),
    (changed("pin", "max_tries", "3"), "pin.max_tries must be a whole number from 1 to 15, not '3'"),
    (changed("pin", "tries_left", 99), "pin.tries_left must be a whole number from 0 to 15"),
    (changed("pin", "initial", 123456), "pin.initial must be 4 to 16 digits in quotes"),
    (changed("security", "external_key", "XYZ"), "security.external_key must be 32 hex digits (an SM4 key)"),
    (changed("security", "needs_external_auth", "yes"), "security.needs_external_auth must be true or false"),
    (changed("", "quirks", {"fast": True}), "unknown field quirks.'fast'"),
    (changed("", "quirks", {"name_padding": 300}), "quirks.name_padding must be a whole number from 0 to 255"),
    (changed("", "pin", "123456"), "'pin' must be an object"),
    (changed("", "atr", "ZZ"), "atr must be an ATR in hex"),
    (changed("", "atr", "3B" * 40), "atr must be an ATR in hex"),
    (changed("", "id", 5), "id must be 1 to 64 letters"),
    (changed("", "extra", 1), "unknown field 'extra'"),
    (changed("", "holder", None, drop=True), "'holder' is missing"),
    ([], "a profile is a JSON object, not list"),
    ('{"card": ' + "[" * 100_000 + "]" * 100_000 + "}", "not valid JSON: nested too deeply"),
    (json.dumps(profile("zhang_wei")).replace('"max_tries": 3', '"max_tries": ' + "9" * 5000),
     "not valid JSON: a number of 5000 characters"),
    (json.dumps(profile("zhang_wei")).replace('"gend": "1"', '"gend": NaN'), "not valid JSON: NaN is not allowed"),
    (json.dumps(profile("zhang_wei"), ensure_ascii=False).replace('"张伟"', '"张\\ud800"'),
     "holder.name must not contain control or invisible characters"),
    (b'{"card": {"card_no": "\xff"}}', "not UTF-8 text"),
    ("{card: 1}", "not valid JSON: Expecting property name"),
])
def test_a_hostile_profile_is_refused_naming_the_field(tmp_path, state_dir, content, message):
    with pytest.raises(CardError) as caught:
        load_card(written(tmp_path, content), state_dir)
    assert caught.value.code == "bad_profile"
    assert message in caught.value.message, caught.value.message
    assert "\x1b" not in caught.value.message


@pytest.mark.parametrize("pid", PROFILE_IDS)
def test_every_bundled_profile_passes(pid):
    from emulator.profiles.schema import problem
    assert problem(profile(pid)) is None
    assert read_profile(pid)["id"] == pid


def test_a_profile_id_too_long_for_the_file_system_is_unknown(state_dir):
    for bad in ("a" * 5000, "a" * 5000 + ".json", "\x1b[2J"):
        with pytest.raises(CardError) as caught:
            load_card(bad, state_dir)
        assert caught.value.code == "unknown_profile" and "\x1b" not in caught.value.message


def test_the_command_line_says_which_field(tmp_path, config_file):
    path = written(tmp_path, changed("holder", "name", "\x1b[2J\x1b[31m张伟"))
    out = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "--lang", "en",
                          "card", "read", "--reader", f"emulator:{path}"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr and "\x1b" not in out.stdout + out.stderr
    assert out.stderr.startswith("cashier: The card profile is not valid. (")
    assert "holder.name must not contain control or invisible characters" in out.stderr
