"""The books around the wallet, the prior-year balance and the pooled accumulators: the integrity check sees a
wallet or a transfer that its history does not explain, a settlement's wallet part cannot be edited, a database
made before these steps migrates with its figures intact, and the new config keys are checked by name."""

from __future__ import annotations

import datetime as dt
import sqlite3
import tomllib
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from test_centre_mutual_aid_2025 import WANG, World

from centre.errors import ConfigProblem
from centre.settings import CentreSettings
from centre.store.engine import Database
from centre.store.migrate import migrate
from centre.store.money import drifts
from centre.store.schema import STEPS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world(tmp_path: Path):
    """world(lines, start) -> World, its books checked at the end (as in test_centre_mutual_aid_2025)."""
    made: list[World] = []

    def make(*args: Any, **kw: Any) -> World:
        folder = tmp_path / f"w{len(made)}"
        folder.mkdir()
        made.append(World(folder, *args, **kw))
        return made[-1]
    yield make
    for w in made:
        w.close()


def test_drifts_see_a_wallet_or_a_transfer_its_history_does_not_explain(world):
    w = world(WANG, dt.datetime(2026, 3, 2, 9, 0))
    o = w.office
    o.bind("W1", "W3", "20")
    o.transfer("W1", "W3", "30.00")
    o.ok_as("W3", "X112", {"user_psn_no": "W3", "transfer_id": 1})
    o.transfer("W1", "W3", "5.00")
    s = o.visit("W3", "310", [("XA01", "1", "40.00")])
    assert s["ext_wallet_pay"] == D("20.00")
    db = w.db()
    assert drifts(db) == []
    db.execute("UPDATE wallets SET balc = balc + 1 WHERE psn_no = 'W3'")
    assert [(d.what, d.key, d.stored, d.expected) for d in drifts(db)] == [("wallet", "W3", 1001, 1000)]
    db.execute("UPDATE wallets SET balc = balc - 1 WHERE psn_no = 'W3'")
    # a pending transfer marked accepted without its money reaching the wallet
    db.execute("DROP TRIGGER wallet_transfers_no_update")
    db.execute("UPDATE wallet_transfers SET state = 'accepted' WHERE id = 2")
    assert [(d.what, d.key, d.field) for d in drifts(db)] == [("transfer", "2", "wallet moved (accepted)")]
    db.execute("UPDATE wallet_transfers SET state = 'pending' WHERE id = 2")
    # a settlement whose wallet part says otherwise than its movement
    db.execute("DROP TRIGGER settlements_no_update")
    db.execute("UPDATE settlements SET wallet_pay = 0 WHERE setl_id = ?", [s["setl_id"]])
    assert [(d.what, d.field, d.stored, d.expected) for d in drifts(db)] == [("settlement", "wallet_pay", 0, 2000)]
    db.execute("UPDATE settlements SET wallet_pay = 2000 WHERE setl_id = ?", [s["setl_id"]])


