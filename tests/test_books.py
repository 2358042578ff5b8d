"""The books: every balance, quota and accumulator explained by its start and its recorded movements, so
`cashier reconcile` catches a hand edit of any of them and names the row (real SQLite files)."""

from __future__ import annotations

import json

import pytest
from people_helpers import TODAY, demo, person, run_cli, write_jsonl  # noqa: F401  (fixture)

from terminal.card_session import CardSession
from terminal.domain.bill import parse_bill
from terminal.services.bindings import bind_at_window, unbind_at_window
from terminal.services.reconcile import reconcile
from terminal.services.reversal import reverse
from terminal.services.settlement import settle


def session_for(cfg, profile: str) -> CardSession:
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    return CardSession(InProcessReader(load_card(profile, cfg.state_dir)), cfg)


def bill(price: int, cls: str = "C"):
    return parse_bill({"med_type": "11", "items": [
        {"code": "X1", "name": "药品", "category": "drug", "class": cls, "qty": 1, "price": price}]})


def books(db, cfg) -> list[tuple]:
    return [(b.table, b.key, b.field, b.stored, b.expected) for b in reconcile(db, cfg).books]


def a_busy_day(cfg, db) -> None:
    """Unbind and rebind 张敏's cross-province quota, settle from own accounts, a relative's balance and a
    quota, reverse one: every kind of movement the window makes."""
    unbind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "B20000005", today=TODAY)   # 50000 back
    bind_at_window(db, cfg, session_for(cfg, "zhang_wei"), "123456", "B20000005", "70", scope="cross_province",
                   quota=20000, today=TODAY)
    settle(db, cfg, session_for(cfg, "zhang_wei"), bill(150000, "A"), pin="123456")
    settle(db, cfg, session_for(cfg, "zhang_xiaoyu"), bill(9000), pin="123456")
    made = settle(db, cfg, session_for(cfg, "zhang_min"), bill(5000), pin="123456")
    assert made.split.acct_mulaid_pay == 5000
    reverse(db, cfg, settle(db, cfg, session_for(cfg, "li_na"), bill(3000), pin="123456").setl_id)


def test_every_movement_is_explained_and_a_hand_edit_is_named(demo, config_file, capsys):
    cfg, db = demo
    assert reconcile(db, cfg).ok and books(db, cfg) == []
    a_busy_day(cfg, db)
    report = reconcile(db, cfg)
    assert report.ok and report.books == [], report.text()
    moves = db.execute("SELECT binding_id, psn_no, amount, reason FROM binding_moves ORDER BY id").fetchall()
    new_id = db.execute("SELECT max(id) FROM bindings").fetchone()[0]
    assert moves == [(3, "P10000001", -50000, "owner_request"), (new_id, "P10000001", 20000, "bind")]
    balc = db.execute("SELECT balc FROM accounts WHERE psn_no = 'P10000001'").fetchone()[0]
    quota = db.execute("SELECT quota FROM bindings WHERE id = ?", [new_id]).fetchone()[0]
    year = db.execute("SELECT max(year) FROM accumulators").fetchone()[0]
    dedc, fund = db.execute("SELECT deductible_used, fund_paid FROM accumulators WHERE psn_no = 'P10000001' "
                            "AND year = ?", [year]).fetchone()
    assert quota == 15000 and fund > 0
    edits = [  # (edit, undo, what reconcile must name)
        ("UPDATE accounts SET balc = balc + 100 WHERE psn_no = 'P10000001'",
         "UPDATE accounts SET balc = balc - 100 WHERE psn_no = 'P10000001'",
         ("accounts", "P10000001", "balc", balc + 100, balc)),
        (f"UPDATE bindings SET quota = quota + 5000 WHERE id = {new_id}",
         f"UPDATE bindings SET quota = quota - 5000 WHERE id = {new_id}",
         ("bindings", str(new_id), "quota", quota + 5000, quota)),
        ("UPDATE accumulators SET deductible_used = deductible_used + 1 WHERE psn_no = 'P10000001'",
         "UPDATE accumulators SET deductible_used = deductible_used - 1 WHERE psn_no = 'P10000001'",
         ("accumulators", f"P10000001/{year}", "deductible_used", dedc + 1, dedc)),
        ("UPDATE accumulators SET fund_paid = 0 WHERE psn_no = 'P10000001'",
         f"UPDATE accumulators SET fund_paid = {fund} WHERE psn_no = 'P10000001'",
         ("accumulators", f"P10000001/{year}", "fund_paid", 0, fund)),
        ("UPDATE accounts SET balc = 999999 WHERE psn_no = 'P30000006'",     # an account nobody touched today
         "UPDATE accounts SET balc = 80000 WHERE psn_no = 'P30000006'",
         ("accounts", "P30000006", "balc", 999999, 80000)),
    ]
    for edit, undo, named in edits:
        db.execute(edit)
        assert books(db, cfg) == [named]
        report = reconcile(db, cfg)
        assert not report.ok and f"{named[0]} {named[1]}: {named[2]} is" in report.text()
        code, out = run_cli(config_file, "reconcile", "--json", capsys=capsys)
        assert code == 1 and not out["ok"] and out["books"][0]["key"] == named[1]
        db.execute(undo)
        assert books(db, cfg) == []
    db.execute("DELETE FROM accumulators WHERE psn_no = 'P10000001'")          # a row gone is named too
    assert books(db, cfg) == [("accumulators", f"P10000001/{year}", "deductible_used", None, dedc),
                              ("accumulators", f"P10000001/{year}", "fund_paid", None, fund)]


