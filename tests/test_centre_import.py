"""The centre's import of a centre export (persons, accounts, bindings, regions, catalogue, hospitals) and its
integrity check: every line validated, bad lines by number, all or nothing, idempotent, and every balance,
quota and accumulator explained by its history after imports, settlements and re-imports."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from centre_support import DEMO_CATALOGUE, DEMO_EXPORT, HOSPITAL, Client, demo_lines, load_lines
from people_helpers import certno, person, run_cli, write_jsonl

from centre.api import import_export, open_centre
from centre.errors import Refused
from centre.importer import import_file, terminal_progress
from centre.rules.mutual_aid import MutualAidPolicy
from centre.store import money
from centre.store.engine import is_dsn, open_store
from centre.store.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ROOT / "centre" / "data" / "regions.jsonl"
NOW = dt.datetime(2026, 11, 29, 10, 0, 0)
TABLES = ("regions", "persons", "accounts", "bindings", "catalogue", "medins", "movements")


@pytest.fixture
def centre_db(centre_where):
    """A migrated, empty centre database: a SQLite file, or a PostgreSQL database (the store_kind parameter)."""
    store = open_store(centre_where())
    db = store.db()
    migrate(db)
    yield db
    store.close()


INTEGRITY = (sqlite3.IntegrityError, psycopg.IntegrityError)   # what each database says to a broken rule


def changes(db) -> int | None:
    """SQLite's count of rows written by this connection (None on PostgreSQL: the dumps are compared there)."""
    return db.conn.total_changes if db.dialect == "sqlite" else None


def imp(db: Any, path: Path, **kw):
    return import_file(db, path, policy=MutualAidPolicy.default(), **kw)


def dump(db: Any) -> dict[str, list[tuple]]:
    """Every row of the imported tables, for before/after comparisons."""
    return {t: db.all(f"SELECT * FROM {t} ORDER BY 1") for t in TABLES}


EMPTY = {t: [] for t in TABLES}


def family_export(tmp_path: Path, extra: list[dict] | None = None, name: str = "centre.jsonl") -> Path:
    """An export not in the repository: a family of four in Zhengzhou and Chengdu (10 lines)."""
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
    return write_jsonl(tmp_path / name, objs + (extra or []))


CATALOGUE = [
    {"kind": "catalogue", "med_list_codg": "X001", "name": "阿莫西林胶囊", "chrgitm_lv": "01", "med_chrgitm_type": "09"},
    {"kind": "catalogue", "med_list_codg": "D002", "name": "布洛芬缓释胶囊", "chrgitm_lv": "02",
     "med_chrgitm_type": "09", "selfpay_prop": "0.20", "pric_uplmt_amt": 20.5},
    {"kind": "catalogue", "med_list_codg": "C001", "name": "维生素C泡腾片", "chrgitm_lv": "03", "med_chrgitm_type": "09"},
    {"kind": "medins", "fixmedins_code": HOSPITAL, "fixmedins_name": "郑州市第一人民医院", "hosp_lv": "1",
     "admdvs": "410102"},
]


def test_a_foreign_export_imports(centre_db, tmp_path):
    report = imp(centre_db, family_export(tmp_path, CATALOGUE))
    assert report.imported and report.bad == 0 and report.lines == 14
    assert {k: (c.lines, c.inserted) for k, c in report.kinds.items()} == {
        "region": (2, 2), "person": (4, 4), "account": (1, 1), "binding": (3, 3), "catalogue": (3, 3),
        "medins": (1, 1), "region_rule": (0, 0)}
    assert centre_db.all("SELECT balc, opening FROM accounts WHERE psn_no='Q1'") == [(120000, 120000)]
    rows = centre_db.all("SELECT user_psn_no, scope, quota, status FROM bindings ORDER BY id")
    assert rows == [("Q2", "local", 0, "active"), ("Q3", "cross_province", 3000, "active"),
                    ("Q4", "local", 0, "ended")]
    assert centre_db.one("SELECT certno FROM persons WHERE psn_no='Q1'")[0] == certno("41010219800101011")
    # the imported quota is a movement of its own: quota = movements - ledger; the balance is already net of it
    assert centre_db.all("SELECT kind, psn_no, binding_id, balc_delta, quota_delta FROM movements") == [
        ("import", "Q1", 2, 0, 3000)]
    assert centre_db.all("SELECT * FROM catalogue ORDER BY med_list_codg") == [
        ("C001", "维生素C泡腾片", "03", "09", None, None, "0"),
        ("D002", "布洛芬缓释胶囊", "02", "09", "0.20", "20.5", "0"),
        ("X001", "阿莫西林胶囊", "01", "09", None, None, "0")]
    assert centre_db.all("SELECT * FROM medins") == [(HOSPITAL, "郑州市第一人民医院", "1", "410102")]
    assert money.drifts(centre_db) == []


def test_reimporting_the_same_file_changes_nothing(centre_db, tmp_path):
    path = family_export(tmp_path, CATALOGUE)
    imp(centre_db, path)
    before = dump(centre_db)
    changes_before = changes(centre_db)
    again = imp(centre_db, path)
    assert again.imported and again.already and again.changes == 0
    assert changes(centre_db) == changes_before
    assert dump(centre_db) == before