def test_a_settlements_wallet_part_and_pool_cannot_be_edited(world):
    w = world(WANG, dt.datetime(2026, 3, 2, 9, 0))
    s = w.office.visit("W3", "310", [("XA01", "1", "10.00")])
    # marking it reversed is the one update allowed, and only with every figure unchanged
    for column, value in (("wallet_pay", 1), ("pool", "'inpatient'"), ("policy_admdvs", "'510100'")):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            w.db().execute(f"UPDATE settlements SET status = 'reversed', {column} = {value} WHERE setl_id = ?",
                           [s["setl_id"]])
    w.office.bind("W1", "W3", "20")
    w.office.transfer("W1", "W3", "1.00")
    for change in ("amount = 2", "due_at = '2030-01-01 06:00:00'", "state = 'accepted', amount = 2"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            w.db().execute(f"UPDATE wallet_transfers SET {change}")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        w.db().execute("DELETE FROM wallet_transfers")


def test_a_database_from_before_the_wallet_migrates_with_its_figures(tmp_path):
    db = Database(tmp_path / "old.db")
    db.execute("CREATE TABLE centre_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, build in STEPS[:4]:
        for statement in build("sqlite"):
            db.execute(statement)
        db.execute("INSERT INTO centre_migrations VALUES (?, '2026-01-01')", [name])
    db.execute("INSERT INTO persons (psn_no, certno, psn_name, insuplc_admdvs, insutype, psn_insu_stas) "
               "VALUES ('P1', '1', '甲', '410100', '310', '1')")
    db.execute("INSERT INTO accounts (psn_no, balc, opening, year) VALUES ('P1', 5000, 5000, 2026)")
    db.execute("INSERT INTO accumulators (psn_no, year, deductible_used, fund_paid) VALUES ('P1', 2026, 0, 0)")
    assert migrate(db) == ["0005_voucher_uses", "0006_wallets", "0007_prior_year", "0008_region_rules", "0009_pools"]
    assert db.one("SELECT psn_no, year, pool, deductible_used FROM accumulators") == ("P1", 2026, "shared", 0)
    assert db.one("SELECT balc, prior_balc FROM accounts") == (5000, 0)
    assert drifts(db) == []
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE accounts SET prior_balc = 5001")
    db.close()


def _raw() -> dict[str, Any]:
    return tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("key, value, words", [
    ("cross_province_model", "earmark", 'cross_province_model must be "wallet" or "quota"'),
    ("wallet_max_transfer", "2000", "wallet_max_transfer (fen) must be a whole number"),
    ("wallet_transfers_per_day", 0, "wallet_transfers_per_day must be a whole number from 1"),
    ("wallet_closed_from", "22h", 'wallet_closed_from must be a time "HH:MM"'),
    ("wallet_return_at", "24:00", 'wallet_return_at must be a time "HH:MM"'),
    ("share_prior_year_only", "yes", "share_prior_year_only must be true or false"),
    ("max_users_per_owner", -1, "max_users_per_owner must be a whole number from 0"),
    ("wallet_limit", 3, "unknown key(s) wallet_limit"),
])
def test_the_new_mutual_aid_options_are_checked_by_name(key, value, words):
    raw = _raw()
    raw["mutual_aid"]["options"][key] = value
    with pytest.raises(ConfigProblem, match=None) as caught:
        CentreSettings.from_config(raw)
    assert words in str(caught.value) and "[mutual_aid.options]" in str(caught.value)


@pytest.mark.parametrize("extra, words", [
    ({"admdvs": "5101"}, "admdvs must be a 6-digit area code"),
    ({"admdvs": 510100}, "admdvs must be a 6-digit area code"),
    ({"pool": "dental"}, "pool must be one of shared, outpatient, inpatient"),
])
def test_a_policy_rules_area_and_pool_are_checked(extra, words):
    raw = _raw()
    raw["policy"]["rule"][0].update(extra)
    with pytest.raises(ConfigProblem) as caught:
        CentreSettings.from_config(raw)
    assert words in str(caught.value) and "[[policy.rule]] #1" in str(caught.value)


def test_the_window_still_loads_the_config_with_the_new_keys(tmp_path):
    from terminal.config import load_config
    from terminal.errors import ConfigError
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert "wallet_max_transfer = 200000" in text and "cross_province_model = \"wallet\"" in text
    path = tmp_path / "config.toml"
    path.write_text(text.replace('cross_province_model = "wallet"', 'cross_province_model = "earmark"'),
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="cross_province_model"):
        load_config(path)
    area_rule = '\n[[policy.rule]]\nadmdvs = "510100"\ninsutype = "310"\nmed_type = "11"\nhosp_lv = "*"\n' \
                'deductible = 0\ndeductible_scope = "year"\nratio = "0.90"\nannual_cap = 100\npool = "outpatient"\n'
    path.write_text(text.replace("\n[web]", area_rule + "\n[web]"), encoding="utf-8")
    # a rule for another insured area loads at the window too (the rules are the centre's to apply)
    assert load_config(path).raw["policy"]["rule"][-1]["admdvs"] == "510100"