def test_the_cli_says_which_row_on_stderr(demo, config_file):
    import subprocess
    import sys
    cfg, db = demo
    a_busy_day(cfg, db)
    db.execute("UPDATE accounts SET balc = balc + 1 WHERE psn_no = 'P10000002'")
    proc = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config_file), "--lang", "en",
                           "reconcile"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout
    assert "RECONCILIATION MISMATCH" in proc.stderr and "accounts P10000002: balc is" in proc.stderr


def test_a_binding_move_and_a_ledger_entry_are_append_only(demo):
    import sqlite3
    cfg, db = demo
    a_busy_day(cfg, db)
    for sql in ("UPDATE binding_moves SET amount = 1", "DELETE FROM binding_moves"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)


def test_a_newer_export_moves_the_opening_with_the_balance(demo, tmp_path):
    """The centre's new figures for an account the window did not touch: taken, and still explained."""
    from terminal.store.importer import import_file
    cfg, db = demo
    a_busy_day(cfg, db)
    lines = [{"kind": "account", "psn_no": "P30000006", "balc": 12345, "year": 2026},   # untouched: taken
             {"kind": "account", "psn_no": "P10000001", "balc": 1, "year": 2026},       # the window's: kept
             person("P10000010", 10), {"kind": "account", "psn_no": "P10000010", "balc": 777}]
    report = import_file(db, write_jsonl(tmp_path / "newer.jsonl", lines))
    assert report.imported and report.kept_accounts == ["P10000001"]
    assert db.execute("SELECT balc, opening FROM accounts WHERE psn_no = 'P30000006'").fetchone() == (12345, 12345)
    assert db.execute("SELECT balc, opening FROM accounts WHERE psn_no = 'P10000010'").fetchone() == (777, 777)
    assert books(db, cfg) == []


def test_a_database_from_before_the_books_migrates_and_keeps_its_history(cfg, monkeypatch, tmp_path):
    """Made by the previous steps and the code of then (no openings, no moves), with binds, unbinds and
    settlements in it: the step recovers the quota movements from the audit trail, sets each opening so
    the books hold as they stand, and catches a later edit."""
    import sqlite_utils
    from quota_demo import DATA, quota_export

    import terminal.services.bindings as bindings_service
    from terminal.store import import_lines
    from terminal.store.db import open_db, open_from_config
    from terminal.store.importer import import_file
    from terminal.store.migrations import MIGRATIONS
    cfg.db_path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite_utils.Database(str(cfg.db_path))
    MIGRATIONS.apply(old, stop_before="books_0001_openings_and_binding_moves")
    old.conn.close()
    monkeypatch.setattr(bindings_service, "_record_move", lambda *a, **k: None)   # the code before the step
    monkeypatch.setitem(import_lines._SQL, "account", "INSERT INTO accounts (psn_no, balc, year, version) "
                        "VALUES (?, ?, ?, 0)")
    monkeypatch.setitem(import_lines._SQL, "binding", "INSERT INTO bindings (owner_psn_no, user_psn_no, relation, "
                        "scope, quota, begin_date, end_date, status, created_by, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 'centre', ?)")
    raw = open_db(cfg.db_path, migrate=False)
    for export in (DATA / "regions.jsonl", quota_export(tmp_path)):   # the cast with 张敏's ¥500.00 quota
        assert import_file(raw, export).imported
    a_busy_day(cfg, raw)
    raw.conn.close()
    monkeypatch.undo()
    db = open_from_config(cfg)                              # migrates
    assert "books_0001_openings_and_binding_moves" in {r[0] for r in db.execute("SELECT name FROM _sqlite_migrations")}
    assert books(db, cfg) == []
    moves = db.execute("SELECT binding_id, psn_no, amount, reason FROM binding_moves ORDER BY id").fetchall()
    new_id = db.execute("SELECT max(id) FROM bindings").fetchone()[0]
    assert moves == [(3, "P10000001", -50000, "owner_request"), (new_id, "P10000001", 20000, "bind")]
    assert db.execute("SELECT opening FROM accounts WHERE psn_no = 'P10000001'").fetchone() == (356000,)
    assert db.execute("SELECT opening FROM bindings WHERE id = 3").fetchone() == (50000,)
    assert db.execute("SELECT opening FROM bindings WHERE id = ?", [new_id]).fetchone() == (0,)
    db.execute("UPDATE accounts SET balc = balc - 1 WHERE psn_no = 'P10000002'")
    assert [b[:3] for b in books(db, cfg)] == [("accounts", "P10000002", "balc")]
    db.close()