def test_the_same_lines_in_another_file_change_nothing(centre_db, tmp_path):
    imp(centre_db, family_export(tmp_path, CATALOGUE))
    before = dump(centre_db)
    again = imp(centre_db, family_export(tmp_path, CATALOGUE + [{"kind": "region", "admdvs": "410100",
                                                                 "name": "郑州市", "province": "河南省",
                                                                 "cross_province": True}], name="copy.jsonl"))
    assert again.imported and not again.already and again.changes == 0
    assert all(c.inserted == 0 and c.updated == 0 and c.unchanged == c.lines for c in again.kinds.values())
    assert dump(centre_db) == before


def test_a_changed_line_is_an_update_and_the_history_still_agrees(centre_db, tmp_path):
    imp(centre_db, family_export(tmp_path, CATALOGUE))
    changed = family_export(tmp_path, CATALOGUE + [
        {"kind": "account", "psn_no": "Q1", "balc": 99, "year": 2026},
        {"kind": "catalogue", "med_list_codg": "Y9", "name": "新增项目", "chrgitm_lv": "02", "med_chrgitm_type": "05"},
        {"kind": "medins", "fixmedins_code": "H41010000002", "fixmedins_name": "二院", "hosp_lv": "2",
         "admdvs": "410100"}], name="newer.jsonl")
    text = changed.read_text(encoding="utf-8").replace('"quota": 3000', '"quota": 2500').replace(
        '"hosp_lv": "1"', '"hosp_lv": "3"')
    changed.write_text(text, encoding="utf-8")
    report = imp(centre_db, changed)
    assert report.imported and report.bad == 0, report.errors
    assert {k: (c.inserted, c.updated) for k, c in report.kinds.items()} == {
        "region": (0, 0), "person": (0, 0), "account": (0, 1), "binding": (0, 1), "catalogue": (1, 0),
        "medins": (1, 1), "region_rule": (0, 0)}
    assert report.changes == 5
    assert centre_db.all("SELECT balc, opening, version FROM accounts WHERE psn_no='Q1'") == [(99, 99, 1)]
    assert centre_db.all("SELECT quota_delta FROM movements WHERE binding_id = 2 ORDER BY id") == [(3000,), (-500,)]
    assert centre_db.one("SELECT hosp_lv FROM medins WHERE fixmedins_code = ?", [HOSPITAL]) == ("3",)
    assert money.drifts(centre_db) == []


