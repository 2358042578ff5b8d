"""`cashier db import`: one importer, the centre's. With the embedded centre the centre validates and imports the
export (every line, all or nothing, idempotent) and the window's cache is filled from what the centre then holds;
with a centre over HTTP the cache is filled from the file read by the centre's own checks, and the centre's money
is not touched. What each line may hold (every refusal, the rules on bindings, the reading process of a large
file) is test_centre_import.py's; here: that the window reaches those checks, names the line and the field,
writes nothing on a refusal, and that its cache agrees with the centre."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from people_helpers import certno, family, person, run_cli, write_jsonl
from quota_demo import quota_export, quota_model
from test_centre_import import BAD_LINES, RULE_CASES, family_export

DATA = Path(__file__).resolve().parent.parent / "terminal" / "data"
EMPTY = {"regions": [], "persons": [], "accounts": [], "bindings": []}


def db_import(config_file: Path, path: Path, *flags: str, capsys) -> tuple[int, dict]:
    """`cashier --lang en db import PATH --json FLAGS...`: (exit code, the JSON printed)."""
    code, out = run_cli(config_file, "--lang", "en", "db", "import", str(path), "--json", *flags, capsys=capsys)
    assert isinstance(out, dict), out
    return code, out


def _rows(path: Path, columns: dict[str, str]) -> dict[str, list[tuple]]:
    if not path.exists():
        return {t: [] for t in columns}
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return {t: db.execute(f"SELECT {c} FROM {t} ORDER BY 1, 2").fetchall() for t, c in columns.items()}


PEOPLE = {"regions": "admdvs, name, province, cross_province",
          "persons": "psn_no, certno, psn_name, gend, naty, brdy, card_no, card_sn, insuplc_admdvs, insutype, "
                     "psn_insu_stas",
          "accounts": "psn_no, balc, year",
          "bindings": "owner_psn_no, user_psn_no, relation, scope, quota, begin_date, end_date, status"}


def cache(cfg) -> dict[str, list[tuple]]:
    """The window's cache: the people tables as the window holds them."""
    return _rows(Path(cfg.db_path), PEOPLE)


def centre(cfg) -> dict[str, list[tuple]]:
    """The same tables at the embedded centre."""
    return _rows(Path(cfg.resolve(cfg.centre.db)), PEOPLE)


def refused(out: dict) -> list[tuple[int, str]]:
    """(line, message) of each bad line a refusal names (`line N: message`, one a line after its head)."""
    assert out["error"]["code"] == "import_bad_lines", out
    found = []
    for text in out["error"]["message"].splitlines()[1:]:
        number, _, message = text.partition(": ")
        assert number.startswith("line "), text
        found.append((int(number[5:]), message))
    return found


def kinds(out: dict) -> dict[str, tuple[int, int]]:
    """(lines, inserted) of each kind the file held."""
    return {k: (c["lines"], c["inserted"]) for k, c in out["kinds"].items() if c["lines"]}


def test_the_centre_imports_and_the_cache_holds_what_the_centre_holds(cfg, config_file, tmp_path, capsys):
    code, out = db_import(config_file, family_export(tmp_path), capsys=capsys)
    assert code == 0 and out["imported"] and out["bad"] == 0 and out["lines"] == 10, out
    assert kinds(out) == {"region": (2, 2), "person": (4, 4), "account": (1, 1), "binding": (3, 3)}
    assert out["centre"] == {"imported": True, "db": str(cfg.resolve(cfg.centre.db)), "already_imported": False}
    assert out["cache"] == {"person": 4, "account": 1, "binding": 3, "region": 2}
    held = cache(cfg)
    assert held == centre(cfg)
    assert held["accounts"] == [("Q1", 120000, 2026)]
    assert [(b[1], b[3], b[4], b[7]) for b in held["bindings"]] == [
        ("Q2", "local", 0, "active"), ("Q3", "cross_province", 3000, "active"), ("Q4", "local", 0, "ended")]
    assert held["persons"][0][:2] == ("Q1", certno("41010219800101011"))


