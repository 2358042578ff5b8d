"""No dead end at the window (issue 11, item 13): a patient whose insurance is suspended or whose card has
expired pays the whole bill in cash (full self-pay: acct_used_flag 0, no fund share, no PIN), recorded as a
settlement that day end counts — in the service, the command line (`--self-pay`) and the window. A PIN that
becomes blocked turns the split to cash, said so; one try left is warned. Every message in one language."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import asynccontextmanager

import pytest
from ui_pilot import AMOXICILLIN_LINE, NOW, SIZE, enter_bill, insert, press, screen_text, settle_down, type_text, window

from drivers.errors import CardError
from terminal.card_session import CardSession
from terminal.domain.bill import parse_bill
from terminal.errors import RuleRefused

BILL = {"med_type": "11", "items": [
    {"code": "X001", "name": "阿莫西林胶囊", "category": "drug", "class": "A", "qty": "2", "price": 12550},
    {"code": "X207", "name": "头孢克肟片", "category": "drug", "class": "B", "qty": "1", "price": 3800}]}
TOTAL = 2 * 12550 + 3800
DEMO_BALC = 356000 - 30000   # 张伟 on the demo centre: ¥300.00 of his account is in his sister 张敏's wallet


@pytest.fixture
def ledger(cfg):
    """The window's ledger on the embedded centre holding the demo data."""
    from terminal.services.demo_db import ensure_demo_db
    from terminal.services.ledger import open_ledger
    ensure_demo_db(cfg)
    ledger = open_ledger(cfg)
    yield ledger
    ledger.close()


def centre_one(cfg, sql: str, args: list | None = None) -> tuple:
    """One row of the embedded centre's database."""
    from centre.store.engine import open_store
    store = open_store(cfg.resolve(cfg.centre.db))
    try:
        return tuple(store.db().one(sql, args or []))
    finally:
        store.close()


def balance(cfg, psn_no: str) -> int | None:
    """The account's balance as the centre has it (None: no account)."""
    from centre.store.engine import open_store
    store = open_store(cfg.resolve(cfg.centre.db))
    try:
        rows = store.db().all("SELECT balc FROM accounts WHERE psn_no = ?", [psn_no])
        return int(rows[0][0]) if rows else None
    finally:
        store.close()


def window_count(cfg, where: str = "1", args: list | None = None) -> int:
    """The window's own record of its settlements (self-pay is kept only here: the centre is not asked)."""
    with sqlite3.connect(cfg.db_path) as db:
        return db.execute(f"SELECT count(*) FROM window_settlements WHERE {where}", args or []).fetchone()[0]