BAD_LINES = {
    "check digit": (person("B1", 11, certno="410102198001010110"), "check digit"),
    "unknown relation": ({"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "13",
                          "scope": "local", "quota": 0, "begin_date": "2024-01-01"}, "unknown relation code '13'"),
    "dangling reference": ({"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "NOBODY", "relation": "30",
                            "scope": "local", "quota": 0, "begin_date": "2024-01-01"},
                           "NOBODY is not a person in this file or the database"),
    "negative balance": ({"kind": "account", "psn_no": "Q2", "balc": -100}, "balc -100 is out of range"),
    "float balance": ({"kind": "account", "psn_no": "Q2", "balc": 12.5}, "balc must be a whole number of fen, not 12.5"),
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
    "unknown kind": ({"kind": "hospital", "id": 1}, "unknown kind 'hospital' (region, person, account, binding, "
                                                    "catalogue, medins, region_rule)"),
    "list for a code": (person("B7", 17, gend=["1"]), "malformed"),
    "unknown pooling area": (person("B8", 18, insuplc_admdvs="650100"), "650100 is not a known pooling area"),
    "sex vs ID": (person("B9", 19, certno=certno("41010219800101192")), "gend 1 does not match the ID number"),
    "account for a resident": ({"kind": "account", "psn_no": "Q2", "balc": 100},
                               "only employee insurance (310) has a personal account"),
    "birth date not a real date": (person("B10", 20, certno=certno("41010219850230201"), brdy=None),
                                   "birth date 19850230 is not a real date"),
    "a 4000-digit balance": ({"kind": "account", "psn_no": "Q1", "balc": 10**3999},
                             "balc a number of about 4000 digits is out of range"),
    # the centre's own: psn_no the interface can name, the optional 1101 fields
    "psn_no with a space": (person("B 11", 21), "psn_no must be 1 to 30 letters or digits, not 'B 11'"),
    "psn_no too long": (person("B" * 31, 21), "psn_no must be 1 to 30 letters or digits"),
    "binding psn_no with an escape": ({"kind": "binding", "owner_psn_no": "Q1\x1b[2J", "user_psn_no": "Q2",
                                       "relation": "12", "scope": "local", "quota": 0, "begin_date": "2024-01-01"},
                                      r"owner_psn_no must be 1 to 30 letters or digits, not 'Q1\x1b[2J'"),
    "bad psn_type": (person("B12", 22, psn_type="x1"), "psn_type must be a code of 1 to 6 digits"),
    "bad cvlserv_flag": (person("B13", 23, cvlserv_flag="2"), "cvlserv_flag must be 0 or 1"),
    "bad psn_insu_date": (person("B14", 24, psn_insu_date="2020-02-30"), "psn_insu_date must be a date"),
    "paused before insured": (person("B15", 25, psn_insu_date="2020-01-01", paus_insu_date="2019-12-31"),
                              "paus_insu_date 2019-12-31 is before psn_insu_date 2020-01-01"),
    # hostile text: terminal escapes, bidi overrides, sizes
    "escape in a name": (person("B16", 26, psn_name="张\x1b]0;pwned\x07"),
                         "psn_name must not contain control or invisible characters (U+001B)"),
    "bidi override in a name": (person("B17", 27, psn_name="\u202e伟张"), "(U+202E)"),
    "name too long": (person("B18", 28, psn_name="张" * 101), "psn_name is too long: 101 characters, at most 100"),
    "blank name": (person("B19", 29, psn_name="  "), "psn_name is missing"),
    "escape in an employer": (person("B20", 30, emp_name="公司\x9b31m"), "emp_name must not contain control"),
    "escape in a region name": ({"kind": "region", "admdvs": "650100", "name": "乌鲁木齐\x1b[31m",
                                 "cross_province": False}, "region 650100: name must not contain control"),
    "province too long": ({"kind": "region", "admdvs": "650100", "name": "乌鲁木齐市", "province": "新" * 101,
                           "cross_province": False}, "region 650100: province is too long"),
    "cross_province as text": ({"kind": "region", "admdvs": "650100", "name": "乌鲁木齐市",
                                "cross_province": "yes"}, "cross_province must be true or false"),
    # catalogue lines
    "catalogue class": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "04",
                         "med_chrgitm_type": "09"}, "chrgitm_lv must be 01 (class A), 02 (class B) or 03"),
    "catalogue class as a letter": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "A",
                                     "med_chrgitm_type": "09"}, "not 'A'"),
    "catalogue code with a space": ({"kind": "catalogue", "med_list_codg": "X 9", "name": "药", "chrgitm_lv": "01",
                                     "med_chrgitm_type": "09"}, "med_list_codg must be 1 to 50 visible ASCII"),
    "catalogue code too long": ({"kind": "catalogue", "med_list_codg": "X" * 51, "name": "药", "chrgitm_lv": "01",
                                 "med_chrgitm_type": "09"}, "med_list_codg must be 1 to 50"),
    "catalogue name missing": ({"kind": "catalogue", "med_list_codg": "X9", "chrgitm_lv": "01",
                                "med_chrgitm_type": "09"}, "catalogue X9: name must be text, not None"),
    "catalogue name escape": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药\x1b[2J", "chrgitm_lv": "01",
                               "med_chrgitm_type": "09"}, "catalogue X9: name must not contain control"),
    "catalogue type missing": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "01"},
                               "med_chrgitm_type must be a code of 1 to 10 letters or digits, not None"),
    "ratio with five decimals": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "02",
                                  "med_chrgitm_type": "09", "selfpay_prop": "0.12345"},
                                 "selfpay_prop must be a decimal string from 0 to 1 with at most 4 decimals"),
    "ratio above one": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "02",
                         "med_chrgitm_type": "09", "selfpay_prop": "1.5"}, "not '1.5'"),
    "ratio as a number": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "02",
                           "med_chrgitm_type": "09", "selfpay_prop": 0.1}, "decimal string"),
    "ratio against class A": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "01",
                               "med_chrgitm_type": "09", "selfpay_prop": "0.1"}, "contradicts chrgitm_lv 01"),
    "price limit with seven decimals": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "02",
                                         "med_chrgitm_type": "09", "pric_uplmt_amt": 1.1234567},
                                        "pric_uplmt_amt has more than 6 decimals: 1.1234567"),
    "price limit as text": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "02",
                             "med_chrgitm_type": "09", "pric_uplmt_amt": "12.00"},
                            "pric_uplmt_amt must be a JSON number in yuan, not '12.00'"),
    "price limit negative": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "02",
                              "med_chrgitm_type": "09", "pric_uplmt_amt": -1},
                             "pric_uplmt_amt must be more than 0"),
    "price limit absurd": ({"kind": "catalogue", "med_list_codg": "X9", "name": "药", "chrgitm_lv": "02",
                            "med_chrgitm_type": "09", "pric_uplmt_amt": 10**12}, "at most 1000000000 yuan"),
    # hospital lines
    "hospital code of 11": ({"kind": "medins", "fixmedins_code": "H4101000000", "fixmedins_name": "医院",
                             "hosp_lv": "3", "admdvs": "410100"}, "fixmedins_code must be 12 letters or digits"),
    "hospital level 4": ({"kind": "medins", "fixmedins_code": "H41010000009", "fixmedins_name": "医院",
                          "hosp_lv": "4", "admdvs": "410100"}, "hosp_lv must be 1, 2 or 3, not '4'"),
    "hospital level as a number": ({"kind": "medins", "fixmedins_code": "H41010000009", "fixmedins_name": "医院",
                                    "hosp_lv": 3, "admdvs": "410100"}, "hosp_lv must be 1, 2 or 3, not 3"),
    "hospital in no known area": ({"kind": "medins", "fixmedins_code": "H65010000009", "fixmedins_name": "医院",
                                   "hosp_lv": "3", "admdvs": "650102"}, "admdvs 650102 is not a known pooling area"),
    "hospital name escape": ({"kind": "medins", "fixmedins_code": "H41010000009", "fixmedins_name": "医院\u200b",
                              "hosp_lv": "3", "admdvs": "410100"}, "(U+200B)"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_bad_line_refuses_the_whole_file_with_its_number(centre_db, tmp_path, case):
    line, expected = BAD_LINES[case]
    report = imp(centre_db, family_export(tmp_path, [line]))
    assert not report.imported and report.bad == 1, report.errors
    assert report.errors[0].line == 11, report.errors
    assert expected in report.errors[0].message, report.errors[0].message
    assert dump(centre_db) == EMPTY
    assert "\x1b" not in report.errors[0].message and "\u202e" not in report.errors[0].message
    if "certno" in case or "check digit" in case or "real date" in case:
        assert "410102********" in report.errors[0].message  # the ID number masked in messages


@pytest.mark.parametrize("raw, expected", [
    (b"[" * 100_000, "not valid JSON: arrays or objects nested too deeply"),
    (b'{"kind": "account", "psn_no": "Q1", "balc": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b'{"kind": "person", "psn_name": "\xff\xfe"}', "not UTF-8 text"),
    (b'"just text"', "not a JSON object"),
    (b'{"kind": ["person"]}', "unknown kind ['person']"),
    (b'{"kind": "region", "admdvs": "650100", "name": "\\ud800x", "cross_province": false}', "(U+D800)"),
    (b'{"kind": "catalogue", "med_list_codg": "X9", "name": "\\udfff", "chrgitm_lv": "01", "med_chrgitm_type": "09"}',
     "catalogue X9: name must not contain control or invisible characters (U+DFFF)"),
])
def test_hostile_lines_are_bad_lines_not_crashes(centre_db, tmp_path, raw, expected):
    path = family_export(tmp_path)
    path.write_bytes(path.read_bytes() + raw + b"\n")
    report = imp(centre_db, path)
    assert not report.imported and [e.line for e in report.errors] == [11]
    assert expected in report.errors[0].message


def test_duplicate_catalogue_and_hospital_lines_are_refused(centre_db, tmp_path):
    extra = CATALOGUE + [dict(CATALOGUE[0], name="别名"), dict(CATALOGUE[3], hosp_lv="2")]
    report = imp(centre_db, family_export(tmp_path, extra))
    assert not report.imported
    assert [(e.line, e.message) for e in report.errors] == [
        (15, "catalogue: duplicate med_list_codg X001 (already on an earlier line)"),
        (16, f"medins: duplicate fixmedins_code {HOSPITAL} (already on an earlier line)")]


def test_an_empty_export_is_refused(centre_db, tmp_path):
    for text in ("", "\n\n  \n"):
        path = tmp_path / "empty.jsonl"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(Refused) as info:
            imp(centre_db, path)
        assert info.value.code == "import_empty" and "empty centre export is refused" in info.value.en
    assert centre_db.all("SELECT count(*) FROM imports") == [(0,)] and dump(centre_db) == EMPTY


def test_optional_person_fields_are_stored(centre_db, tmp_path):
    extra = [person("Q5", 5, psn_type="12", cvlserv_flag="1", emp_name="郑州市某公司", psn_insu_date="2001-07-01",
                    paus_insu_date="2024-03-01")]
    report = imp(centre_db, family_export(tmp_path, extra))
    assert report.imported, report.errors
    assert centre_db.one("SELECT psn_type, cvlserv_flag, emp_name, psn_insu_date, paus_insu_date FROM persons "
                         "WHERE psn_no = 'Q5'") == ("12", "1", "郑州市某公司", "2001-07-01", "2024-03-01")


def test_every_bad_line_is_reported_and_skip_bad_imports_the_rest(centre_db, tmp_path):
    path = family_export(tmp_path)
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(2, "{not json")
    text.insert(5, json.dumps({"kind": "account", "psn_no": "Q2", "balc": -1}))
    path.write_text("\n".join(text) + "\n\n", encoding="utf-8")
    report = imp(centre_db, path)
    assert not report.imported and [e.line for e in report.errors] == [3, 6]
    assert "not valid JSON" in report.errors[0].message
    skipped = imp(centre_db, path, skip_bad=True)
    assert skipped.imported and skipped.bad == 2
    assert centre_db.all("SELECT count(*) FROM persons") == [(4,)]
    assert centre_db.all("SELECT count(*) FROM accounts") == [(1,)]


def test_skip_bad_still_refuses_a_file_whose_every_line_is_bad(centre_db, tmp_path, config_file, capsys):
    path = write_jsonl(tmp_path / "all_bad.jsonl", [{"kind": "account", "psn_no": "Q1", "balc": -1},
                                                    {"kind": "region", "admdvs": "41"}])
    report = imp(centre_db, path, skip_bad=True)
    assert not report.imported and report.bad == 2 and dump(centre_db) == EMPTY
    code, out = run_cli(config_file, "--lang", "en", "centre", "import", str(path), "--db", str(tmp_path / "c.db"), "--skip-bad",
                        "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "import_bad_lines"
    assert out["error"]["message"].startswith("every line of ") and "is bad (2); nothing imported" in out["error"][
        "message"]


def test_references_may_come_later_in_the_file_or_be_in_the_database(centre_db, tmp_path):
    forward = write_jsonl(tmp_path / "forward.jsonl", [
        {"kind": "medins", "fixmedins_code": HOSPITAL, "fixmedins_name": "一院", "hosp_lv": "3", "admdvs": "410100"},
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12", "scope": "local",
         "quota": 0, "begin_date": "2023-01-01"},
        {"kind": "account", "psn_no": "Q1", "balc": 5},
        person("Q1", 1), person("Q2", 2, gend="2"),
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True}])
    report = imp(centre_db, forward)
    assert report.imported and report.bad == 0, report.errors
    delta = write_jsonl(tmp_path / "delta.jsonl", [
        person("Q3", 3, insutype="390"),
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q3", "relation": "20", "scope": "local",
         "quota": 0, "begin_date": "2024-01-01"}])
    report = imp(centre_db, delta)
    assert report.imported and report.kinds["binding"].inserted == 1


