"""Cash-only (全自费) sales at day end and on the clock: a reversed cash sale is taken off the day end's cash line,
which says what these sales are (never through the centre) without claiming the centre was down; and a cash sale
and its reversal are stamped on the centre's clock, as a settlement through the centre is, so the day's list, the
ids and the day end agree even when the machine (UTC) is still on the day before the centre (Asia/Shanghai)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from ui_pilot import SIZE, press, screen_text, settle_down

from terminal.card_session import CardSession
from terminal.domain.bill import parse_bill


def bill(price: int):
    return parse_bill({"med_type": "11", "items": [
        {"code": "X001", "name": "阿莫西林胶囊", "category": "drug", "class": "A", "qty": "1", "price": price}]})


def session(cfg, profile: str) -> CardSession:
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    return CardSession(InProcessReader(load_card(profile, cfg.state_dir)), cfg)


def open_ledger(cfg):
    from terminal.services.demo_db import ensure_demo_db
    from terminal.services.ledger import open_ledger
    ensure_demo_db(cfg)
    return open_ledger(cfg)


def ten_reversed_then_twenty(ledger, cfg) -> None:
    """The tester's day: ¥10 cash for 刘洋 (card expired), reversed; then ¥20 cash for 赵兰 (insurance suspended)."""
    first = ledger.settle(session(cfg, "liu_yang"), bill(1000), self_pay=True)
    ledger.reverse(first.setl_id)
    ledger.settle(session(cfg, "zhao_lan"), bill(2000), self_pay=True)


# ---------------------------------------------------------------- A: the day end nets out a reversed cash sale

def test_day_end_nets_out_a_reversed_cash_sale(cfg):
    ledger = open_ledger(cfg)
    try:
        ten_reversed_then_twenty(ledger, cfg)
        report = ledger.reconcile(window=cfg.terminal.window)
    finally:
        ledger.close()
    assert report.ok
    assert (report.cash_only_count, report.cash_only) == (1, 2000)          # what the drawer holds: ¥20.00
    assert (report.cash_only_sales, report.cash_only_reversals) == (2, 1)
    text = report.text()
    assert "2, 1 reversed 冲正, 1 net 净, 20.00" in text
    assert "全自费现金结算" in text and "not through the centre" in text
    assert "断线" not in text and "down" not in text


def test_cli_reconcile_json_nets_out_a_reversed_cash_sale(cfg, capsys):
    ledger = open_ledger(cfg)
    try:
        ten_reversed_then_twenty(ledger, cfg)
    finally:
        ledger.close()
    from terminal.cli.main import main
    code = main(["--config", str(cfg.path), "reconcile", "--json"])
    rec = json.loads(capsys.readouterr().out)
    assert code == 0 and rec["ok"]
    assert (rec["cash_only_count"], rec["cash_only_fen"]) == (1, 2000)       # the existing keys, net
    assert (rec["cash_only_sales"], rec["cash_only_reversals"]) == (2, 1)    # added beside them
    code = main(["--config", str(cfg.path), "reconcile"])
    out = capsys.readouterr().out
    assert code == 0 and "self-pay cash 全自费现金结算: 2, 1 reversed 冲正, 1 net 净, 20.00" in out, out
    assert "down" not in out and "断线" not in out


# ---------------------------------------------------------------- B: the centre's clock, near its midnight

@pytest.fixture
def past_centre_midnight(monkeypatch):
    """The machine on UTC still on 2026-12-02 (16:29:30) while the centre (Asia/Shanghai) is already on 2026-12-03
    (00:29:30): both clocks set to the same instant; `tick(seconds)` moves both on."""
    from centre.settings import CentreSettings
    from terminal import clock
    machine = [datetime(2026, 12, 2, 16, 29, 30, tzinfo=UTC)]
    centre = [datetime(2026, 12, 3, 0, 29, 30)]                             # naive: the centre's wall clock

    def tick(seconds: int) -> None:
        from datetime import timedelta
        machine[0] += timedelta(seconds=seconds)
        centre[0] += timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "now", lambda: machine[0])
    monkeypatch.setattr(CentreSettings, "clock", lambda self: (lambda: centre[0]))
    return tick


def midnight_day(ledger, cfg, tick) -> tuple:
    """张伟 through the centre at 00:29:30 Beijing, then 赵兰 cash at 00:30:00, reversed at 00:30:30, then
    刘洋 cash at 00:31:00."""
    insured = ledger.settle(session(cfg, "zhang_wei"), bill(1000), pin="123456")
    tick(30)
    cash = ledger.settle(session(cfg, "zhao_lan"), bill(2000), self_pay=True)
    tick(30)
    reversal = ledger.reverse(cash.setl_id)
    tick(30)
    later = ledger.settle(session(cfg, "liu_yang"), bill(500), self_pay=True)
    return insured, cash, reversal, later


def test_cash_sales_are_on_the_centres_clock_past_its_midnight(cfg, past_centre_midnight):
    ledger = open_ledger(cfg)
    try:
        insured, cash, reversal, later = midnight_day(ledger, cfg, past_centre_midnight)
        assert (insured.created_at, insured.setl_date) == ("2026-12-03T00:29:30+08:00", "2026-12-03")
        assert (cash.created_at, cash.setl_date) == ("2026-12-03T00:30:00+08:00", "2026-12-03")
        assert cash.setl_id.startswith("C20261203003000")
        assert (reversal.created_at, reversal.setl_date) == ("2026-12-03T00:30:30+08:00", "2026-12-03")
        assert reversal.setl_id.startswith("C20261203003030")
        assert later.setl_id.startswith("C20261203003100")
        rows, _names = ledger.todays("2026-12-02", cfg.terminal.window)     # the machine's today: the centre's
        assert [r.setl_id for r in rows] == [later.setl_id, reversal.setl_id, cash.setl_id, insured.setl_id]
        report = ledger.reconcile(window=cfg.terminal.window)
    finally:
        ledger.close()
    assert report.date == "2026-12-03" and report.ok and report.count == 1
    assert (report.cash_only_sales, report.cash_only_reversals, report.cash_only_count, report.cash_only) == \
        (2, 1, 1, 500)


async def test_window_lists_and_counts_cash_on_the_centres_clock(cfg, past_centre_midnight):
    """At the window (F4 and F6) on the same clocks: the cash sales sorted by when they were made, among the
    settlement through the centre, and counted net on the centre's day."""
    from ui_pilot import demo_databases

    from terminal.ui.app import build_app
    demo_databases(cfg)
    ledger = open_ledger(cfg)
    try:
        insured, cash, reversal, later = midnight_day(ledger, cfg, past_centre_midnight)
    finally:
        ledger.close()
    app = build_app(cfg, demo=True, mode="cashier", lang="zh", now=datetime(2026, 12, 2, 16, 31, 30,
                                                                               tzinfo=UTC))
    async with app.run_test(size=SIZE) as pilot:
        await settle_down(app, pilot)
        await press(app, pilot, "f4")
        text = screen_text(app)
        places = [text.find(s) for s in (later.setl_id, reversal.setl_id, cash.setl_id, insured.setl_id)]
        assert -1 not in places and places == sorted(places), text
        assert "00:31:00" in text and "00:29:30" in text and "16:3" not in text
        assert "当日结算 · 2026-12-03" in text, text          # the title names the day the rows are of
        await press(app, pilot, "escape", "f6")
        text = screen_text(app)
        assert "2026-12-03" in text, text
        assert "全自费现金结算 2 笔,冲正 1 笔,净 1 笔,共 ¥5.00(未经医保中心,不在 3201 中)" in text, text
        assert "断线" not in text

