"""The people schema (docs/data-and-rules.md) on real SQLite files, and a missing or damaged database file.

The window's database is its cache of persons, cards and bindings (filled by `cashier db import`) and its own log;
the money is the insurance centre's: the checks on balances and quotas are made on the centre's database.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from people_helpers import empty_db, run_cli  # noqa: F401  (fixture)
from terminal.errors import StoreError
from terminal.store import people


@pytest.fixture
def demo(cfg):
    """(cfg, db): the demo as `cashier demo` loads it (the window's cache and the embedded centre), one connection
    to the window's database on this thread."""
    from terminal.services.demo_db import ensure_demo_db
    from terminal.store.db import open_from_config
    ensure_demo_db(cfg)
    db = open_from_config(cfg)
    yield cfg, db
    db.close()


def columns(db, table: str) -> list[str]:
    return [r[1] for r in db.execute(f"PRAGMA table_info({table})").fetchall()]


def test_tables_and_columns_are_the_contract(empty_db):
    assert columns(empty_db, "persons") == ["psn_no", "certno", "psn_name", "gend", "naty", "brdy", "card_no",
                                            "card_sn", "insuplc_admdvs", "insutype", "psn_insu_stas", "cached_at"]
    assert columns(empty_db, "accounts") == ["psn_no", "balc", "year", "version", "opening"]
    assert columns(empty_db, "bindings") == [
        "id", "owner_psn_no", "user_psn_no", "relation", "scope", "quota", "begin_date", "end_date", "status",
        "created_by", "created_at", "created_window", "ended_by", "ended_at", "ended_window", "end_reason", "opening"]
    assert columns(empty_db, "regions") == ["admdvs", "name", "province", "cross_province"]
    assert columns(empty_db, "audit") == ["id", "at", "operator", "window", "action", "subject", "detail"]
    assert empty_db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_lookups_use_indexes(demo):
    _, db = demo
    plans = {
        "SELECT * FROM persons WHERE card_no = 'A10000001'": "sqlite_autoindex_persons",
        "SELECT * FROM persons WHERE certno = 'x'": "sqlite_autoindex_persons",
        "SELECT * FROM bindings WHERE user_psn_no = 'P10000003' AND status = 'active'": "bindings_user",
        "SELECT * FROM bindings WHERE owner_psn_no = 'P10000001' AND status = 'active'": "bindings_owner",
    }
    for sql, index in plans.items():
        plan = " ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
        assert index in plan, (sql, plan)


def test_money_cannot_go_negative_or_fractional(demo):
    """Where the money is: the centre's database (`[centre] db`, the embedded centre the demo loaded)."""
    cfg, _ = demo
    centre = sqlite3.connect(cfg.resolve(cfg.centre.db))
    try:
        assert centre.execute("SELECT owner_psn_no, user_psn_no FROM bindings WHERE id = 3").fetchone() == (
            "P10000001", "P20000005")
        for sql in ("UPDATE accounts SET balc = -1 WHERE psn_no = 'P10000001'",
                    "UPDATE accounts SET balc = 1.5 WHERE psn_no = 'P10000001'",
                    "UPDATE bindings SET quota = -1 WHERE id = 3",
                    "UPDATE bindings SET scope = 'national' WHERE id = 3",
                    "UPDATE bindings SET status = 'paused' WHERE id = 3"):
            with pytest.raises(sqlite3.IntegrityError):
                centre.execute(sql)
    finally:
        centre.close()


def test_one_active_binding_per_pair_but_history_is_kept(demo):
    _, db = demo
    insert = ("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, status) "
              "VALUES ('P10000001', 'P10000003', '30', 'local', 0, '2026-01-01', ?)")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(insert, ["active"])
    db.execute(insert, ["ended"])
    db.execute(insert, ["ended"])
    assert len(people.bindings_of_user(db, "P10000003", active_only=False)) == 3


def test_audit_is_append_only(demo):
    cfg, db = demo
    with people.write_transaction(db):
        rid = people.add_audit(db, operator="op", window="W09", action="test", subject="x", detail={"a": 1})
    row = db.execute('SELECT operator, "window", action, detail FROM audit WHERE id = ?', [rid]).fetchone()
    assert row == ("op", "W09", "test", '{"a": 1}')
    for sql in ("UPDATE audit SET action = 'forged'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)


@pytest.fixture
def quota_cache(cfg, config_file, tmp_path, capsys):
    """The window's cache as `cashier db import` leaves it: the areas, then the demo cast with 张伟's ¥500.00 quota
    for 张敏 (tests/quota_demo.py)."""
    from quota_demo import DATA, quota_export
    from terminal.store.db import open_from_config
    for export in (DATA / "regions.jsonl", quota_export(tmp_path)):
        code, out = run_cli(config_file, "db", "import", str(export), "--json", capsys=capsys)
        assert code == 0, out
    db = open_from_config(cfg)
    yield db
    db.close()


def test_queries(quota_cache):
    db = quota_cache
    zw = people.find_person(db, card_no="a10000001")
    assert zw.psn_no == "P10000001" and zw.psn_name == "张伟"
    assert people.find_person(db, certno="41010519800923682x").psn_name == "李娜"
    assert people.find_person(db, psn_no="P30000007").psn_name == "陈𬌗"
    assert people.find_person(db, card_no="Z99999999") is None
    assert people.account_of(db, "P10000001").balc == 356000
    assert people.account_of(db, "P10000003") is None
    assert [b.user_psn_no for b in people.bindings_of_owner(db, "P10000001")] == ["P10000003", "P10000004",
                                                                                 "P20000005"]
    assert people.region(db, "510100").cross_province is True
    assert people.region(db, "110100").cross_province is False
    counts = people.counts(db)
    assert counts["persons"] == 9 and counts["bindings_active"] == 4 and counts["quota_total"] == 50000


def test_a_failed_write_transaction_leaves_nothing(demo):
    _, db = demo
    with pytest.raises(RuntimeError):
        with people.write_transaction(db):
            db.execute("UPDATE persons SET psn_insu_stas = '4' WHERE psn_no = 'P10000001'")
            db.execute("UPDATE bindings SET status = 'ended' WHERE owner_psn_no = 'P10000001'")
            raise RuntimeError("boom")
    assert people.find_person(db, psn_no="P10000001").psn_insu_stas == "1"
    assert len(people.bindings_of_owner(db, "P10000001")) == 3


def test_missing_database_is_a_clear_message(cfg, config_file, capsys):
    from terminal.store.db import open_from_config
    with pytest.raises(StoreError) as info:
        open_from_config(cfg)
    assert info.value.code == "db_missing" and "cashier db init" in info.value.message
    # (`cashier family` asks the centre: the window makes its cache when it has none)
    code, out = run_cli(config_file, "db", "stats", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "db_missing"


def test_damaged_database_is_a_clear_message_never_a_traceback(cfg, config_file):
    cfg.db_path.parent.mkdir(parents=True, exist_ok=True)
    cfg.db_path.write_bytes(b"SQLite format 3\x00" + b"\x07garbage" * 600)
    for argv in (["family", "--card-no", "A10000001"], ["db", "stats"], ["db", "import", "x.jsonl"],
                 ["bind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user", "A10000002",
                  "--relation", "12"]):
        proc = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "--lang",
                               "en", *argv], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, (argv, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        # (the test's own folder is named "...damaged...": look at the message, not the path)
        assert proc.stderr.startswith("cashier: database file is damaged or not a cashier database"), proc.stderr


def test_cli_db_init_is_repeatable(config_file, capsys):
    code, out = run_cli(config_file, "db", "init", "--regions", "--json", capsys=capsys)
    assert code == 0 and "people_0001_tables" in out["migrations"] and out["regions_loaded"] == 33
    code, out = run_cli(config_file, "db", "init", "--regions", "--json", capsys=capsys)
    assert code == 0 and out["regions_loaded"] == 0


def test_a_busy_database_is_a_clear_message(demo):
    cfg, db = demo
    from terminal.store.db import open_db
    other = open_db(cfg.db_path, busy_timeout_ms=50)
    other.execute("BEGIN IMMEDIATE")
    db.execute("PRAGMA busy_timeout = 100")  # this window waits 0.1 s, not the configured 10 s
    try:
        with pytest.raises(StoreError) as info:
            with people.write_transaction(db):
                pass
        assert info.value.code == "db_busy" and "another window" in info.value.message
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_an_empty_or_foreign_file_is_never_given_our_schema(tmp_path):
    """Only `db init` initialises an empty file; another program's database is refused untouched."""
    import sqlite3

    from terminal.errors import StoreError
    from terminal.store.db import open_db
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(StoreError) as exc:
        open_db(empty)
    assert exc.value.code == "db_empty" and empty.stat().st_size == 0
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE foo (x)")
    con.commit()
    con.close()
    before = foreign.read_bytes()
    for create in (False, True):
        with pytest.raises(StoreError) as exc:
            open_db(foreign, create=create)
        assert exc.value.code == "db_foreign"
    assert foreign.read_bytes() == before
    open_db(empty, create=True)  # db init may initialise the empty file
    assert open_db(empty).table_names()


def test_a_database_from_a_newer_version_is_refused_untouched(cfg, config_file, capsys):
    """A schema step this version does not know: refused with a clear message, before any read or write,
    even though one of this version's own steps is still pending there."""
    import hashlib

    import sqlite_utils

    from terminal.store.db import open_db, open_from_config
    from terminal.store.migrations import MIGRATIONS
    last_step = "settlement_0002_request_fingerprint"            # this step and every later one still pending
    cfg.db_path.parent.mkdir(parents=True, exist_ok=True)
    newer = sqlite_utils.Database(str(cfg.db_path))
    MIGRATIONS.apply(newer, stop_before=last_step)       # our last step not applied ...
    newer.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                  "VALUES ('cashier', 'settlement_0099_from_the_future', '2030-01-01')")   # ... but a newer one is
    newer.conn.commit()
    newer.conn.close()
    before = hashlib.sha256(cfg.db_path.read_bytes()).hexdigest()
    for open_it in (lambda: open_from_config(cfg), lambda: open_db(cfg.db_path, migrate=False),
                    lambda: open_db(cfg.db_path, create=True)):
        with pytest.raises(StoreError) as info:
            open_it()
        assert info.value.code == "db_newer"
        assert "newer version" in info.value.message and "settlement_0099_from_the_future" in info.value.message
        assert "更新的版本" in info.value.message_zh
    code, out = run_cli(config_file, "--lang", "zh", "db", "stats", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "db_newer" and "更新的版本" in out["error"]["message"]
    code, out = run_cli(config_file, "db", "init", "--json", capsys=capsys)
    assert code == 1 and out["error"]["code"] == "db_newer"
    assert hashlib.sha256(cfg.db_path.read_bytes()).hexdigest() == before
    check = sqlite3.connect(cfg.db_path)
    assert last_step not in {r[0] for r in check.execute("SELECT name FROM _sqlite_migrations")}
    check.close()


def test_windows_started_together_on_an_older_database_migrate_it_once(tmp_path):
    """8 processes open a database made by an older version at the same moment: every one opens it (before,
    all but one could fail with "duplicate column name"), and every step is applied once."""
    import sqlite_utils

    from terminal.store.migrations import MIGRATIONS
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(str(path))
    MIGRATIONS.apply(old, stop_before="settlement_0002_request_fingerprint")
    old.conn.close()
    code = ("import sys; from terminal.store.db import open_db\n"
            "try:\n    open_db(sys.argv[1]).close(); print('ok')\n"
            "except Exception as exc:\n    print('ERR', exc)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
             for _ in range(8)]
    assert [p.communicate(timeout=60)[0].strip() for p in procs] == ["ok"] * 8
    check = sqlite3.connect(path)
    names = [r[0] for r in check.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    check.close()
    assert len(names) == len(set(names)) and "books_0001_openings_and_binding_moves" in names