def test_skip_bad_counts_only_the_lines_imported(centre_db, tmp_path):
    """A line refused by the database (duplicate card number) is bad, not 'unchanged'."""
    path = family_export(tmp_path, [person("B2", 12, card_no="T00000001"),
                                    {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q4", "relation": "51",
                                     "scope": "local", "quota": 0, "begin_date": "2022-01-01", "status": "ended"}])
    report = imp(centre_db, path, skip_bad=True)
    assert report.imported and report.bad == 1 and [e.line for e in report.errors] == [11]
    counts = report.summary()["kinds"]
    assert counts["person"] == {"lines": 4, "inserted": 4, "updated": 0, "kept": 0, "unchanged": 0}
    assert counts["binding"] == {"lines": 4, "inserted": 3, "updated": 0, "kept": 0, "unchanged": 1}
    assert sum(c["lines"] for c in counts.values()) + report.bad == report.lines


def test_a_byte_order_mark_is_not_an_error(centre_db, tmp_path):
    path = family_export(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert imp(centre_db, path).imported


def test_import_is_one_transaction_with_the_database_checks(centre_db, tmp_path):
    imp(centre_db, family_export(tmp_path))
    with pytest.raises(INTEGRITY):
        centre_db.execute("UPDATE accounts SET balc = -1 WHERE psn_no = 'Q1'")
    with pytest.raises(INTEGRITY):
        centre_db.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                          "VALUES ('Q1', 'Q2', '12', 'local', 0, '2025-01-01')")  # a second active pair
    imp(centre_db, family_export(tmp_path, [person("Q5", 5)], name="newer.jsonl"))
    if centre_db.dialect == "sqlite":   # the re-import's scratch table lives only while an import runs
        assert centre_db.all("SELECT name FROM sqlite_temp_master") == []


