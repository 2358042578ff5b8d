"""Hostile centre exports: names with terminal escape codes or other control characters are refused at import
(by line number, nothing imported), names are at most 100 characters, an empty export is refused, and no line
(lone surrogates, deep nesting) raises instead of being reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from people_helpers import empty_db, person, run_cli, write_jsonl  # noqa: F401  (fixture)
from terminal.errors import BadInput
from terminal.store.importer import import_file, refusal

REGION = {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True}


def lines_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "centre.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def obj(**fields) -> str:
    return json.dumps(fields, ensure_ascii=False)


def bad_line(empty_db, path: Path, line: int, *words: str) -> None:
    report = import_file(empty_db, path)
    assert not report.imported and report.bad == 1, report.errors
    assert report.errors[0].line == line
    for word in words:
        assert word in report.errors[0].message, report.errors[0].message
    assert "\x1b" not in report.errors[0].message and "\x9b" not in report.errors[0].message
    assert empty_db.execute("SELECT count(*) FROM persons").fetchone()[0] == 0


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
def test_a_person_name_with_control_characters_or_too_long_is_refused(empty_db, tmp_path, name, words):
    # the canonical key order takes the fast path; a reordered line takes the JSON path: both refuse
    line = person("H1", 1, psn_name=name)
    bad_line(empty_db, lines_file(tmp_path, obj(**REGION), json.dumps(line, ensure_ascii=False)), 2, *words)
    reordered = {"psn_name": name, **{k: v for k, v in line.items() if k != "psn_name"}}
    bad_line(empty_db, lines_file(tmp_path, obj(**REGION), json.dumps(reordered, ensure_ascii=False)), 2, *words)


def test_a_name_of_100_characters_is_fine(empty_db, tmp_path):
    report = import_file(empty_db, write_jsonl(tmp_path / "ok.jsonl", [REGION, person("H1", 1, psn_name="张" * 100)]))
    assert report.imported and report.bad == 0


@pytest.mark.parametrize("line, words", [
    (obj(**REGION).replace('"郑州市"', '"郑\\ud800"'), ["region 410100: name must not contain control or invisible "
                                                        "characters (U+D800)"]),
    (obj(**REGION).replace('"河南省"', '"\\u001b]0;x\\u0007"'), ["region 410100: province must not contain control"]),
    (obj(**dict(REGION, name="区" * 101)), ["region 410100: name is too long: 101 characters, at most 100"]),
    (json.dumps(person("H1", 1, psn_name="@@")).replace('"@@"', '"张\\udfff"'), ["(U+DFFF)"]),
    (json.dumps(person("H\\ud800", 1)).replace("\\\\ud800", "\\ud800"), ["person: psn_no must be text of 1 to 32 "
                                                                           "printable characters"]),
    (json.dumps(person(" ", 1)), ["person: psn_no must be text of 1 to 32 printable characters, no spaces around"]),
    ('{"kind": "account", "psn_no": "Q\\ud800", "balc": 1}', ["account: psn_no must be printable text"]),
    ('{"kind": "binding", "owner_psn_no": "\\u001b[2J", "user_psn_no": "Q2", "relation": "30"}',
     ["binding: owner_psn_no must be printable text, not '\\x1b[2J'"]),
    ("[" * 100_000 + "]" * 100_000, ["not valid JSON: arrays or objects nested too deeply"]),
    ('{"kind": "region", "name": ' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}",
     ["not valid JSON: arrays or objects nested too deeply"]),
])
def test_no_line_raises(empty_db, tmp_path, line, words):
    """Each of these raised (UnicodeEncodeError from SQLite, RecursionError) or was stored before."""
    path = lines_file(tmp_path, obj(**REGION), line) if not line.startswith(obj(**REGION)[:20]) else \
        lines_file(tmp_path, line)
    report = import_file(empty_db, path)
    assert not report.imported and report.bad == 1, report.errors
    for word in words:
        assert word in report.errors[0].message, report.errors[0].message


@pytest.mark.parametrize("text", ["", "\n\n  \n", "   "])
def test_an_empty_export_is_refused(empty_db, tmp_path, text):
    path = tmp_path / "empty.jsonl"
    path.write_text(text, encoding="utf-8")
    for skip_bad in (False, True):
        with pytest.raises(BadInput) as caught:
            import_file(empty_db, path, skip_bad=skip_bad)
        assert caught.value.code == "import_empty" and "an empty centre export is refused" in caught.value.message
    assert empty_db.execute("SELECT count(*) FROM imports").fetchone()[0] == 0
    assert empty_db.execute("SELECT count(*) FROM audit").fetchone()[0] == 0


def test_a_byte_order_mark_alone_is_a_bad_line(empty_db, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_text("\ufeff", encoding="utf-8")
    for skip_bad in (False, True):
        report = import_file(empty_db, path, skip_bad=skip_bad)
        assert not report.imported and report.bad == 1 and report.errors[0].line == 1


def test_skip_bad_with_no_good_line_is_refused(empty_db, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [person("H1", 1, psn_name="\x1b[31m张")])
    report = import_file(empty_db, path, skip_bad=True)
    assert not report.imported and report.bad == 1
    assert refusal(report).message.startswith(f"every line of {path} is bad (1); nothing imported")


def test_the_command_line_refuses_an_empty_export(tmp_path, config_file, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    code, out = run_cli(config_file, "db", "import", str(empty), "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "import_empty"
    code, out = run_cli(config_file, "db", "stats", "--json", capsys=capsys)
    assert code == 0 and out["persons"] == 0 and out["audit"] == 0
