"""Centre-export import into the window's cache (docs/interfaces.md): every line validated, bad lines by number,
all or nothing, idempotent. On the centre's client `cashier db import` loads the window's cache and the embedded
centre: what an import means for money (balances, quotas, who may pay) is checked at the centre, where the money
is (its database, `[centre] db`, and the ledger's family lookup)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from people_helpers import certno, empty_db, person, run_cli, write_jsonl  # noqa: F401  (fixture)
from quota_demo import quota_export

from terminal.store.importer import import_file

DATA = Path(__file__).resolve().parent.parent / "terminal" / "data"


def quota_model(config_file: Path) -> None:
    """The window's config with cross-province mutual aid as an earmarked quota (the demo's ¥500.00 for 张敏)."""
    text = config_file.read_text(encoding="utf-8")
    assert 'cross_province_model = "wallet"' in text
    config_file.write_text(text.replace('cross_province_model = "wallet"', 'cross_province_model = "quota"', 1),
                           encoding="utf-8")


def family(cfg, **who):
    """The family view as of TODAY, asked of the centre (X101) through a ledger of its own."""
    from people_helpers import TODAY

    from terminal.services.ledger import open_ledger
    ledger = open_ledger(cfg)
    try:
        return ledger.family(today=TODAY, **who)
    finally:
        ledger.close()


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
    # the validation gaps an acceptance tester found
    "unknown pooling area": (person("B8", 18, insuplc_admdvs="650100"), "650100 is not a known pooling area"),
    "sex vs ID": (person("B9", 19, certno=certno("41010219800101192")), "gend 1 does not match the ID number"),
    "account for a resident": ({"kind": "account", "psn_no": "Q2", "balc": 100},
                               "only employee insurance (310) has a personal account"),
    "birth date not a real date": (person("B10", 20, certno=certno("41010219850230201"), brdy=None),
                                   "birth date 19850230 is not a real date"),
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
    if "certno" in case or "check digit" in case or "real date" in case:
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
    # the 2025 story: his cross-province binding of 张敏 (Chengdu) sets nothing aside; the aid goes by her wallet
    assert empty_db.execute("SELECT scope, quota FROM bindings WHERE user_psn_no = 'P20000005'").fetchall() == [
        ("cross_province", 0)]
    assert empty_db.execute("SELECT psn_insu_stas, insutype FROM persons WHERE psn_no='P40000009'").fetchone() == (
        "2", "390")
    used = {r[0] for r in empty_db.execute("SELECT insuplc_admdvs FROM persons")}
    assert used <= {r[0] for r in empty_db.execute("SELECT admdvs FROM regions")}


def test_cli_import_reports_line_numbers_and_exits_1(config_file, tmp_path, capsys):
    bad = family_export(tmp_path, [person("B2", 12, card_no="T00000001")])
    code, out = run_cli(config_file, "--lang", "en", "db", "import", str(bad), "--json", capsys=capsys)
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


def test_skip_bad_counts_only_the_lines_imported(empty_db, tmp_path):
    """A line refused by the database (duplicate card number) is bad, not 'unchanged'."""
    path = family_export(tmp_path, [person("B2", 12, card_no="T00000001"),
                                    {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q4", "relation": "51",
                                     "scope": "local", "quota": 0, "begin_date": "2022-01-01", "status": "ended"}])
    report = import_file(empty_db, path, skip_bad=True)
    assert report.imported and report.bad == 1 and [e.line for e in report.errors] == [11]
    counts = report.summary()["kinds"]
    assert counts["person"] == {"lines": 4, "inserted": 4, "updated": 0, "kept": 0, "unchanged": 0}
    assert counts["binding"] == {"lines": 4, "inserted": 3, "updated": 0, "kept": 0, "unchanged": 1}
    assert sum(c["lines"] for c in counts.values()) + report.bad == report.lines


# --- the mutual-aid rules on binding lines ------------------------------------------------------------------

RULE_CASES = {  # extra lines after family_export's 10; the last one is refused
    "in-law (儿媳)": ([{"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "38",
                       "scope": "local", "quota": 0, "begin_date": "2025-01-01"}],
                     "relation_in_law", "art. 1045"),
    "sibling before July 2024": ([person("Q5", 5, insutype="390"),
                                  {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q5", "relation": "70",
                                   "scope": "local", "quota": 0, "begin_date": "2023-05-01"}],
                                 "relation_not_allowed", "allowed from 2024-07-01"),
    "owner in a closed area": ([{"kind": "region", "admdvs": "650100", "name": "乌鲁木齐市", "province": "新疆维吾尔自治区",
                                 "cross_province": False},
                                person("Q5", 5, insuplc_admdvs="650100"),
                                {"kind": "account", "psn_no": "Q5", "balc": 1000},
                                {"kind": "binding", "owner_psn_no": "Q5", "user_psn_no": "Q3", "relation": "20",
                                 "scope": "cross_province", "quota": 100, "begin_date": "2026-03-01"}],
                               "area_closed", "650100"),
    "cross-province before its date": ([person("Q5", 5, insutype="390", insuplc_admdvs="510100"),
                                        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q5",
                                         "relation": "20", "scope": "cross_province", "quota": 100,
                                         "begin_date": "2025-12-01"}],
                                       "cross_province_not_yet", "2026-01-09"),
    "a resident owner without an account": ([{"kind": "binding", "owner_psn_no": "Q2", "user_psn_no": "Q3",
                                              "relation": "20", "scope": "cross_province", "quota": 100,
                                              "begin_date": "2026-03-01"}],
                                            "owner_not_employee", "310"),
    "son who is female": ([person("Q5", 5, gend="2", insutype="390"),
                           {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q5", "relation": "20",
                            "scope": "local", "quota": 0, "begin_date": "2025-01-01"}],
                          "relation_gender_mismatch", "Q5"),
}


@pytest.mark.parametrize("case", sorted(RULE_CASES))
@pytest.mark.parametrize("reader", ["serial", "worker"])
def test_binding_lines_are_held_to_the_rules_bind_applies(empty_db, tmp_path, monkeypatch, case, reader):
    from terminal.store import importer
    if reader == "worker":
        monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 0)
    extra, code, words = RULE_CASES[case]
    report = import_file(empty_db, family_export(tmp_path, extra))
    assert not report.imported and report.bad == 1, report.errors
    (err,) = report.errors
    assert err.line == 10 + len(extra), err
    assert code in err.message and words in err.message, err.message
    assert dump(empty_db) == {"regions": [], "persons": [], "accounts": [], "bindings": []}
    skipped = import_file(empty_db, family_export(tmp_path, extra), skip_bad=True)
    assert skipped.imported and skipped.kinds["binding"].inserted == 3  # the good bindings only


def test_a_suspended_relative_may_hold_a_binding_but_it_does_not_pay(cfg, config_file, tmp_path, capsys):
    """The import takes both bindings (into the cache and the embedded centre); the centre does not offer them."""
    extra = [person("Q8", 8, psn_insu_stas="2"), {"kind": "account", "psn_no": "Q8", "balc": 7000},
             {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q4", "relation": "51", "scope": "local",
              "quota": 0, "begin_date": "2024-02-01"},                       # Q4's insurance is suspended
             {"kind": "binding", "owner_psn_no": "Q8", "user_psn_no": "Q2", "relation": "12", "scope": "local",
              "quota": 0, "begin_date": "2024-02-01"}]                       # the owner Q8 is suspended
    code, out = run_cli(config_file, "db", "import", str(family_export(tmp_path, extra)), "--json", capsys=capsys)
    assert code == 0 and out["imported"] and out["bad"] == 0 and out["kinds"]["binding"]["inserted"] == 5, out
    assert out["centre"]["imported"], out
    assert family(cfg, card_no="T00000004").relatives == []                  # Q4
    assert [r.owner_psn_no for r in family(cfg, card_no="T00000002").relatives] == ["Q1"]      # Q2


def test_every_import_writes_one_audit_row_with_its_counts(empty_db, tmp_path):
    def imports():
        return [json.loads(d) for (d,) in empty_db.execute(
            "SELECT detail FROM audit WHERE action = 'import' ORDER BY id").fetchall()]

    path = family_export(tmp_path)
    import_file(empty_db, path, operator="op7", window="W07")
    (first,) = imports()
    assert first["changes"] == 10 and first["lines"] == 10 and first["file"] == "centre.jsonl"
    assert first["kinds"]["account"] == {"lines": 1, "inserted": 1, "updated": 0, "kept": 0}
    assert empty_db.execute("SELECT operator, \"window\" FROM audit").fetchone() == ("op7", "W07")
    import_file(empty_db, path)
    assert len(imports()) == 1  # the same file: nothing written at all
    newer = family_export(tmp_path, [{"kind": "account", "psn_no": "Q1", "balc": 99}])
    import_file(empty_db, newer)
    assert [i["changes"] for i in imports()] == [10, 1]


# --- re-importing after the window has worked ---------------------------------------------------------------

def test_reimport_after_window_activity_undoes_nothing(config_file, tmp_path, capsys):
    """The tester's finding: settle and unbind at the window, then import the same export, then a newer one.
    The money is the embedded centre's: its balances and bindings are what a re-import must not undo."""
    from people_helpers import TODAY
    from settle_data import write_bill

    from terminal.config import load_config
    quota_model(config_file)
    cfg = load_config(config_file)
    export = quota_export(tmp_path)
    for path in (DATA / "regions.jsonl", export):
        code, out = run_cli(config_file, "db", "import", str(path), "--json", capsys=capsys)
        assert code == 0 and out["changes"] > 0 and out["centre"]["imported"], out
    code, out = run_cli(config_file, "db", "import", str(export), "--json", capsys=capsys)
    assert code == 0 and out["already_imported"] and out["changes"] == 0  # this very file again
    assert out["centre"]["already_imported"], out

    # at the window: 张伟 settles from his own account, then ends his cross-province binding of 张敏
    code, out = run_cli(config_file, "settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill",
                        str(write_bill(tmp_path / "bill.json", items=[("A", 1, 150000)])), "--json", capsys=capsys)
    assert code == 0 and out["acct_pay_fen"] > 0, out
    paid = out["acct_pay_fen"]
    code, out = run_cli(config_file, "unbind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user",
                        "B20000005", "--date", TODAY, "--json", capsys=capsys)
    assert code == 0 and out["returned_fen"] == 50000, out

    def state():
        with closing(sqlite3.connect(f"file:{cfg.resolve(cfg.centre.db)}?mode=ro", uri=True)) as centre:
            return (centre.execute("SELECT psn_no, balc FROM accounts ORDER BY psn_no").fetchall(),
                    centre.execute("SELECT owner_psn_no, user_psn_no, status, quota FROM bindings "
                                   "ORDER BY id").fetchall())

    after_window = state()
    assert dict(after_window[0])["P10000001"] == 356000 - paid + 50000

    code, out = run_cli(config_file, "db", "import", str(export), "--json", capsys=capsys)
    assert code == 0 and out["already_imported"] and out["changes"] == 0 and out["centre"]["already_imported"]
    code, text = run_cli(config_file, "db", "import", str(export), capsys=capsys)
    assert code == 0 and "already imported" in text and "nothing changed" in text
    assert state() == after_window

    # a newer export: 李娜's balance changed at the centre's source; 张伟's and the ended binding stay as the
    # centre moved them
    newer = tmp_path / "newer.jsonl"
    newer.write_text(export.read_text(encoding="utf-8").replace('"balc": 12000', '"balc": 13000'),
                     encoding="utf-8")
    code, out = run_cli(config_file, "db", "import", str(newer), "--json", capsys=capsys)
    assert code == 0 and out["centre"]["imported"] and not out["centre"]["already_imported"], out
    balances = dict(state()[0])
    assert balances["P10000001"] == 356000 - paid + 50000 and balances["P10000002"] == 13000
    assert state()[1] == after_window[1]  # 张伟 -> 张敏 stays ended: no second quota
    assert family(cfg, card_no="B20000005").relatives == []

    # and once imported, the next export applies again (no window activity since)
    newest = tmp_path / "newest.jsonl"
    newest.write_text(newer.read_text(encoding="utf-8").replace('"balc": 356000', '"balc": 300000'),
                      encoding="utf-8")
    code, out = run_cli(config_file, "db", "import", str(newest), "--json", capsys=capsys)
    assert code == 0 and out["centre"]["imported"], out
    assert dict(state()[0])["P10000001"] == 300000


@pytest.mark.parametrize("reader", ["serial", "worker"])
def test_a_region_line_may_come_after_its_persons(empty_db, tmp_path, monkeypatch, reader):
    from terminal.store import importer
    if reader == "worker":
        monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 0)
    path = write_jsonl(tmp_path / "late.jsonl", [
        person("Q1", 1), {"kind": "account", "psn_no": "Q1", "balc": 10},
        person("Q2", 2, gend="2", insutype="390"),
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12", "scope": "local",
         "quota": 0, "begin_date": "2023-01-01"},
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True}])
    report = import_file(empty_db, path)
    assert report.imported and report.bad == 0, report.errors
    assert {k: c.inserted for k, c in report.kinds.items()} == {"region": 1, "person": 2, "account": 1, "binding": 1}