def test_every_import_writes_one_audit_row_with_its_counts(centre_db, tmp_path):
    def imports():
        return [json.loads(d) for (d,) in centre_db.all("SELECT detail FROM audit WHERE action = 'import' ORDER BY id")]

    path = family_export(tmp_path)
    imp(centre_db, path, operator="op7")
    (first,) = imports()
    assert first["changes"] == 10 and first["lines"] == 10 and first["file"] == "centre.jsonl"
    assert first["kinds"]["account"] == {"lines": 1, "inserted": 1, "updated": 0, "kept": 0}
    assert centre_db.one("SELECT opter FROM audit") == ("op7",)
    imp(centre_db, path)
    assert len(imports()) == 1  # the same file: nothing written at all
    imp(centre_db, family_export(tmp_path, [{"kind": "account", "psn_no": "Q1", "balc": 99}], name="newer.jsonl"))
    assert [i["changes"] for i in imports()] == [10, 1]


# --- the mutual-aid rules on binding lines, serial and through the reading process ---------------------------

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


@pytest.fixture(params=["serial", "worker"])
def reader(request, monkeypatch):
    """Both readers of an export: this process, or the second (reading) process forced on small files."""
    if request.param == "worker":
        from centre import importer
        monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 0)
    return request.param


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_binding_lines_are_held_to_the_rules_bind_applies(centre_db, tmp_path, reader, case):
    extra, code, words = RULE_CASES[case]
    report = imp(centre_db, family_export(tmp_path, extra))
    assert not report.imported and report.bad == 1, report.errors
    (err,) = report.errors
    assert err.line == 10 + len(extra), err
    assert code in err.message and words in err.message, err.message
    assert dump(centre_db) == EMPTY
    skipped = imp(centre_db, family_export(tmp_path, extra), skip_bad=True)
    assert skipped.imported and skipped.kinds["binding"].inserted == 3  # the good bindings only


def test_large_files_are_read_by_a_second_process_with_the_same_results(centre_db, tmp_path, monkeypatch):
    from centre import importer
    monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 0)
    imp(centre_db, write_jsonl(tmp_path / "first.jsonl", [  # a person already in the database
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
        person("Q9", 9), {"kind": "account", "psn_no": "Q9", "balc": 10}]))
    lines = [
        {"kind": "binding", "owner_psn_no": "Q9", "user_psn_no": "Q2", "relation": "12", "scope": "local",
         "quota": 0, "begin_date": "2023-01-01"},                                       # forward reference
        person("B2", 12, card_no="T00000009"),                                          # duplicate card (db)
        {"kind": "account", "psn_no": "Q2", "balc": -3},                                # negative
    ] + CATALOGUE
    bad = family_export(tmp_path, lines)
    report = imp(centre_db, bad)
    assert not report.imported
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [(12, "person B2"), (13, "account Q2")]
    assert "duplicate card_no T00000009, already held by Q9" in report.errors[0].message
    assert centre_db.all("SELECT count(*) FROM persons") == [(1,)]
    report = imp(centre_db, bad, skip_bad=True)
    assert report.imported and report.bad == 2 and report.kinds["binding"].inserted == 4
    assert report.kinds["catalogue"].inserted == 3 and report.kinds["medins"].inserted == 1
    before = dump(centre_db)
    assert imp(centre_db, bad, skip_bad=True).changes == 0 and dump(centre_db) == before
    assert money.drifts(centre_db) == []