def test_reimporting_the_same_file_changes_nothing(cfg, config_file, tmp_path, capsys):
    path = family_export(tmp_path)
    db_import(config_file, path, capsys=capsys)
    before = cache(cfg), centre(cfg)
    with closing(sqlite3.connect(cfg.db_path)) as db:
        audit = db.execute("SELECT count(*) FROM audit").fetchone()
    code, out = db_import(config_file, path, capsys=capsys)
    assert code == 0 and out["already_imported"] and out["changes"] == 0 and out["centre"]["already_imported"]
    assert out["cache"] == {"person": 0, "account": 0, "binding": 0, "region": 0}
    assert (cache(cfg), centre(cfg)) == before
    with closing(sqlite3.connect(cfg.db_path)) as db:
        assert db.execute("SELECT count(*) FROM audit").fetchone() == audit      # nothing written at all
    code, text = run_cli(config_file, "db", "import", str(path), capsys=capsys)
    assert code == 0 and "already imported" in text and "nothing changed" in text


def test_a_changed_line_is_an_update_in_the_centre_and_the_cache(cfg, config_file, tmp_path, capsys):
    db_import(config_file, family_export(tmp_path), capsys=capsys)
    changed = family_export(tmp_path, [{"kind": "account", "psn_no": "Q1", "balc": 99, "year": 2026}])
    code, out = db_import(config_file, changed, capsys=capsys)
    assert code == 0 and out["kinds"]["account"]["updated"] == 1 and out["changes"] == 1, out
    assert cache(cfg)["accounts"] == centre(cfg)["accounts"] == [("Q1", 99, 2026)]
    with closing(sqlite3.connect(cfg.db_path)) as db:
        assert db.execute("SELECT version FROM accounts WHERE psn_no = 'Q1'").fetchone() == (1,)


# the centre's cases (test_centre_import.py holds them all): one of each field the window's cache keeps
WINDOW_CASES = ("check digit", "duplicate card number", "dangling reference", "negative balance",
                "unknown pooling area", "escape in a name", "unknown relation", "birth date not a real date")


@pytest.mark.parametrize("case", WINDOW_CASES)
def test_a_bad_line_refuses_the_whole_file_naming_its_line_and_field(cfg, config_file, tmp_path, capsys, case):
    """The centre's check, through the command line: the line and the field named, nothing written anywhere."""
    line, expected = BAD_LINES[case]
    code, out = db_import(config_file, family_export(tmp_path, [line]), capsys=capsys)
    assert code == 1, out
    ((line_no, message),) = refused(out)
    assert line_no == 11 and expected in message, message
    assert cache(cfg) == centre(cfg) == EMPTY
    if "certno" in case or "check digit" in case or "real date" in case:
        assert "410102********" in message  # the ID number masked in messages


def test_every_bad_line_is_reported_and_skip_bad_imports_the_rest(cfg, config_file, tmp_path, capsys):
    path = family_export(tmp_path)
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(2, "{not json")
    text.insert(5, json.dumps({"kind": "account", "psn_no": "Q2", "balc": -1}))
    path.write_text("\n".join(text) + "\n\n", encoding="utf-8")
    code, out = db_import(config_file, path, capsys=capsys)
    assert code == 1 and [n for n, _m in refused(out)] == [3, 6]
    assert "not valid JSON" in refused(out)[0][1]
    code, out = db_import(config_file, path, "--skip-bad", capsys=capsys)
    assert code == 0 and out["imported"] and out["bad"] == 2, out
    assert len(cache(cfg)["persons"]) == 4 and len(cache(cfg)["accounts"]) == 1
    assert cache(cfg) == centre(cfg)


def test_references_may_come_later_in_the_file_or_be_in_the_database(cfg, config_file, tmp_path, capsys):
    forward = write_jsonl(tmp_path / "forward.jsonl", [
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12", "scope": "local",
         "quota": 0, "begin_date": "2023-01-01"},
        {"kind": "account", "psn_no": "Q1", "balc": 5},
        person("Q1", 1), person("Q2", 2, gend="2")])
    assert db_import(config_file, forward, capsys=capsys)[0] == 0
    delta = write_jsonl(tmp_path / "delta.jsonl", [
        person("Q3", 3, insutype="390"),
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q3", "relation": "20", "scope": "local",
         "quota": 0, "begin_date": "2024-01-01"}])
    code, out = db_import(config_file, delta, capsys=capsys)
    assert code == 0 and out["kinds"]["binding"]["inserted"] == 1, out
    assert [b[:2] for b in cache(cfg)["bindings"]] == [("Q1", "Q2"), ("Q1", "Q3")]


