"""Hostile centre exports through `cashier db import` (the centre's checks): names with terminal escape codes or
other control characters are refused (by line number, nothing imported in the centre or the window's cache), names
are at most 100 characters, an empty export is refused, and no line (lone surrogates, deep nesting) raises instead
of being reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from people_helpers import person, run_cli, write_jsonl
from test_import import EMPTY, cache, centre, db_import, refused

REGION = {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True}


def lines_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "centre.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def obj(**fields) -> str:
    return json.dumps(fields, ensure_ascii=False)


def bad_line(cfg, config_file: Path, path: Path, line: int, *words: str, capsys) -> None:
    code, out = db_import(config_file, path, capsys=capsys)
    assert code == 1, out
    ((line_no, message),) = refused(out)
    assert line_no == line
    for word in words:
        assert word in message, message
    assert "\x1b" not in out["error"]["message"] and "\x9b" not in out["error"]["message"]
    assert cache(cfg) == centre(cfg) == EMPTY


@pytest.mark.parametrize("name, words", [
    ("\x1b[2J\x1b[31m张伟", ["person H1: psn_name must not contain control or invisible characters (U+001B)"]),
    ("张\x9b31m", ["(U+009B)"]),
    ("张\x07", ["(U+0007)"]),
    ("张\x7f", ["(U+007F)"]),
    ("张\u202e伟", ["(U+202E)"]),
    ("张\n伟", ["(U+000A)"]),
    ("张" * 101, ["person H1: psn_name is too long: 101 characters, at most 100"]),
    ("   ", ["person H1: psn_name is missing"]),
])
def test_a_person_name_with_control_characters_or_too_long_is_refused(cfg, config_file, tmp_path, capsys, name,
                                                                      words):
    # the canonical key order takes the fast path; a reordered line takes the JSON path: both refuse
    line = person("H1", 1, psn_name=name)
    bad_line(cfg, config_file, lines_file(tmp_path, obj(**REGION), json.dumps(line, ensure_ascii=False)), 2, *words,
             capsys=capsys)
    reordered = {"psn_name": name, **{k: v for k, v in line.items() if k != "psn_name"}}
    bad_line(cfg, config_file, lines_file(tmp_path, obj(**REGION), json.dumps(reordered, ensure_ascii=False)), 2,
             *words, capsys=capsys)


def test_a_name_of_100_characters_is_fine(cfg, config_file, tmp_path, capsys):
    path = write_jsonl(tmp_path / "ok.jsonl", [REGION, person("H1", 1, psn_name="张" * 100)])
    code, out = db_import(config_file, path, capsys=capsys)
    assert code == 0 and out["bad"] == 0 and cache(cfg)["persons"][0][2] == "张" * 100


@pytest.mark.parametrize("line, words", [
    (obj(**REGION).replace('"郑州市"', '"郑\\ud800"'), ["region 410100: name must not contain control or invisible "
                                                        "characters (U+D800)"]),
    (obj(**REGION).replace('"河南省"', '"\\u001b]0;x\\u0007"'), ["region 410100: province must not contain control"]),
    (obj(**dict(REGION, name="区" * 101)), ["region 410100: name is too long: 101 characters, at most 100"]),
    (json.dumps(person("H1", 1, psn_name="@@")).replace('"@@"', '"张\\udfff"'), ["(U+DFFF)"]),
    (json.dumps(person("H\\ud800", 1)).replace("\\\\ud800", "\\ud800"), ["person: psn_no must be 1 to 30 letters or digits"]),
    (json.dumps(person(" ", 1)), ["person: psn_no must be 1 to 30 letters or digits, not ' '"]),
    ('{"kind": "account", "psn_no": "Q\\ud800", "balc": 1}', ["account: psn_no must be 1 to 30 letters or digits"]),
    ('{"kind": "binding", "owner_psn_no": "\\u001b[2J", "user_psn_no": "Q2", "relation": "30"}',
     ["binding: owner_psn_no must be 1 to 30 letters or digits, not '\\x1b[2J'"]),
    ("[" * 100_000 + "]" * 100_000, ["not valid JSON: arrays or objects nested too deeply"]),
    ('{"kind": "region", "name": ' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}",
     ["not valid JSON: arrays or objects nested too deeply"]),
])
def test_no_line_raises(cfg, config_file, tmp_path, capsys, line, words):
    """Each of these raised (UnicodeEncodeError from SQLite, RecursionError) or was stored before."""
    first = not line.startswith(obj(**REGION)[:20])
    path = lines_file(tmp_path, obj(**REGION), line) if first else lines_file(tmp_path, line)
    bad_line(cfg, config_file, path, 2 if first else 1, *words, capsys=capsys)


@pytest.mark.parametrize("text", ["", "\n\n  \n", "   "])
def test_an_empty_export_is_refused(cfg, config_file, tmp_path, capsys, text):
    path = tmp_path / "empty.jsonl"
    path.write_text(text, encoding="utf-8")
    for flags in ((), ("--skip-bad",)):
        code, out = db_import(config_file, path, *flags, capsys=capsys)
        assert code == 1 and out["error"]["code"] == "import_empty", out
        assert "an empty centre export is refused" in out["error"]["message"]
    code, out = run_cli(config_file, "db", "stats", "--json", capsys=capsys)
    assert code == 0 and out["persons"] == 0 and out["audit"] == 0
    assert cache(cfg) == centre(cfg) == EMPTY


def test_a_byte_order_mark_alone_is_a_bad_line(config_file, tmp_path, capsys):
    path = tmp_path / "bom.jsonl"
    path.write_text("\ufeff", encoding="utf-8")
    for flags in ((), ("--skip-bad",)):
        code, out = db_import(config_file, path, *flags, capsys=capsys)
        assert code == 1 and [n for n, _m in refused(out)] == [1], out


def test_skip_bad_with_no_good_line_is_refused(cfg, config_file, tmp_path, capsys):
    path = write_jsonl(tmp_path / "bad.jsonl", [person("H1", 1, psn_name="\x1b[31m张")])
    code, out = db_import(config_file, path, "--skip-bad", capsys=capsys)
    assert code == 1 and out["error"]["message"].startswith(f"every line of {path} is bad (1); nothing imported")
    assert cache(cfg) == centre(cfg) == EMPTY
