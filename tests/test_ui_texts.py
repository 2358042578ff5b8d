"""The UI's strings and money formatting: both languages complete, amounts exact to the fen."""

from __future__ import annotations

import string

import pytest

from terminal.ui.i18n import STRINGS, Translator, normalize
from terminal.ui.widgets.money import money_cell, parse_yuan, yuan


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_string_in_both_languages_with_the_same_fields(key):
    zh, en = STRINGS[key]
    assert zh.strip() and en.strip()
    assert fields(zh) == fields(en)


def test_language_choice():
    assert normalize(None) == "zh" and normalize("zh_CN") == "zh" and normalize("en-GB") == "en"
    assert Translator("en")("wait.title") == "Please insert the social security card"
    assert Translator("zh")("notice.bound", name="李娜") == "已绑定 李娜"


@pytest.mark.parametrize("fen,text", [(0, "¥0.00"), (5, "¥0.05"), (12345, "¥123.45"), (356000, "¥3,560.00"),
                                      (-13100, "-¥131.00"), (None, "—")])
def test_yuan(fen, text):
    assert yuan(fen) == text


def test_money_cell_right_aligned():
    assert money_cell(25100, 10) == "   ¥251.00"


@pytest.mark.parametrize("typed,fen", [("125.5", 12550), ("125.50", 12550), ("38", 3800), ("0.01", 1),
                                       ("1,234.5", 123450), ("¥12", 1200)])
def test_parse_yuan(typed, fen):
    assert parse_yuan(typed) == fen


@pytest.mark.parametrize("typed", ["", "abc", "1.234", "-5", "nan", "inf", "1e3x"])
def test_parse_yuan_refuses(typed):
    assert parse_yuan(typed) is None