def test_demo_export_holds_the_cast(cfg, config_file, capsys):
    db_import(config_file, DATA / "regions.jsonl", capsys=capsys)
    code, out = db_import(config_file, DATA / "demo_export.jsonl", capsys=capsys)
    assert code == 0 and out["kinds"]["person"]["inserted"] == 9, out
    with closing(sqlite3.connect(cfg.db_path)) as db:
        profiles = Path(__file__).resolve().parent.parent / "emulator" / "profiles"
        for f in profiles.glob("*.json"):
            prof = json.loads(f.read_text(encoding="utf-8"))
            row = db.execute("SELECT psn_no, psn_name, certno, card_sn FROM persons WHERE card_no = ?",
                             [prof["card"]["card_no"]]).fetchone()
            assert row == ("P" + prof["card"]["card_no"][1:], prof["holder"]["name"], prof["holder"]["certno"],
                           prof["card"]["card_sn"])
        assert db.execute("SELECT psn_no, balc FROM accounts ORDER BY psn_no").fetchall() == [
            ("P10000001", 356000), ("P10000002", 12000), ("P30000006", 80000), ("P40000008", 50000)]
        # the 2025 story: his cross-province binding of 张敏 (Chengdu) sets nothing aside; the aid goes by her wallet
        assert db.execute("SELECT scope, quota FROM bindings WHERE user_psn_no = 'P20000005'").fetchall() == [
            ("cross_province", 0)]
        used = {r[0] for r in db.execute("SELECT insuplc_admdvs FROM persons")}
        assert used <= {r[0] for r in db.execute("SELECT admdvs FROM regions")}
    assert cache(cfg) == centre(cfg)


def test_cli_import_reports_line_numbers_and_exits_1(config_file, tmp_path, capsys):
    bad = family_export(tmp_path, [person("B2", 12, card_no="T00000001")])
    code, out = db_import(config_file, bad, capsys=capsys)
    assert code == 1 and out["error"]["code"] == "import_bad_lines"
    assert "line 11:" in out["error"]["message"] and "nothing imported" in out["error"]["message"]
    code, out = db_import(config_file, bad, "--skip-bad", capsys=capsys)
    assert code == 0 and out["bad"] == 1 and out["kinds"]["person"]["inserted"] == 4
    code, out = run_cli(config_file, "db", "stats", "--json", capsys=capsys)
    assert code == 0 and out["persons"] == 4 and out["bindings_active"] == 2 and out["quota_total"] == 3000
    code, out = db_import(config_file, tmp_path / "missing.jsonl", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "import_file" and "missing.jsonl" in out["error"]["message"]


def test_no_progress_bar_when_stderr_is_not_a_terminal(config_file, tmp_path):
    path = family_export(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "db", "import",
                           str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "10 lines" in proc.stdout and "window cache filled: 4 persons" in proc.stdout


def test_cli_import_through_the_reading_process(cfg, config_file, tmp_path):
    """A large file's second (reading) process, forced on a small one: the same rows in the centre and the cache."""
    import os
    path = family_export(tmp_path)
    env = dict(os.environ, CASHIER_IMPORT_PARALLEL_BYTES="0")
    proc = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "db", "import",
                           str(path), "--json"], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["imported"] and out["kinds"]["binding"]["inserted"] == 3 and out["kinds"]["person"]["inserted"] == 4
    assert len(cache(cfg)["bindings"]) == 3 and cache(cfg) == centre(cfg)


def test_the_cache_keeps_the_database_checks(cfg, config_file, tmp_path, capsys):
    db_import(config_file, family_export(tmp_path), capsys=capsys)
    with closing(sqlite3.connect(cfg.db_path)) as db:
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("UPDATE accounts SET balc = -1 WHERE psn_no = 'Q1'")
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                       "VALUES ('Q1', 'Q2', '12', 'local', 0, '2025-01-01')")  # a second active pair


