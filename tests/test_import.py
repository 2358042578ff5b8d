"""Centre-export import (DESIGN §8.2): every line validated, bad lines by number, all or nothing, idempotent."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from people_helpers import certno, empty_db, person, run_cli, write_jsonl  # noqa: F401  (fixture)
from terminal.store.importer import import_file

DATA = Path(__file__).resolve().parent.parent / "terminal" / "data"


def dump(db) -> dict[str, list[tuple]]:
    """Every row of the people tables (audit excluded), for before/after comparisons."""
    return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("regions", "persons", "accounts", "bindings")}


def family_export(tmp_path: Path, extra: list[dict] | None = None) -> Path:
    """An export not in the repository: a family of four in Zhengzhou and Chengdu."""
    objs = [
        {"kind": "region", "admdvs": "510100", "name": "成都市", "province": "四川省", "cross_province": True},
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
        person("Q1", 1),
        person("Q2", 2, gend="2", insutype="390"),
        person("Q3", 3, insutype="390", insuplc_admdvs="510100"),
        person("Q4", 4, insutype="390", psn_insu_stas="2"),
        {"kind": "account", "psn_no": "Q1", "balc": 120000, "year": 2026},
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12", "scope": "local",
         "quota": 0, "begin_date": "2023-01-01"},
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q3", "relation": "20", "scope": "cross_province",
         "quota": 3000, "begin_date": "2026-03-01"},
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q4", "relation": "51", "scope": "local",
         "quota": 0, "begin_date": "2022-01-01", "end_date": "2024-01-01", "status": "ended"},
    ]
    return write_jsonl(tmp_path / "centre.jsonl", objs + (extra or []))


def test_a_foreign_export_imports(empty_db, tmp_path):
    report = import_file(empty_db, family_export(tmp_path))
    assert report.imported and report.bad == 0 and report.lines == 10
    assert {k: (c.lines, c.inserted) for k, c in report.kinds.items()} == {
        "region": (2, 2), "person": (4, 4), "account": (1, 1), "binding": (3, 3)}
    assert empty_db.execute("SELECT balc FROM accounts WHERE psn_no='Q1'").fetchone() == (120000,)
    rows = empty_db.execute("SELECT user_psn_no, scope, quota, status FROM bindings ORDER BY id").fetchall()
    assert rows == [("Q2", "local", 0, "active"), ("Q3", "cross_province", 3000, "active"),
                    ("Q4", "local", 0, "ended")]
    assert empty_db.execute("SELECT certno FROM persons WHERE psn_no='Q1'").fetchone()[0] == certno(
        "41010219800101011")


def test_reimporting_the_same_file_changes_nothing(empty_db, tmp_path):
    path = family_export(tmp_path)
    import_file(empty_db, path)
    before = dump(empty_db)
    changes_before = empty_db.conn.total_changes
    again = import_file(empty_db, path)
    assert again.imported and again.changes == 0
    assert all(c.inserted == 0 and c.updated == 0 and c.unchanged == c.lines for c in again.kinds.values())
    assert empty_db.conn.total_changes == changes_before
    assert dump(empty_db) == before


def test_a_changed_line_is_an_update(empty_db, tmp_path):
    import_file(empty_db, family_export(tmp_path))
    changed = family_export(tmp_path, [{"kind": "account", "psn_no": "Q1", "balc": 99, "year": 2026}])
    report = import_file(empty_db, changed)
    assert report.kinds["account"].updated == 1 and report.changes == 1
    assert empty_db.execute("SELECT balc, version FROM accounts WHERE psn_no='Q1'").fetchone() == (99, 1)


BAD_LINES = {
    "check digit": (person("B1", 11, certno="410102198001010110"), "check digit"),
    "unknown relation": ({"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "13",
                          "scope": "local", "quota": 0, "begin_date": "2024-01-01"}, "unknown relation code '13'"),
    "dangling reference": ({"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "NOBODY", "relation": "30",
                            "scope": "local", "quota": 0, "begin_date": "2024-01-01"},
                           "NOBODY is not a person in this file or the database"),
    "negative balance": ({"kind": "account", "psn_no": "Q2", "balc": -100}, "balc -100 is out of range"),
    "float balance": ({"kind": "account", "psn_no": "Q2", "balc": 12.5}, "whole number of fen"),
    "duplicate card number": (person("B2", 12, card_no="T00000001"), "duplicate card_no T00000001"),
    "duplicate certno": (person("B3", 1, card_no="X1"), "duplicate certno"),
    "bad insutype": (person("B4", 14, insutype="320"), "insutype must be 310"),
    "bad status": (person("B5", 15, psn_insu_stas="3"), "psn_insu_stas must be"),
    "birth date vs ID": (person("B6", 16, brdy="1980-01-02"), "does not match the birth date"),
    "self binding": ({"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q1", "relation": "10",
                      "scope": "local", "quota": 0, "begin_date": "2024-01-01"}, "same person"),
    "quota on local": ({"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12",
                        "scope": "local", "quota": 5, "begin_date": "2024-01-01"}, "local binding has no quota"),
    "bad scope": ({"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12",
                   "scope": "national", "quota": 0, "begin_date": "2024-01-01"}, "scope must be"),
    "bad date": ({"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12",
                  "scope": "local", "quota": 0, "begin_date": "2024-02-30"}, "begin_date must be a date"),
    "unknown kind": ({"kind": "hospital", "id": 1}, "unknown kind 'hospital'"),
    "list for a code": (person("B7", 17, gend=["1"]), "malformed"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_bad_line_refuses_the_whole_file_with_its_number(empty_db, tmp_path, case):
    line, expected = BAD_LINES[case]
    path = family_export(tmp_path, [line])
    report = import_file(empty_db, path)
    assert not report.imported and report.bad == 1
    assert report.errors[0].line == 11, report.errors
    assert expected in report.errors[0].message, report.errors[0].message
    assert dump(empty_db) == {"regions": [], "persons": [], "accounts": [], "bindings": []}
    if "certno" in case or "check digit" in case:
        assert "410102********" in report.errors[0].message  # the ID number masked in messages


def test_every_bad_line_is_reported_and_skip_bad_imports_the_rest(empty_db, tmp_path):
    path = family_export(tmp_path)
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(2, "{not json")
    text.insert(5, json.dumps({"kind": "account", "psn_no": "Q2", "balc": -1}))
    path.write_text("\n".join(text) + "\n\n", encoding="utf-8")
    report = import_file(empty_db, path)
    assert not report.imported and [e.line for e in report.errors] == [3, 6]
    assert "not valid JSON" in report.errors[0].message
    skipped = import_file(empty_db, path, skip_bad=True)
    assert skipped.imported and skipped.bad == 2
    assert empty_db.execute("SELECT count(*) FROM persons").fetchone()[0] == 4
    assert empty_db.execute("SELECT count(*) FROM accounts").fetchone()[0] == 1


def test_references_may_come_later_in_the_file_or_be_in_the_database(empty_db, tmp_path):
    forward = write_jsonl(tmp_path / "forward.jsonl", [
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12", "scope": "local",
         "quota": 0, "begin_date": "2023-01-01"},
        {"kind": "account", "psn_no": "Q1", "balc": 5},
        person("Q1", 1), person("Q2", 2, gend="2")])
    assert import_file(empty_db, forward).imported
    delta = write_jsonl(tmp_path / "delta.jsonl", [
        person("Q3", 3, insutype="390"),
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q3", "relation": "20", "scope": "local",
         "quota": 0, "begin_date": "2024-01-01"}])
    report = import_file(empty_db, delta)
    assert report.imported and report.kinds["binding"].inserted == 1


def test_demo_export_holds_the_cast(empty_db):
    import_file(empty_db, DATA / "regions.jsonl")
    report = import_file(empty_db, DATA / "demo_export.jsonl")
    assert report.imported and report.kinds["person"].inserted == 9
    profiles = Path(__file__).resolve().parent.parent / "emulator" / "profiles"
    for f in profiles.glob("*.json"):
        prof = json.loads(f.read_text(encoding="utf-8"))
        row = empty_db.execute("SELECT psn_no, psn_name, certno, card_sn FROM persons WHERE card_no = ?",
                               [prof["card"]["card_no"]]).fetchone()
        assert row == ("P" + prof["card"]["card_no"][1:], prof["holder"]["name"], prof["holder"]["certno"],
                       prof["card"]["card_sn"])
    assert empty_db.execute("SELECT psn_no, balc FROM accounts ORDER BY psn_no").fetchall() == [
        ("P10000001", 356000), ("P10000002", 12000), ("P30000006", 80000), ("P40000008", 50000)]
    assert empty_db.execute("SELECT psn_insu_stas, insutype FROM persons WHERE psn_no='P40000009'").fetchone() == (
        "2", "390")
    used = {r[0] for r in empty_db.execute("SELECT insuplc_admdvs FROM persons")}
    assert used <= {r[0] for r in empty_db.execute("SELECT admdvs FROM regions")}


def test_cli_import_reports_line_numbers_and_exits_1(config_file, tmp_path, capsys):
    bad = family_export(tmp_path, [person("B2", 12, card_no="T00000001")])
    code, out = run_cli(config_file, "db", "import", str(bad), "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "import_bad_lines"
    assert "line 11:" in out["error"]["message"] and "nothing imported" in out["error"]["message"]
    code, out = run_cli(config_file, "db", "import", str(bad), "--skip-bad", "--json", capsys=capsys)
    assert code == 0 and out["bad"] == 1 and out["kinds"]["person"]["inserted"] == 4
    code, out = run_cli(config_file, "db", "stats", "--json", capsys=capsys)
    assert code == 0 and out["persons"] == 4 and out["bindings_active"] == 2 and out["quota_total"] == 3000
    code, out = run_cli(config_file, "db", "import", str(tmp_path / "missing.jsonl"), "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "import_file"


def test_no_progress_bar_when_stderr_is_not_a_terminal(config_file, tmp_path):
    path = family_export(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "db", "import",
                           str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "10 lines" in proc.stdout


def test_cli_import_through_the_reading_process(config_file, tmp_path):
    import os
    path = family_export(tmp_path)
    env = dict(os.environ, CASHIER_IMPORT_PARALLEL_BYTES="0")
    proc = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "db", "import",
                           str(path), "--json"], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["imported"] and out["kinds"]["binding"]["inserted"] == 3 and out["kinds"]["person"]["inserted"] == 4


def test_progress_bar_draws_on_a_terminal(empty_db, tmp_path):
    import io

    from terminal.store.importer import terminal_progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    draw = terminal_progress(stream)
    assert terminal_progress(io.StringIO()) is None
    import_file(empty_db, family_export(tmp_path), progress=draw)
    assert "importing [" in stream.getvalue() and "100.0%" in stream.getvalue()


def test_import_is_one_transaction_with_the_database_checks(empty_db, tmp_path):
    import_file(empty_db, family_export(tmp_path))
    with pytest.raises(sqlite3.IntegrityError):
        empty_db.execute("UPDATE accounts SET balc = -1 WHERE psn_no = 'Q1'")
    with pytest.raises(sqlite3.IntegrityError):
        empty_db.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                         "VALUES ('Q1', 'Q2', '12', 'local', 0, '2025-01-01')")  # a second active pair


def test_large_files_are_read_by_a_second_process_with_the_same_results(empty_db, tmp_path, monkeypatch):
    """The worker path (used from PARALLEL_MIN_BYTES up) forced on small files: same rows, same errors."""
    from terminal.store import importer
    monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 0)
    import_file(empty_db, write_jsonl(tmp_path / "first.jsonl", [  # a person already in the db
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
        person("Q9", 9), {"kind": "account", "psn_no": "Q9", "balc": 10}]))
    lines = [
        {"kind": "binding", "owner_psn_no": "Q9", "user_psn_no": "Q2", "relation": "12", "scope": "local",
         "quota": 0, "begin_date": "2023-01-01"},                                       # forward reference
        person("B2", 12, card_no="T00000009"),                                          # duplicate card (db)
        {"kind": "account", "psn_no": "Q2", "balc": -3},                                # negative
    ]
    bad = family_export(tmp_path, lines)
    report = import_file(empty_db, bad)
    assert not report.imported
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [(12, "person B2"), (13, "account Q2")]
    assert "duplicate card_no T00000009, already held by Q9" in report.errors[0].message
    assert empty_db.execute("SELECT count(*) FROM persons").fetchone()[0] == 1
    report = import_file(empty_db, bad, skip_bad=True)
    assert report.imported and report.bad == 2 and report.kinds["binding"].inserted == 4
    before = dump(empty_db)
    assert import_file(empty_db, bad, skip_bad=True).changes == 0 and dump(empty_db) == before


def test_a_byte_order_mark_is_not_an_error(empty_db, tmp_path):
    path = family_export(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert import_file(empty_db, path).imported
