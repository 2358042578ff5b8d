"""The cashier's screens on the embedded centre (`[centre] enabled`, `url` empty), driven with Pilot: the card read
is a 1101, the bill a visit (2201/2203/2204) pre-settled by 2206, the payment a 2207; a lost 2207 answer and a
centre that is down reach the cashier as clear messages, and nobody is charged."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from ui_pilot import enter_bill, insert, press, screen_text, type_text, window

AMOXICILLIN = ("X001", "阿莫西林胶囊", "A", "2", "125.50")   # 2 × ¥125.50 = ¥251.00, class A
DEMO_BALC = 356000 - 30000   # 张伟 on the demo centre: ¥300.00 of his account is in his sister 张敏's wallet


def _cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, faults: str = ""):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('faults = ""', f'faults = "{faults}"', 1)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    from terminal.config import load_config
    return load_config(path)


def _centre_balc(cfg, card_no: str) -> int | None:
    """The balance as the centre has it (X101 through a fresh client of the same embedded centre)."""
    from terminal.services.ledger import open_ledger
    ledger = open_ledger(cfg)
    try:
        return ledger.family(card_no=card_no).own
    finally:
        ledger.close()


def _logged(cfg) -> list[tuple[str, str]]:
    import sqlite3
    with sqlite3.connect(cfg.db_path) as db:
        return db.execute("SELECT infno, state FROM centre_log ORDER BY id").fetchall()


async def _to_payment(app, pilot, profile: str, items=(AMOXICILLIN,)) -> None:
    await insert(app, pilot, profile)
    assert type(app.screen).__name__ == "PatientScreen"
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, list(items))
    await press(app, pilot, "f5")
    assert type(app.screen).__name__ == "PaymentScreen"


async def test_the_window_settles_through_the_embedded_centre(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        assert app.ledger.kind == "centre" and app.ledger.client is not None
        await _to_payment(app, pilot, "zhang_xiaoyu", [AMOXICILLIN, ("T001", "普通门诊诊查费", "A", "1", "10.00")])
        # 390 resident outpatient: the fund pays 50 % of ¥261.00, ¥130.50; her father's account (X101) the rest
        assert "¥130.50" in screen_text(app)
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen", screen_text(app)
        assert "结算完成" in screen_text(app)
        assert app.ledger.client.health.state in ("connected", "slow")
    infnos = [i for i, _ in _logged(cfg)]
    for infno in ("9001", "1101", "X101", "2201", "2203", "2204", "2205", "2206", "2207"):
        assert infno in infnos, infno
    assert infnos.count("2201") == 1          # one visit; the second line replaced its fees (2205, 2204)
    assert infnos.index("2206") < infnos.index("2207")
    assert _centre_balc(cfg, "A10000001") == DEMO_BALC - 13050
    import sqlite3
    with sqlite3.connect(cfg.db_path) as db:
        assert db.execute("SELECT count(*), sum(acct_mulaid_pay) FROM window_settlements").fetchone() == (1, 13050)
        assert db.execute("SELECT count(*) FROM settlements").fetchone()[0] == 0   # money never moves in the window's own tables


async def test_a_lost_settlement_answer_is_shown_and_nobody_is_charged(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch, faults="lost-answer:2207")
    async with window(cfg) as (app, pilot):
        await _to_payment(app, pilot, "zhang_wei")
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "PaymentScreen"
        assert "结算结果未知,已冲正,可重新结算" in screen_text(app)
        await type_text(app, pilot, "123456")       # the next attempt settles, once (the fault is used up)
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen", screen_text(app)
    assert ("2601", "answered") in _logged(cfg)
    assert _centre_balc(cfg, "A10000001") == DEMO_BALC - 25100


async def test_a_centre_that_is_down_reads_the_card_from_the_cache_and_offers_cash(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch, faults="down")
    async with window(cfg) as (app, pilot):
        await _to_payment(app, pilot, "zhang_wei")          # the card and the family from the window's cache
        text = screen_text(app)
        assert "医保中心无法连接" in text and "全自费" in text and "¥251.00" in text
        await press(app, pilot, "f5")                       # the whole bill in cash, no PIN
        assert type(app.screen).__name__ == "ResultScreen", screen_text(app)
        assert app.ledger.client.health.state == "down"
    import sqlite3
    with sqlite3.connect(cfg.db_path) as db:
        assert db.execute("SELECT kind, psn_cash_pay, acct_pay FROM window_settlements").fetchall() == \
            [("cash_only", 25100, 0)]
    assert not [i for i, state in _logged(cfg) if i == "2207"]     # the centre was never asked to settle


async def test_the_centre_going_down_after_the_card_read_is_said_at_payment(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        await _to_payment(app, pilot, "zhang_wei")
        app.ledger.client.transport.centre.faults.down = True      # the centre falls over now
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "PaymentScreen"
        assert "无法连接医保中心" in screen_text(app) and "未扣费" in screen_text(app)
    import sqlite3
    with sqlite3.connect(cfg.db_path) as db:
        assert db.execute("SELECT count(*) FROM window_settlements").fetchone()[0] == 0


def test_the_kiosk_pays_through_the_embedded_centre_and_a_retry_charges_nothing(tmp_path, monkeypatch, state_dir):
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    from terminal.services.demo_db import ensure_demo_db
    from terminal.services.ledger import close_ledger
    from terminal.ui.kiosk.backend import KioskBackend
    cfg = _cfg(tmp_path, monkeypatch)
    ensure_demo_db(cfg)
    reader = InProcessReader(load_card("zhang_xiaoyu", state_dir))
    try:
        kiosk = KioskBackend(cfg, reader)
        patient = kiosk.read_patient()
        assert patient.psn_no == "P10000003" and [f.owner_psn_no for f in patient.family] == ["P10000001"]
        bill = kiosk.pending_bill(patient)
        assert bill is not None and bill.total == 10840
        options = kiosk.pay_options(patient, bill)
        assert [o.key for o in options] == ["P10000001"] and options[0].cash_pay == 0
        receipt = kiosk.pay(patient, bill, options[0], "123456")
        assert receipt.total == 10840 and receipt.fund_pay + sum(a for _, a in receipt.mulaid) == 10840
        again = kiosk.pay(patient, bill, options[0], "123456")       # the same bill's request id: a replay
        assert again.setl_id == receipt.setl_id
        assert kiosk.bill_path(patient) is None                       # the demo bill is paid
    finally:
        close_ledger(cfg)
        reader.close()
    assert _centre_balc(cfg, "A10000001") == DEMO_BALC - sum(a for _, a in receipt.mulaid)


async def test_a_split_the_centre_cannot_give_is_not_shown_and_enter_says_why(tmp_path, monkeypatch):
    """The centre falls over while the cashier changes the choices (F7: accounts off): the split asked for
    cannot be had, so the panel shows no split (not the one before F7), and Enter says why again instead of
    charging; F7 back once the centre is up gives the split, and the charge goes through."""
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        await _to_payment(app, pilot, "zhang_wei")
        assert str(app.screen.query_one("#v-acct_pay").render()) == "¥251.00"
        centre = app.ledger.client.transport.centre
        centre.faults.down = True
        await press(app, pilot, "f7")
        assert "无法连接医保中心" in screen_text(app), screen_text(app)
        assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "—", screen_text(app)
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "PaymentScreen" and "无法连接医保中心" in screen_text(app)
        centre.faults.down = False
        await press(app, pilot, "f7")                   # the accounts on again: the split is back
        assert str(app.screen.query_one("#v-acct_pay").render()) == "¥251.00", screen_text(app)
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen", screen_text(app)
    assert _centre_balc(cfg, "A10000001") == DEMO_BALC - 25100