def test_a_byte_order_mark_is_not_an_error(config_file, tmp_path, capsys):
    path = family_export(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert db_import(config_file, path, capsys=capsys)[0] == 0


def test_skip_bad_counts_only_the_lines_imported(cfg, config_file, tmp_path, capsys):
    """A line refused by the database (duplicate card number) is bad, not 'unchanged'."""
    path = family_export(tmp_path, [person("B2", 12, card_no="T00000001"),
                                    {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q4", "relation": "51",
                                     "scope": "local", "quota": 0, "begin_date": "2022-01-01", "status": "ended"}])
    code, out = db_import(config_file, path, "--skip-bad", capsys=capsys)
    assert code == 0 and out["bad"] == 1 and [e["line"] for e in out["errors"]] == [11], out
    counts = out["kinds"]
    assert counts["person"] == {"lines": 4, "inserted": 4, "updated": 0, "kept": 0, "unchanged": 0}
    assert counts["binding"] == {"lines": 4, "inserted": 3, "updated": 0, "kept": 0, "unchanged": 1}
    assert sum(c["lines"] for c in counts.values()) + out["bad"] == out["lines"]
    assert out["cache"]["binding"] == 3 and cache(cfg) == centre(cfg)


# --- the mutual-aid rules on binding lines (every case: test_centre_import.py) --------------------------------

@pytest.mark.parametrize("case", ["in-law (儿媳)", "sibling before July 2024"])
def test_binding_lines_are_held_to_the_rules_bind_applies(cfg, config_file, tmp_path, capsys, case):
    extra, code_name, words = RULE_CASES[case]
    code, out = db_import(config_file, family_export(tmp_path, extra), capsys=capsys)
    assert code == 1, out
    ((line_no, message),) = refused(out)
    assert line_no == 10 + len(extra), message
    assert code_name in message and words in message, message
    assert cache(cfg) == centre(cfg) == EMPTY
    code, out = db_import(config_file, family_export(tmp_path, extra), "--skip-bad", capsys=capsys)
    assert code == 0 and out["kinds"]["binding"]["inserted"] == 3 and out["cache"]["binding"] == 3  # the good ones


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


def test_every_fill_of_the_cache_writes_one_audit_row_with_its_counts(cfg, config_file, tmp_path, capsys):
    def imports():
        with closing(sqlite3.connect(cfg.db_path)) as db:
            return [(json.loads(d), op, w) for (d, op, w) in db.execute(
                "SELECT detail, operator, \"window\" FROM audit WHERE action = 'import' ORDER BY id").fetchall()]

    path = family_export(tmp_path)
    db_import(config_file, path, capsys=capsys)
    ((first, operator, window),) = imports()
    assert first["lines"] == 10 and first["file"] == "centre.jsonl" and len(first["sha256"]) == 64
    assert first["cache"] == {"person": 4, "account": 1, "binding": 3, "region": 2}
    assert (operator, window) == (cfg.terminal.operator, cfg.terminal.window)
    db_import(config_file, path, capsys=capsys)
    assert len(imports()) == 1  # the same file: nothing written at all
    newer = family_export(tmp_path, [{"kind": "account", "psn_no": "Q1", "balc": 99}])
    db_import(config_file, newer, capsys=capsys)
    assert [i[0]["lines"] for i in imports()] == [10, 11]


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
    # the window's cache follows the centre, not the file
    assert [(p, b) for p, b, _y in cache(cfg)["accounts"]] == state()[0]
    assert family(cfg, card_no="B20000005").relatives == []

    # and once imported, the next export applies again (no window activity since)
    newest = tmp_path / "newest.jsonl"
    newest.write_text(newer.read_text(encoding="utf-8").replace('"balc": 356000', '"balc": 300000'),
                      encoding="utf-8")
    code, out = run_cli(config_file, "db", "import", str(newest), "--json", capsys=capsys)
    assert code == 0 and out["centre"]["imported"], out
    assert dict(state()[0])["P10000001"] == 300000


def test_a_region_line_may_come_after_its_persons(cfg, config_file, tmp_path, capsys):
    path = write_jsonl(tmp_path / "late.jsonl", [
        person("Q1", 1), {"kind": "account", "psn_no": "Q1", "balc": 10},
        person("Q2", 2, gend="2", insutype="390"),
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12", "scope": "local",
         "quota": 0, "begin_date": "2023-01-01"},
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True}])
    code, out = db_import(config_file, path, capsys=capsys)
    assert code == 0 and out["bad"] == 0, out
    assert kinds(out) == {"region": (1, 1), "person": (2, 2), "account": (1, 1), "binding": (1, 1)}
    assert cache(cfg) == centre(cfg)


# --- a centre over HTTP ------------------------------------------------------------------------------------