def test_a_region_line_may_come_after_its_persons_and_hospitals(centre_db, tmp_path, reader):
    path = write_jsonl(tmp_path / "late.jsonl", [
        person("Q1", 1), {"kind": "account", "psn_no": "Q1", "balc": 10},
        person("Q2", 2, gend="2", insutype="390"),
        {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q2", "relation": "12", "scope": "local",
         "quota": 0, "begin_date": "2023-01-01"},
        CATALOGUE[3],
        {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True}])
    report = imp(centre_db, path)
    assert report.imported and report.bad == 0, report.errors
    assert {k: c.inserted for k, c in report.kinds.items()} == {
        "region": 1, "person": 2, "account": 1, "binding": 1, "catalogue": 0, "medins": 1, "region_rule": 0}


# --- the command line ---------------------------------------------------------------------------------------

def test_cli_import_reports_line_numbers_and_exits_1(config_file, tmp_path, capsys):
    db = str(tmp_path / "c.db")
    bad = family_export(tmp_path, [person("B2", 12, card_no="T00000001")])
    code, out = run_cli(config_file, "--lang", "en", "centre", "import", str(bad), "--db", db, "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "import_bad_lines"
    assert "line 11:" in out["error"]["message"] and "nothing imported" in out["error"]["message"]
    code, out = run_cli(config_file, "--lang", "en", "centre", "import", str(bad), "--db", db, "--skip-bad", "--json", capsys=capsys)
    assert code == 0 and out["bad"] == 1 and out["kinds"]["person"]["inserted"] == 4
    code, text = run_cli(config_file, "--lang", "en", "centre", "import", str(bad), "--db", db, "--skip-bad", capsys=capsys)
    assert code == 0 and "already imported" in text and "nothing changed" in text
    code, out = run_cli(config_file, "--lang", "en", "centre", "import", str(tmp_path / "missing.jsonl"), "--db", db, "--json",
                        capsys=capsys)
    assert code == 1 and out["error"]["code"] == "import_file"
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    code, out = run_cli(config_file, "--lang", "en", "centre", "import", str(tmp_path / "empty.jsonl"), "--db", db, "--json",
                        capsys=capsys)
    assert code == 1 and out["error"]["code"] == "import_empty"


def _cli(config_file: Path, *argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "--lang", "en", *argv],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


def test_cli_import_without_a_terminal_draws_no_progress_bar(config_file, tmp_path):
    proc = _cli(config_file, "centre", "import", str(family_export(tmp_path)), "--db", str(tmp_path / "c.db"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "10 lines" in proc.stdout


def test_cli_import_through_the_reading_process(config_file, tmp_path):
    env = dict(os.environ, CASHIER_IMPORT_PARALLEL_BYTES="0")
    proc = _cli(config_file, "centre", "import", str(family_export(tmp_path, CATALOGUE)), "--db",
                str(tmp_path / "c.db"), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["imported"] and out["kinds"]["binding"]["inserted"] == 3 and out["kinds"]["catalogue"]["inserted"] == 3


def test_progress_bar_draws_on_a_terminal(centre_db, tmp_path):
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    draw = terminal_progress(stream)
    assert terminal_progress(io.StringIO()) is None
    imp(centre_db, family_export(tmp_path), progress=draw)
    assert "importing [" in stream.getvalue() and "100.0%" in stream.getvalue()


def test_the_tests_load_export_lines_through_the_importer(centre_db, tmp_path):
    report = load_lines(centre_db, demo_lines())
    assert report.kinds["person"].inserted == 9 and report.kinds["catalogue"].inserted == 14
    with pytest.raises(AssertionError, match="line 1: region: admdvs must be a 6-digit area code"):
        load_lines(centre_db, [{"kind": "region", "admdvs": "4101", "name": "郑州市"}])


def test_the_demo_export_holds_the_cast_the_catalogue_and_the_hospital(centre_db):
    assert imp(centre_db, REGIONS).imported
    report = imp(centre_db, DEMO_EXPORT)
    assert report.imported and report.bad == 0 and report.kinds["person"].inserted == 9, report.errors
    report = imp(centre_db, DEMO_CATALOGUE)
    assert report.imported and report.kinds["catalogue"].inserted == 14 and report.kinds["medins"].inserted == 1
    assert centre_db.all("SELECT psn_no, balc, opening FROM accounts ORDER BY psn_no") == [
        ("P10000001", 356000, 356000), ("P10000002", 12000, 12000), ("P30000006", 80000, 80000),
        ("P40000008", 50000, 50000)]
    assert centre_db.one("SELECT hosp_lv FROM medins WHERE fixmedins_code = 'H41010000001'") == ("3",)
    classes = dict(centre_db.all("SELECT med_list_codg, chrgitm_lv FROM catalogue"))
    bill = json.loads((ROOT / "terminal" / "web" / "demo_bills" / "outpatient.json").read_text(encoding="utf-8"))
    assert {i["code"]: classes.get(i["code"]) for i in bill["items"]} == {
        i["code"]: {"A": "01", "B": "02", "C": "03"}[i["class"]] for i in bill["items"]}
    assert money.drifts(centre_db) == []


# --- the centre at work, then a re-import; the integrity check ---------------------------------------------

def _centre_with_family(tmp_path: Path, config_file: Path, db_path: Path | str):
    """A centre on db_path (a SQLite file or a PostgreSQL DSN) loaded with family_export + CATALOGUE, and a
    signed-in client."""
    import tomllib
    raw = tomllib.loads(config_file.read_text(encoding="utf-8"))
    export = family_export(tmp_path, CATALOGUE)
    assert import_export(raw, db_path, export).imported
    centre = open_centre(raw, db_path, clock=lambda: NOW)
    client = Client(centre.call, now=lambda: NOW)
    client.sign_in()
    return raw, db_path, export, centre, client


def _card(seq: int) -> tuple[str, str]:
    return f"T{seq:08d}", "41" + "0" * 30


def test_a_reimport_keeps_what_the_centre_did_and_every_figure_keeps_its_history(config_file, tmp_path,
                                                                                 centre_where):
    raw, db_path, export, centre, client = _centre_with_family(tmp_path, config_file, centre_where())
    try:
        # Q2 (390, no account) is paid for from Q1's balance; Q3 from the cross-province quota; Q1 pays himself
        client.person_by_card(*_card(2))
        paid_q2 = client.outpatient("Q2", "390", [{"code": "X001", "qty": 2, "price_fen": 1250, "class": "A"}],
                                          card_no=_card(2)[0])
        client.person_by_card(*_card(3))
        paid_q3 = client.outpatient("Q3", "390", [{"code": "C001", "qty": 1, "price_fen": 1000, "class": "C"}],
                                          card_no=_card(3)[0])
        client.person_by_card(*_card(1))
        paid_q1 = client.outpatient("Q1", "310", [{"code": "D002", "qty": 1, "price_fen": 3280, "class": "B"}],
                                          card_no=_card(1)[0])
        assert paid_q2["setlinfo"]["acct_mulaid_pay"] > 0 and paid_q3["setlinfo"]["acct_mulaid_pay"] == 10
        own_q1 = paid_q1["setlinfo"]["acct_pay"]
        store = open_store(db_path)
        db = store.db()
        try:
            assert money.drifts(db) == []
            balc = db.one("SELECT balc FROM accounts WHERE psn_no = 'Q1'")[0]
            assert balc == 120000 - round(paid_q2["setlinfo"]["acct_mulaid_pay"] * 100) - round(own_q1 * 100)
            assert db.one("SELECT quota FROM bindings WHERE id = 2")[0] == 3000 - 1000

            # the same export again: nothing read; a newer one: the centre's balance and quota are kept
            assert import_export(raw, db_path, export).already
            newer = family_export(tmp_path, CATALOGUE + [
                person("Q6", 6, insutype="310"), {"kind": "account", "psn_no": "Q6", "balc": 777}], name="newer.jsonl")
            report = import_export(raw, db_path, newer)
            assert report.imported and report.kept_accounts == ["Q1"], report.summary()
            assert report.kinds["account"].kept == 1 and report.kinds["binding"].kept == 1
            assert report.kinds["account"].inserted == 1
            assert db.one("SELECT balc FROM accounts WHERE psn_no = 'Q1'")[0] == balc
            assert db.one("SELECT quota FROM bindings WHERE id = 2")[0] == 2000
            assert money.drifts(db) == []

            # no activity since: the next export applies, and the opening follows the history
            newest = family_export(tmp_path, CATALOGUE, name="newest.jsonl")
            newest.write_text(newest.read_text(encoding="utf-8").replace('"balc": 120000', '"balc": 50000')
                              .replace('"quota": 3000', '"quota": 2600'), encoding="utf-8")
            report = import_export(raw, db_path, newest)
            assert report.imported and report.kept_accounts == [] and report.kinds["account"].updated == 1
            assert db.one("SELECT balc FROM accounts WHERE psn_no = 'Q1'")[0] == 50000
            assert db.one("SELECT quota FROM bindings WHERE id = 2")[0] == 2600
            assert db.all("SELECT quota_delta FROM movements WHERE binding_id = 2 AND kind = 'import' ORDER BY id") == [
                (3000,), (600,)]
            assert money.drifts(db) == []

            # reverse the first settlement, bind with a quota and unbind at the office: still every figure agrees
            client.person_by_card(*_card(2))
            client.ok("2208", {"data": {"setl_id": paid_q2["setlinfo"]["setl_id"],
                                        "mdtrt_id": paid_q2["setlinfo"]["mdtrt_id"], "psn_no": "Q2"}})
            client.insuplc = "410100"
            client.ok("X103", {"data": {"owner_psn_no": "Q1", "user": {"psn_no": "Q3"}}})
            assert money.drifts(db) == []
            after = family_export(tmp_path, CATALOGUE + [person("Q7", 7)], name="after.jsonl")  # a new file
            report = import_export(raw, db_path, after)
            assert report.imported and report.kept_accounts == ["Q1"] and report.kinds["binding"].kept == 1
            assert db.one("SELECT status, quota FROM bindings WHERE id = 2") == ("ended", 0)  # not brought back
            assert money.drifts(db) == []
        finally:
            store.close()
    finally:
        centre.close()


def test_cashier_centre_check_names_each_hand_edited_figure(config_file, tmp_path, capsys, centre_where):
    raw, db_path, export, centre, client = _centre_with_family(tmp_path, config_file, centre_where())
    where = ("--dsn" if is_dsn(db_path) else "--db", str(db_path))
    try:
        client.person_by_card(*_card(3))
        client.outpatient("Q3", "390", [{"code": "X001", "qty": 1, "price_fen": 50000, "class": "A"}],
                                          card_no=_card(3)[0])
    finally:
        centre.close()
    code, text = run_cli(config_file, "centre", "check", *where, capsys=capsys)
    assert code == 0 and text.startswith("ok"), text
    store = open_store(db_path)
    try:
        with store.db().write() as db:      # a hand edit, straight into the database
            db.execute("UPDATE accounts SET balc = balc + 100 WHERE psn_no = 'Q1'")
            db.execute("UPDATE bindings SET quota = quota + 7 WHERE id = 2")
            db.execute("UPDATE accumulators SET fund_paid = fund_paid + 1 WHERE psn_no = 'Q3'")
    finally:
        store.close()
    code, text = run_cli(config_file, "centre", "check", *where, capsys=capsys)
    assert code == 1
    lines = text.splitlines()
    assert "account Q1: balc is 120100 fen but its history gives 120000 fen" in lines
    quota = [line for line in lines if line.startswith("binding 2: quota is")]
    assert quota and quota[0].endswith("fen") and "but its history gives" in quota[0]
    assert any(line.startswith("accumulator Q3/2026: fund_paid is") for line in lines), lines
    code, out = run_cli(config_file, "centre", "check", *where, "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "centre_drift"
    assert {(d["what"], d["key"], d["field"]) for d in out["error"]["drifts"]} == {
        ("account", "Q1", "balc"), ("binding", "2", "quota"), ("accumulator", "Q3/2026", "fund_paid")}
    code, out = run_cli(config_file, "centre", "check", "--db", str(tmp_path / "none.db"), "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "centre_db_missing"


def test_the_hospital_level_of_a_medins_line_picks_the_policy_rule(config_file, tmp_path, centre_where):
    """The family export's hospital is level 1: the settlement records it, not the config's default level 3."""
    raw, db_path, export, centre, client = _centre_with_family(tmp_path, config_file, centre_where())
    try:
        client.person_by_card(*_card(1))
        out = client.outpatient("Q1", "310", [{"code": "X001", "qty": 1, "price_fen": 1000, "class": "A"}],
                                          card_no=_card(1)[0])
        db = centre.dispatcher.store.db()
        assert db.one("SELECT hosp_lv FROM settlements WHERE setl_id = ?", [out["setlinfo"]["setl_id"]]) == ("1",)
    finally:
        centre.close()


def test_cli_import_and_check_on_postgresql(config_file, tmp_path, capsys, pg_server):
    """`--dsn`: the same import and check on a PostgreSQL database; --db and --dsn together are a usage error."""
    dsn = pg_server.new_database()
    try:
        path = family_export(tmp_path, CATALOGUE)
        code, out = run_cli(config_file, "centre", "import", str(path), "--dsn", dsn, "--json", capsys=capsys)
        assert code == 0 and out["imported"] and out["lines"] == 14, out
        code, out = run_cli(config_file, "centre", "import", str(path), "--dsn", dsn, "--json", capsys=capsys)
        assert code == 0 and out["already_imported"], out
        code, text = run_cli(config_file, "centre", "check", "--dsn", dsn, capsys=capsys)
        assert code == 0 and text.startswith("ok: every balance") and "dbname=centre_" in text, text
        config_file.write_text(config_file.read_text(encoding="utf-8").replace('dsn = ""', f'dsn = "{dsn}"', 1),
                               encoding="utf-8")                        # [centre] dsn instead of --dsn
        code, text = run_cli(config_file, "centre", "check", capsys=capsys)
        assert code == 0 and "dbname=centre_" in text, text
        code, out = run_cli(config_file, "centre", "check", "--db", str(tmp_path / "none.db"), "--json",
                            capsys=capsys)
        assert code == 1 and out["error"]["code"] == "centre_db_missing"  # --db still means a SQLite file
        code, out = run_cli(config_file, "centre", "check", "--dsn", dsn, "--db", str(tmp_path / "c.db"), "--json",
                            capsys=capsys)
        assert code == 2 and "not both" in out["error"]["message"], out
        code, out = run_cli(config_file, "centre", "check", "--dsn", "nonsense words", "--json", capsys=capsys)
        assert code == 2 and "not a PostgreSQL connection string" in out["error"]["message"], out
    finally:
        pg_server.drop(dsn)