@asynccontextmanager
async def live_window(cfg):
    """The demo window on the real clock: the centre dates what it settles by its own, so the window's today
    must be today to list it."""
    from terminal.services.demo_db import ensure_demo_db
    from terminal.ui.app import build_app
    ensure_demo_db(cfg)
    app = build_app(cfg, demo=True, mode="cashier", lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle_down(app, pilot)
        yield app, pilot


def session(cfg, profile: str) -> CardSession:
    from emulator.inprocess import InProcessReader   # no keypad: a PIN asked for without one is an error
    from emulator.profiles import load_card
    return CardSession(InProcessReader(load_card(profile, cfg.state_dir)), cfg)


def one_language_zh(text: str) -> bool:
    """Chinese words only (numbers, dates, card numbers, key names and --flags aside)."""
    return not re.search(r"[A-Za-z]", re.sub(r"--[a-z-]+|[A-Z][0-9]{8}|\bF[0-9]+\b|\b(Esc|Enter|Space)\b|\[X\]", "", text))


# ---------------------------------------------------------------- the service

@pytest.mark.parametrize("profile,psn_no,code", [("zhao_lan", "P40000009", "insurance_inactive"),
                                                 ("liu_yang", "P40000008", "card_expired")])
def test_self_pay_is_the_way_on(ledger, cfg, profile, psn_no, code):
    with pytest.raises((RuleRefused, CardError)) as refused:          # with insurance: refused, and says the way on
        ledger.settle(session(cfg, profile), parse_bill(BILL), pin="123456", now=NOW)
    assert refused.value.code == code
    zh = refused.value.localized("zh")
    assert one_language_zh(zh), zh
    if code == "insurance_inactive":
        assert "可全自费现金结算" in zh
    else:
        assert zh == "卡已过有效期 (有效期至 2024-05-31)"
    balc_before = balance(cfg, psn_no)
    centre_before = centre_one(cfg, "SELECT count(*) FROM settlements")
    result = ledger.settle(session(cfg, profile), parse_bill(BILL), pin=None, self_pay=True, now=NOW)
    assert (result.split.medfee_sumamt, result.split.fund_pay_sumamt, result.split.acct_pay, result.split.psn_cash_pay) == (TOTAL, 0, 0, TOTAL)
    assert (result.split.fulamt_ownpay_amt, result.split.inscp_scp_amt, result.split.psn_part_amt) == (TOTAL, 0, TOTAL)
    assert result.acct_used_flag == "0" and result.mulaid == () and result.status == "settled"
    assert result.kind == "cash_only"                                   # the window's own record, cash only
    assert balance(cfg, psn_no) == balc_before                         # no account touched (刘洋 has one)
    assert centre_one(cfg, "SELECT count(*) FROM settlements") == centre_before    # the centre was not asked
    acc = centre_one(cfg, "SELECT count(*), coalesce(sum(deductible_used), 0), coalesce(sum(fund_paid), 0) "
                     "FROM accumulators WHERE psn_no = ?", [psn_no])
    assert acc[1:] == (0, 0)                                            # the year's deductible and cap untouched
    report = ledger.reconcile(window=cfg.terminal.window)
    assert report.ok and report.cash_only_count == 1 and report.cash_only == TOTAL   # day end counts it


def test_self_pay_presettles_and_a_retry_is_not_another_request(ledger, cfg):
    pre = ledger.presettle("P40000009", parse_bill(BILL), self_pay=True, now=NOW)
    assert (pre.fund_pay_sumamt, pre.acct_pay, pre.psn_cash_pay) == (0, 0, TOTAL)
    first = ledger.settle(session(cfg, "zhao_lan"), parse_bill(BILL), self_pay=True, request_id="r-1", now=NOW)
    again = ledger.settle(session(cfg, "zhao_lan"), parse_bill(BILL), self_pay=True, request_id="r-1", now=NOW)
    assert again.replayed and again.setl_id == first.setl_id
    with pytest.raises(RuleRefused) as other:                           # the same id for an insurance request
        ledger.settle(session(cfg, "zhang_wei"), parse_bill(BILL), pin="123456", request_id="r-1", now=NOW)
    assert other.value.code == "request_id_conflict"
    assert window_count(cfg) == 1


# ---------------------------------------------------------------- the command line

def run_cli(cfg, capsys, *args: str) -> tuple[int, dict]:
    from terminal.cli.main import main
    code = main(["--config", str(cfg.path), *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_cli_self_pay(ledger, cfg, tmp_path, capsys):
    from settle_data import write_bill
    bill = write_bill(tmp_path / "bill.json", "11", [("A", 2, 12550), ("B", 1, 3800)])
    code, out = run_cli(cfg, capsys, "settle", "--reader", "emulator:zhao_lan", "--bill", str(bill), "--json")
    assert code == 1 and out["error"]["code"] == "insurance_inactive"
    assert "--self-pay" in out["error"]["message"]                      # the refusal names the way on
    code, out = run_cli(cfg, capsys, "settle", "--reader", "emulator:liu_yang", "--bill", str(bill), "--json",
                        "--pin", "123456")
    assert code == 1 and out["error"]["code"] == "card_expired" and "--self-pay" in out["error"]["message"]
    for profile in ("zhao_lan", "liu_yang"):
        code, out = run_cli(cfg, capsys, "settle", "--reader", f"emulator:{profile}", "--bill", str(bill),
                            "--json", "--self-pay")                    # no --pin: none is needed
        assert code == 0, out
        assert out["kind"] == "cash_only" and out["mulaid"] == []
        assert (out["fund_pay_sumamt_fen"], out["acct_pay_fen"], out["psn_cash_pay_fen"]) == (0, 0, 28900)
    assert window_count(cfg, "kind = 'cash_only'") == 2
    code, rec = run_cli(cfg, capsys, "reconcile", "--json")
    assert code == 0 and rec["ok"] and (rec["cash_only_count"], rec["cash_only_fen"]) == (2, 2 * 28900)


# ---------------------------------------------------------------- at the window

@pytest.mark.parametrize("profile,psn_no,why", [("zhao_lan", "P40000009", "参保状态:暂停参保"),
                                                ("liu_yang", "P40000008", "卡已过有效期")])
async def test_window_offers_self_pay_and_charges_it(cfg, profile, psn_no, why):
    async with live_window(cfg) as (app, pilot):
        balc = balance(cfg, psn_no)
        await insert(app, pilot, profile)
        assert "可全自费现金结算" in screen_text(app)                  # said at once, with the keys to get there
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        assert app.screen.query_one("#split").border_title == "全自费(现金)"
        await press(app, pilot, "f5")
        text = screen_text(app)
        assert type(app.screen).__name__ == "PaymentScreen" and app.screen.self_pay
        assert f"不能医保结算({why}):本次按全自费结算" in text and "无需密码" in text
        assert not app.screen.query_one("#pin-box").display            # no PIN for cash
        shown = text.split("\n", 2)[2].split("\n卡托")[0]                # below the header's two lines, above the tray
        assert "¥251.00" in text and one_language_zh(shown), shown
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "ResultScreen"
        await press(app, pilot, "f10", "f4")
        assert "全自费" in screen_text(app) and "¥251.00" in screen_text(app)   # today's list shows it
    assert window_count(cfg, "psn_no = ? AND psn_cash_pay = 25100 AND fund_pay_sumamt = 0 AND acct_used_flag = '0' "
                        "AND kind = 'cash_only'", [psn_no]) == 1
    assert balance(cfg, psn_no) == balc


async def test_window_pin_last_try_warned_then_blocked_turns_to_cash(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        for left in (2, 1):
            await type_text(app, pilot, "000000")
            await press(app, pilot, "enter")
            assert f"剩余{left}次" in screen_text(app) or left == 1
        text = screen_text(app)
        assert "只剩 1 次机会:再输错一次将锁定,之后只能现金支付" in text      # warned before the last try
        await type_text(app, pilot, "000000")
        await press(app, pilot, "enter")
        text = screen_text(app)
        assert "密码已锁定:个人账户不能支付,已改为现金支付" in text             # blocked: turned to cash, said so
        assert app.screen.acct_used is False and "使用个人账户: 否" in text and "无需密码" in text
        assert "应收现金\n¥251.00" in text
        await press(app, pilot, "f5")                                      # the cash is collected
        assert type(app.screen).__name__ == "ResultScreen"
    assert balance(cfg, "P10000001") == DEMO_BALC
    assert centre_one(cfg, "SELECT count(*) FROM ledger WHERE account = 'cash' AND amount = 25100") == (1,)