def http_centre(config_file: Path) -> str:
    """The window's config with its centre on another machine (nothing listens: the import must not ask it)."""
    url = "http://127.0.0.1:9"
    text = config_file.read_text(encoding="utf-8")
    assert '\nurl = ""' in text
    config_file.write_text(text.replace('\nurl = ""', f'\nurl = "{url}"', 1), encoding="utf-8")
    return url


def test_over_http_the_cache_is_filled_from_the_checked_file_and_the_centre_is_untouched(cfg, config_file,
                                                                                           tmp_path, capsys):
    from terminal.config import load_config
    url = http_centre(config_file)
    cfg = load_config(config_file)
    code, out = db_import(config_file, DATA / "regions.jsonl", capsys=capsys)
    assert code == 0 and out["centre"] == {"imported": False, "url": url} and out["cache"]["region"] == 33, out
    # an export that refers to areas of an earlier one: read with what the cache already holds
    cast = tmp_path / "cast.jsonl"
    cast.write_text("".join(line + "\n" for line in (DATA / "demo_export.jsonl").read_text(encoding="utf-8")
                            .splitlines() if '"kind": "region"' not in line), encoding="utf-8")
    code, text = run_cli(config_file, "--lang", "en", "db", "import", str(cast), capsys=capsys)
    assert code == 0 and "window cache filled: 9 persons, 4 accounts, 4 bindings" in text, text
    assert f"centre is at {url}" in text and "cashier centre import" in text
    assert not Path(cfg.resolve(cfg.centre.db)).exists()           # no centre database made here
    held = cache(cfg)
    assert len(held["persons"]) == 9 and ("P10000001", 356000, 2026) in held["accounts"]
    before = held
    code, out = db_import(config_file, cast, capsys=capsys)      # the same file: nothing written
    assert code == 0 and out["already_imported"] and cache(cfg) == before
    # a line the centre would refuse is refused here the same way, by line and field, and nothing is written
    bad = write_jsonl(tmp_path / "bad.jsonl", [person("H1", 1), {"kind": "account", "psn_no": "H1", "balc": -5}])
    code, out = db_import(config_file, bad, capsys=capsys)
    assert code == 1 and [(n, m.split(":")[0]) for n, m in refused(out)] == [(2, "account H1")], out
    assert "balc -5 is out of range" in refused(out)[0][1]
    assert cache(cfg) == before


def test_a_window_database_it_cannot_use_stops_the_import_before_the_centre(cfg, config_file, tmp_path, capsys):
    Path(cfg.db_path).parent.mkdir(parents=True, exist_ok=True)
    Path(cfg.db_path).write_bytes(b"not a database at all, but a file someone put here" * 100)
    code, out = db_import(config_file, family_export(tmp_path), capsys=capsys)
    assert code != 0 and "error" in out, out
    assert centre(cfg) == EMPTY


def test_a_cache_written_before_is_brought_to_what_the_centre_holds_keeping_its_ids(cfg, config_file, tmp_path,
                                                                                   capsys):
    """An older window database (its own binding ids; the centre has since ended a binding and made a new one for
    the same pair) opens and is filled: the same binding is the same row, the new one a new row."""
    db_import(config_file, family_export(tmp_path), capsys=capsys)
    with closing(sqlite3.connect(cfg.db_path)) as db:
        db.execute("UPDATE bindings SET id = id + 100")
        db.commit()
    ended = {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12", "scope": "local",
             "quota": 0, "begin_date": "2023-01-01", "end_date": "2026-05-31", "status": "ended"}
    again = {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12", "scope": "local",
             "quota": 0, "begin_date": "2026-06-01"}
    newer = family_export(tmp_path, name="newer.jsonl")
    lines = [line for line in newer.read_text(encoding="utf-8").splitlines() if '"user_psn_no": "Q2"' not in line]
    newer.write_text("\n".join([*lines, json.dumps(ended), json.dumps(again)]) + "\n", encoding="utf-8")
    code, out = db_import(config_file, newer, capsys=capsys)
    assert code == 0 and out["cache"]["binding"] == 4, out
    assert cache(cfg) == centre(cfg)
    with closing(sqlite3.connect(cfg.db_path)) as db:
        assert db.execute("SELECT id, begin_date, status FROM bindings WHERE user_psn_no = 'Q2' ORDER BY id"
                          ).fetchall() == [(101, "2023-01-01", "ended"), (104, "2026-06-01", "active")]
