"""A bill file is checked before any screen or settlement uses it: hostile JSON is a BadInput naming the problem
(never a RecursionError, an int-conversion ValueError or a minutes-long int()), and names and codes hold no
control characters and stay within their limits (code 50, name 100 characters)."""

from __future__ import annotations

import json
import time

import pytest

from terminal.domain.bill import bill_from_text, load_bill, parse_bill
from terminal.errors import BadInput

ITEM = {"code": "X001", "name": "阿莫西林胶囊", "category": "drug", "class": "A", "qty": 2, "price": 1250}
GOOD = json.dumps({"med_type": "11", "items": [ITEM]}, ensure_ascii=False)


def raw_item(key: str, raw: str) -> str:
    """The good bill with one field of the item written as raw JSON text."""
    return json.dumps({"med_type": "11", "items": [dict(ITEM, **{key: "@@"})]}, ensure_ascii=False).replace('"@@"', raw)


def refused(text: str, *words: str) -> BadInput:
    started = time.perf_counter()
    with pytest.raises(BadInput) as caught:
        bill_from_text(text)
    assert time.perf_counter() - started < 2
    assert caught.value.code == "bad_bill"
    for word in words:
        assert word in caught.value.message, caught.value.message
    assert "\x1b" not in caught.value.message and "\x1b" not in caught.value.message_zh
    return caught.value


@pytest.mark.parametrize("text, words", [
    ('{"med_type":"11","items":' + "[" * 100_000 + "]" * 100_000 + "}", ["nested too deeply"]),
    ("[" * 100_000 + "]" * 100_000, ["nested too deeply"]),
    (raw_item("name", '{"a":' * 100_000 + "1" + "}" * 100_000), ["nested too deeply"]),
    (raw_item("qty", "9" * 5000), ["a number of 5000 characters"]),
    (raw_item("price", "-" + "9" * 5000), ["a number of 5001 characters"]),
    (GOOD.replace('"11"', "9" * 5000), ["a number of 5000 characters"]),
    (raw_item("name", "9" * 5000), ["a number of 5000 characters"]),
    (raw_item("qty", "NaN"), ["NaN is not a number a bill can hold"]),
    (raw_item("price", "Infinity"), ["Infinity is not a number a bill can hold"]),
    (raw_item("qty", "-Infinity"), ["-Infinity is not a number a bill can hold"]),
    (raw_item("price", "1E+999999999"), ["item 1 (X001): the unit price Decimal('1E+999999999') is not a sensible"]),
    (raw_item("qty", "1E+999999999"), ["qty 1E+999999999 is too large"]),
    (GOOD.replace('"11"', '["11"]'), ["med_type must be 11", "(got ['11'])"]),
])
def test_hostile_json_is_a_clear_refusal(text, words):
    refused(text, *words)


@pytest.mark.parametrize("key, value, words", [
    ("name", "\x1b[2J\x1b[31m红字", ["item 1 (X001): name must not contain control or invisible characters (U+001B)"]),
    ("code", "X\x1b[2J", ["item 1: code must not contain control or invisible characters (U+001B)"]),
    ("category", "a\x9b31m", ["category must not contain control or invisible characters (U+009B)"]),
    ("name", "a\nb", ["(U+000A)"]),
    ("name", "a\u202eb", ["(U+202E)"]),
    ("name", "a\x00b", ["(U+0000)"]),
    ("name", "药" * 101, ["name is too long: 101 characters, at most 100"]),
    ("code", "X" * 51, ["item 1: code is too long: 51 characters, at most 50"]),
    ("category", "c" * 51, ["category is too long: 51 characters, at most 50"]),
])
def test_names_and_codes_are_clean_and_bounded(key, value, words):
    err = refused(json.dumps({"med_type": "11", "items": [dict(ITEM, **{key: value})]}), *words)
    assert err.details["item"] == 1


@pytest.mark.parametrize("key", ["code", "name", "category"])
def test_a_lone_surrogate_is_refused(key):
    refused(raw_item(key, '"X\\ud800"'), "(U+D800)")
    refused(raw_item(key, '"\\udfffX"'), "(U+DFFF)")


def test_names_and_codes_at_their_limits_are_fine():
    bill = bill_from_text(json.dumps({"med_type": "11", "items": [dict(ITEM, code="X" * 50, name="药" * 100,
                                                                       category="c" * 50)]}))
    assert bill.items[0].code == "X" * 50 and bill.items[0].name == "药" * 100
    assert parse_bill({"med_type": 11, "items": [dict(ITEM, qty="1.5")]}).items[0].qty == 1.5


def test_a_huge_number_from_a_typed_bill_is_refused_without_turning_it_into_text():
    for key in ("qty", "price"):
        with pytest.raises(BadInput, match="not a sensible"):
            parse_bill({"med_type": "11", "items": [dict(ITEM, **{key: 10**5000})]})


def test_bill_files_too_large_or_not_utf8_are_refused(tmp_path):
    big = tmp_path / "big.json"
    big.write_text(GOOD[:-1] + ', "pad": "' + "x" * (3 << 20) + '"}', encoding="utf-8")
    with pytest.raises(BadInput, match="is larger than 2 MiB"):
        load_bill(big)
    latin = tmp_path / "latin.json"
    latin.write_bytes(GOOD.encode("utf-8").replace(b"X001", b"X\xff01"))
    with pytest.raises(BadInput, match="is not UTF-8 text"):
        load_bill(latin)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    with pytest.raises(BadInput, match="cannot read bill file"):
        load_bill(folder)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_bill(bom).total == 2500
