"""The demo tells the 2025 story of cross-province mutual aid: 张伟 (Zhengzhou) has bound his sister 张敏
(Chengdu) without a quota, and yesterday moved ¥300.00 from his personal account into her insurance wallet,
which she accepted. The export cannot carry a wallet: the demo centre makes the transfer through X111 and X112."""

from __future__ import annotations

import datetime as dt
import sqlite3

from conftest import ROOT


def _cfg(tmp_path, monkeypatch, model: str = "wallet"):
    from terminal.config import load_config
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")     # the shipped config: a window on the centre
    assert 'cross_province_model = "wallet"' in text
    text = text.replace('cross_province_model = "wallet"', f'cross_province_model = "{model}"', 1)
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "config.toml")
    assert cfg.centre.enabled
    return cfg


def test_the_demo_centre_holds_zhang_mins_wallet_from_an_accepted_transfer(tmp_path, monkeypatch):
    from centre.store.engine import Database
    from centre.store.money import drifts
    from terminal.services.demo_db import ensure_demo_db
    cfg = _cfg(tmp_path, monkeypatch)
    ensure_demo_db(cfg)
    ensure_demo_db(cfg)                      # a second start makes no second transfer
    where = cfg.resolve(cfg.centre.db)
    with sqlite3.connect(where) as db:
        assert db.execute("SELECT psn_no, balc FROM wallets").fetchall() == [("P20000005", 30000)]
        assert db.execute("SELECT balc FROM accounts WHERE psn_no = 'P10000001'").fetchone() == (326000,)
        assert db.execute("SELECT scope, quota FROM bindings WHERE user_psn_no = 'P20000005'").fetchall() == [
            ("cross_province", 0)]
        (owner, user, amount, state, made_at, closed_at), = db.execute(
            "SELECT owner_psn_no, user_psn_no, amount, state, made_at, closed_at FROM wallet_transfers").fetchall()
    assert (owner, user, amount, state) == ("P10000001", "P20000005", 30000, "accepted")
    made = dt.datetime.strptime(made_at, "%Y-%m-%d %H:%M:%S")
    assert made.time() == dt.time(10, 0) and closed_at == made_at
    assert (dt.datetime.now() - made).days in (0, 1)      # yesterday (the centre's clock, Asia/Shanghai)
    assert drifts(Database(where)) == []


def test_under_the_quota_model_the_demo_centre_makes_no_transfer(tmp_path, monkeypatch):
    from terminal.services.demo_db import ensure_demo_db
    cfg = _cfg(tmp_path, monkeypatch, model="quota")
    ensure_demo_db(cfg)
    with sqlite3.connect(cfg.resolve(cfg.centre.db)) as db:
        assert db.execute("SELECT count(*) FROM wallet_transfers").fetchone() == (0,)
        assert db.execute("SELECT balc FROM accounts WHERE psn_no = 'P10000001'").fetchone() == (356000,)
