"""The patient's kiosk with Pilot: every step, wrong and blocked PINs, card pulled, idle timeout, no cashier screen.

Real parts: the app from `build_app(mode="kiosk")`, the in-process emulator's tray, the demo data in tmp, the
embedded insurance centre. Assertions are on what the patient reads, on the balances the centre answers (through
the window's ledger) and on the window's record of its settlements.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from ui_pilot import demo_databases

from terminal.config import load_config

SIZE = (100, 30)


def screen_text(app) -> str:
    """Every character on the screen now, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle_down(app, pilot) -> None:
    """Let workers finish and their messages land (wait_for_complete, then pause: press + pause alone was flaky)."""
    await pilot.pause()
    try:
        await app.workers.wait_for_complete()
    except Exception:  # a worker cancelled by a newer one
        pass
    await pilot.pause()


def make_cfg(config_file: Path, **web: object):
    """The tmp config with [web] keys replaced (e.g. kiosk_idle_s=0.5)."""
    text = config_file.read_text(encoding="utf-8")
    for key, value in web.items():
        lines = [f"{key} = {json.dumps(value)}" if line.startswith(f"{key} =") else line for line in text.splitlines()]
        text = "\n".join(lines) + "\n"
    config_file.write_text(text, encoding="utf-8")
    cfg = load_config(config_file)
    demo_databases(cfg)
    return cfg


def balance(cfg, psn_no: str) -> int | None:
    """The personal account's balance (fen) as the centre answers it, through the window's ledger (X101)."""
    from terminal.services.ledger import open_ledger
    ledger = open_ledger(cfg)
    try:
        return ledger.family(psn_no=psn_no).own
    finally:
        ledger.close()


def settlements(cfg) -> list[dict]:
    """The window's record of the settlements the centre answered, oldest first (amounts in fen)."""
    import sqlite3
    conn = sqlite3.connect(cfg.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM window_settlements ORDER BY id")]
    finally:
        conn.close()


def another_window_settles(cfg, profile: str, bill: dict, *, relatives="none"):
    """Meanwhile, at a cashier window on the same centre: `profile`'s card, PIN and `bill` settled through a ledger
    of its own (the kiosk's app keeps its own)."""
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    from terminal.card_session import CardSession
    from terminal.domain.bill import parse_bill
    from terminal.services.ledger import open_ledger
    ledger = open_ledger(cfg)
    reader = InProcessReader(load_card(profile, cfg.state_dir))
    try:
        return ledger.settle(CardSession(reader, cfg), parse_bill(bill), pin="123456", relatives=relatives)
    finally:
        reader.close()
        ledger.close()


@pytest.fixture
def kiosk_cfg(config_file: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    return make_cfg(config_file)


def kiosk_app(cfg, lang: str | None = None, now=None):
    from terminal.ui.app import build_app
    return build_app(cfg, demo=True, mode="kiosk", lang=lang, now=now)


class HandClock:
    """The app's clock, moved by the test: time passes without waiting for it."""

    def __init__(self) -> None:
        self.at = datetime.now()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


async def let_time_pass(app, pilot, clock: HandClock, seconds: float) -> None:
    """`seconds` pass on the app's clock, and the kiosk looks at it (as its interval timer does)."""
    clock.advance(seconds)
    app.screen.check_timeout()
    await pilot.pause()


@contextlib.asynccontextmanager
async def running(cfg, lang: str | None = None, now=None):
    """The kiosk app (demo tray) running under Pilot, first screen drawn."""
    app = kiosk_app(cfg, lang, now)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        yield app, pilot


async def insert(app, pilot, key: str) -> str:
    """Tap the demo tray's card `key` (1–9) on the idle screen; the patient's overview comes up."""
    await pilot.press(key)
    await settle_down(app, pilot)
    return screen_text(app)


async def pay_with(app, pilot, option: str, pin: str = "123456") -> str:
    await pilot.press("enter")           # 去缴费
    await pilot.pause()
    await pilot.press(option)            # who pays
    await pilot.pause()
    await pilot.press(*pin)
    await pilot.press("enter")
    await settle_down(app, pilot)
    return screen_text(app)


# tray order is the cast's card order: 1 张伟, 2 李娜, 3 张小雨, 4 张国强, 5 张敏, 6 王芳, ...
ZHANG_WEI, ZHANG_XIAOYU, WANG_FANG = "1", "3", "6"


async def test_idle_screen_asks_for_the_card(kiosk_cfg):
    async with running(kiosk_cfg) as (app, pilot):
        text = screen_text(app)
        assert "请插入社保卡" in text
        assert "张小雨" in text                       # the demo tray, with people's names
        assert app.screen.view == "idle"


async def test_daughter_pays_demo_bill_from_fathers_account(kiosk_cfg):
    """张小雨 (resident, no account) pays the demo bill from 张伟's account, as a patient would."""
    before = balance(kiosk_cfg, "P10000001")
    async with running(kiosk_cfg) as (app, pilot):
        text = await insert(app, pilot, ZHANG_XIAOYU)
        assert "您好，张小雨" in text
        assert "410105********6927" in text and "410105201206016927" not in text   # masked ID only
        assert "您没有个人账户" in text
        # the father's account can pay, but how much is his: no amount of his before (or after) her PIN
        assert "张伟" in text and "家人账户可用" in text and f"¥{before // 100:,}.{before % 100:02d}" not in text
        assert "¥108.40" in text                     # the bundled demo bill
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "请选择付款账户" in text and "1  张伟的账户" in text
        await pilot.press("1")
        await pilot.pause()
        assert "请输入您的社保卡密码" in screen_text(app)
        await pilot.press(*"1234")
        await pilot.pause()
        assert "● ● ● ● ○ ○" in screen_text(app)   # masked as it is typed
        assert "1234" not in screen_text(app)
        await pilot.press(*"56", "enter")
        await settle_down(app, pilot)
        text = screen_text(app)
    assert "缴费成功" in text
    [row] = settlements(kiosk_cfg)
    assert row["medfee_sumamt"] == 10840
    assert row["acct_mulaid_pay"] == 6364 and row["own_acct_pay"] == 0 and row["psn_cash_pay"] == 0
    assert row["fund_pay_sumamt"] == 4476
    assert balance(kiosk_cfg, "P10000001") == before - 6364
    assert "张伟的账户支付" in text and "¥63.64" in text and row["setl_id"] in text


async def test_everything_by_tapping(kiosk_cfg):
    """A touch screen: the tray card, Pay, the account, the on-screen keypad, Confirm, Done."""
    async with running(kiosk_cfg) as (app, pilot):
        await pilot.click("#tray-zhang_xiaoyu")
        await settle_down(app, pilot)
        await pilot.click("#to-choose")
        await pilot.click(".option")
        await pilot.pause()
        for digit in "12345":
            await pilot.click(f"#key-{digit}")
        await pilot.click("#key-clear")                      # changed her mind: start again
        for digit in "123456":
            await pilot.click(f"#key-{digit}")
        await pilot.press("enter")                            # Enter confirms even after a tap on a digit
        await settle_down(app, pilot)
        assert app.screen.view == "receipt" and "缴费成功" in screen_text(app)
        await pilot.click("#done")
        await settle_down(app, pilot)
        assert app.screen.view == "idle" and app.tray_card is None
    assert len(settlements(kiosk_cfg)) == 1


async def test_worker_pays_from_own_account_and_done_returns_to_idle(kiosk_cfg):
    before = balance(kiosk_cfg, "P10000001")
    async with running(kiosk_cfg) as (app, pilot):
        text = await insert(app, pilot, ZHANG_WEI)
        assert "您好，张伟" in text and "没有可用的家庭共济账户" in text
        text = await pay_with(app, pilot, "1")
        assert "缴费成功" in text and "个人账户支付" in text
        await pilot.press("enter")                   # 完成: the card comes out, back to idle
        await settle_down(app, pilot)
        assert app.screen.view == "idle" and app.tray_card is None
    [row] = settlements(kiosk_cfg)
    assert row["own_acct_pay"] == 10840 and balance(kiosk_cfg, "P10000001") == before - 10840


async def test_wrong_pin_then_right(kiosk_cfg):
    async with running(kiosk_cfg) as (app, pilot):
        await insert(app, pilot, ZHANG_XIAOYU)
        text = await pay_with(app, pilot, "1", pin="654321")
        assert app.screen.view == "pin"
        assert "2" in text and ("密码错误" in text or "PIN" in text)   # the catalogue's message, tries left
        assert "请重新输入" in text and "● " not in text                # what to do now, on an empty PIN
        assert settlements(kiosk_cfg) == []
        await pilot.press(*"123456", "enter")
        await settle_down(app, pilot)
        assert "缴费成功" in screen_text(app)
    assert len(settlements(kiosk_cfg)) == 1


async def test_blocked_card_is_sent_to_the_window(kiosk_cfg):
    before = balance(kiosk_cfg, "P30000006")
    async with running(kiosk_cfg) as (app, pilot):
        text = await insert(app, pilot, WANG_FANG)
        # said at once, from the card's own PIN counter: no bill and no "Pay" button that cannot work
        assert app.screen.view == "message"
        assert "您的社保卡密码已锁定" in text and "请到人工窗口办理" in text and "去缴费" not in text
        await pilot.press("enter")                            # 完成: card out, idle
        await settle_down(app, pilot)
        assert app.screen.view == "idle" and app.tray_card is None
    assert settlements(kiosk_cfg) == [] and balance(kiosk_cfg, "P30000006") == before


async def test_three_wrong_pins_block_the_card_and_send_the_patient_to_the_window(kiosk_cfg):
    before = balance(kiosk_cfg, "P10000001")
    async with running(kiosk_cfg) as (app, pilot):
        await insert(app, pilot, ZHANG_XIAOYU)
        await pay_with(app, pilot, "1", pin="654321")
        for _ in range(2):
            await pilot.press(*"654321", "enter")
            await settle_down(app, pilot)
        text = screen_text(app)
        assert app.screen.view == "message"
        assert "您的社保卡密码已锁定" in text and "请到人工窗口办理" in text
    assert settlements(kiosk_cfg) == [] and balance(kiosk_cfg, "P10000001") == before


async def test_expired_card_and_suspended_insurance_are_sent_to_the_window(kiosk_cfg):
    async with running(kiosk_cfg) as (app, pilot):
        text = await insert(app, pilot, "8")                  # 刘洋: an expired 1.0 card
        assert app.screen.view == "message" and "您的社保卡已过有效期" in text and "请到人工窗口办理" in text
        await pilot.press("enter")                            # 完成: card out, idle
        await settle_down(app, pilot)
        assert app.screen.view == "idle"
        text = await insert(app, pilot, "9")                  # 赵兰: insurance suspended
        assert app.screen.view == "message" and "暂停" in text and "请到人工窗口办理" in text
    assert settlements(kiosk_cfg) == []


async def test_a_card_the_centre_does_not_know_is_said_so_and_sent_to_the_window(kiosk_cfg):
    """The centre answers 1101 with card_unknown (陈𬌗's card number is no longer on its books): the patient reads
    that the insurance record was not found, as for a person the window does not know, not a general error."""
    import sqlite3
    with contextlib.closing(sqlite3.connect(kiosk_cfg.resolve(kiosk_cfg.centre.db))) as db, db:
        assert db.execute("UPDATE persons SET card_no = NULL WHERE card_no = 'C30000007'").rowcount == 1
    async with running(kiosk_cfg) as (app, pilot):
        text = await insert(app, pilot, "7")
        assert app.screen.view == "message"
        assert "未找到您的参保信息" in text and "C30000007未查询到参保信息" in text and "请到人工窗口办理" in text, text
        assert "去缴费" not in text
    assert settlements(kiosk_cfg) == []


async def test_card_pulled_at_pin_returns_to_idle_with_nothing_charged(kiosk_cfg):
    before = balance(kiosk_cfg, "P10000001")
    async with running(kiosk_cfg) as (app, pilot):
        await insert(app, pilot, ZHANG_XIAOYU)
        await pilot.press("enter", "1", *"123")
        await pilot.pause()
        assert app.screen.view == "pin"
        await pilot.press("f9")                      # the demo tray's "remove card"
        await settle_down(app, pilot)
        assert app.screen.view == "idle"
        assert "卡已取出，未扣费" in screen_text(app)
    assert settlements(kiosk_cfg) == [] and balance(kiosk_cfg, "P10000001") == before


async def test_idle_timeout_returns_to_idle_and_gives_the_card_back(config_file, monkeypatch):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    cfg = make_cfg(config_file, kiosk_idle_s=60.0)           # a minute on the app's clock, none in real time
    clock = HandClock()
    async with running(cfg, now=clock) as (app, pilot):
        await insert(app, pilot, ZHANG_XIAOYU)
        assert app.screen.view == "overview"
        await let_time_pass(app, pilot, clock, 18)
        assert app.screen.view == "overview"                  # not yet
        await let_time_pass(app, pilot, clock, 42)
        assert app.screen.view == "idle"
        assert "操作超时" in screen_text(app)
        assert app.tray_card is None
        await let_time_pass(app, pilot, clock, 19)            # the notice is for the patient who left:
        assert "操作超时" in screen_text(app)
        await let_time_pass(app, pilot, clock, 1)             # it clears itself before the next one comes
        assert "操作超时" not in screen_text(app) and "请插入社保卡" in screen_text(app)


async def test_a_bill_in_the_bills_folder_is_offered_and_filed_when_paid(config_file, monkeypatch):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    cfg = make_cfg(config_file, demo_bill=False)
    bills = cfg.resolve("var/bills")
    bills.mkdir(parents=True)
    bill = {"med_type": "11", "items": [{"code": "X001", "name": "阿莫西林胶囊", "category": "drug", "class": "A",
                                         "qty": 2, "price": 1250}]}
    (bills / "A10000003.json").write_text(json.dumps(bill, ensure_ascii=False), encoding="utf-8")
    async with running(cfg) as (app, pilot):
        text = await insert(app, pilot, ZHANG_XIAOYU)
        assert "阿莫西林胶囊" in text and "¥25.00" in text and "布洛芬" not in text
        text = await pay_with(app, pilot, "1")
        assert "缴费成功" in text
        await pilot.press("enter")
        await settle_down(app, pilot)
        text = await insert(app, pilot, ZHANG_XIAOYU)
        assert "您没有待缴费用" in text             # filed: not offered twice
    assert not (bills / "A10000003.json").exists() and (bills / "paid" / "A10000003.json").exists()
    [row] = settlements(cfg)
    assert row["medfee_sumamt"] == 2500


async def test_english_by_config(kiosk_cfg):
    async with running(kiosk_cfg, lang="en") as (app, pilot):
        assert "Please insert your social security card" in screen_text(app)
        text = await insert(app, pilot, ZHANG_XIAOYU)
        assert "Hello, 张小雨" in text and "Family accounts" in text


CASHIER_KEYS = ["f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f10", "f11", "f12", "ctrl+p", "ctrl+r",
                "ctrl+b", "ctrl+d", "ctrl+t", "ctrl+s", "question_mark", "b", "r", "d", "t", "h", "tab"]


async def test_no_cashier_screen_is_reachable_by_key(kiosk_cfg):
    from terminal.ui.kiosk import KioskScreen
    async with running(kiosk_cfg) as (app, pilot):
        for when in ("idle", "overview"):
            if when == "overview":
                await insert(app, pilot, ZHANG_XIAOYU)
            await pilot.press(*CASHIER_KEYS)   # none of them may open anything (no escape: it could hide one)
            await pilot.pause()
            stack = [type(s).__name__ for s in app.screen_stack]
            assert isinstance(app.screen, KioskScreen) and len(stack) <= 2, stack
        assert not app.ENABLE_COMMAND_PALETTE
        assert "terminal.ui.screens.bindings" not in [type(s).__module__ for s in app.screen_stack]
    assert settlements(kiosk_cfg) == []


KIOSK_PROBE = """
import asyncio, sys
from terminal.config import load_config
from terminal.ui.app import build_app
async def main():
    app = build_app(load_config(sys.argv[1]), demo=True, mode="kiosk")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.press("enter", "1", *"123456", "enter")
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.view == "receipt", app.screen.view
asyncio.run(main())
print(" ".join(sorted(m for m in sys.modules if m.startswith("terminal."))))
"""


def test_a_whole_kiosk_payment_never_loads_a_cashier_screen_or_service(kiosk_cfg):
    """Not reachable because not there: the cashier's screens (bindings, day end, today's list, the message log,
    payment) are never imported. The kiosk pays through the centre's ledger; reversal and day end are that
    ledger's too, and only those screens ask for them."""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", KIOSK_PROBE, str(kiosk_cfg.path)], capture_output=True, text=True,
                         timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(out.stdout.split())
    assert "terminal.ui.kiosk.screen" in loaded and "terminal.services.centre_ledger" in loaded
    for module in ("terminal.ui.screens.bindings", "terminal.ui.screens.dayend", "terminal.ui.screens.today",
                   "terminal.ui.screens.centre_log", "terminal.ui.screens.waiting", "terminal.ui.screens.payment",
                   "terminal.ui.screens.help"):
        assert module not in loaded, module


async def test_a_slip_that_cannot_be_saved_is_still_a_payment_done(kiosk_cfg, tmp_path):
    """The slips folder is unwritable (a file in its place): paid, charged once, and told to ask the window
    for the slip — never "failed"."""
    from dataclasses import replace
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    cfg = kiosk_cfg.with_overrides(terminal=replace(kiosk_cfg.terminal, slips_dir=str(blocker)))
    before = balance(cfg, "P10000001")
    async with running(cfg) as (app, pilot):
        await insert(app, pilot, ZHANG_WEI)
        text = await pay_with(app, pilot, "1")
        assert "缴费成功" in text and "结算单暂未保存" in text and "收费窗口补打" in text
    [row] = settlements(cfg)
    assert row["own_acct_pay"] == 10840 and balance(cfg, "P10000001") == before - 10840


# -- a kiosk takes no cash (issue 11, item 5) ------------------------------------------------------
def write_bill(cfg, stem: str, items: list[dict]) -> Path:
    bills = cfg.resolve("var/bills")
    bills.mkdir(parents=True, exist_ok=True)
    path = bills / f"{stem}.json"
    path.write_text(json.dumps({"med_type": "11", "items": items}, ensure_ascii=False), encoding="utf-8")
    return path


# a class C item of the centre's catalogue (an item it does not list is refused at 2204)
BIG_ITEM = {"code": "T1", "name": "特需医疗服务", "category": "service", "class": "C", "qty": 1, "price": 800_000}
BIG_BILL = {"med_type": "11", "items": [BIG_ITEM]}
DEMO_BILL = json.loads((Path(__file__).resolve().parent.parent / "terminal" / "web" / "demo_bills" / "outpatient.json")
                       .read_text(encoding="utf-8"))


async def test_a_bill_the_accounts_cannot_cover_goes_to_the_window_with_nothing_charged(config_file, monkeypatch):
    """¥8,000 of self-pay care for 张小雨: her father's ¥3,260 cannot cover it (the demo centre moved ¥300.00
    of his account into his sister 张敏's insurance wallet). No "paid" with cash left over:
    the amounts, "请到人工窗口缴费", nothing charged, and the bill stays pending for the window."""
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    cfg = make_cfg(config_file, demo_bill=False)
    bill = write_bill(cfg, "A10000003", [BIG_ITEM])
    before = balance(cfg, "P10000001")
    async with running(cfg) as (app, pilot):
        text = await insert(app, pilot, ZHANG_XIAOYU)
        assert app.screen.view == "message", text
        assert "请到人工窗口缴费" in text and "本次未扣费" in text
        assert "¥8,000.00" in text and "个人负担" in text          # the amounts the window will collect
        assert "去缴费" not in text and "缴费成功" not in text and "还需现金" not in text
        await pilot.press(*"123456", "enter")                      # nothing here takes a PIN
        await settle_down(app, pilot)
        await pilot.press("enter")                                 # 完成: card out, idle
        await settle_down(app, pilot)
        assert app.screen.view == "idle" and app.tray_card is None
    assert settlements(cfg) == [] and balance(cfg, "P10000001") == before
    assert bill.exists() and not (bill.parent / "paid").exists()   # still pending, for the window


async def test_accounts_drained_after_the_choice_refuse_at_the_pin_and_charge_nothing(kiosk_cfg):
    """The options were right when shown; then 张伟 paid his own bill at a window and emptied his account.
    Her PIN must not settle a split with cash left over: refused, nothing written for her."""
    async with running(kiosk_cfg) as (app, pilot):
        await insert(app, pilot, ZHANG_XIAOYU)
        await pilot.press("enter", "1")                            # 张伟's account covers ¥63.64 now
        await pilot.pause()
        assert app.screen.view == "pin"
        own = another_window_settles(kiosk_cfg, "zhang_wei", BIG_BILL)   # meanwhile, at a cashier window
        assert own.balc == 0
        await pilot.press(*"123456", "enter")
        await settle_down(app, pilot)
        text = screen_text(app)
        assert app.screen.view == "message", text
        assert "请到人工窗口缴费" in text and "本次未扣费" in text and "缴费成功" not in text
    rows = settlements(kiosk_cfg)
    assert [r["psn_no"] for r in rows] == ["P10000001"]            # his own settlement only
    assert balance(kiosk_cfg, "P10000001") == 0


def test_the_2207_itself_refuses_a_split_with_cash_when_cash_is_not_allowed(kiosk_cfg):
    """The check inside the centre's transaction (a balance may move between the 2206 the window looked at and
    the 2207): while her card checks the PIN, another window empties her father's account. `accounts_short`, and
    not a settlement or a fen written."""
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    from terminal.card_session import CardSession
    from terminal.domain.bill import parse_bill
    from terminal.errors import CashierError
    from terminal.services.ledger import open_ledger

    drained = []

    class DrainedDuringThePin(CardSession):
        def verify_pin(self, pin: str | None) -> None:
            drained.append(another_window_settles(kiosk_cfg, "zhang_wei", BIG_BILL).balc)
            super().verify_pin(pin)

    ledger = open_ledger(kiosk_cfg)
    reader = InProcessReader(load_card("zhang_xiaoyu", kiosk_cfg.state_dir))
    try:
        with pytest.raises(CashierError) as refused:
            ledger.settle(DrainedDuringThePin(reader, kiosk_cfg), parse_bill(DEMO_BILL), pin="123456",
                          relatives=["P10000001"], cash_allowed=False)
    finally:
        reader.close()
        ledger.close()
    # her PIN was asked (the 2206 had her father's account cover ¥63.64), and his account was empty after it
    assert drained == [0]
    assert refused.value.code == "accounts_short" and "未扣费" in refused.value.message_zh
    assert [r["psn_no"] for r in settlements(kiosk_cfg)] == ["P10000001"]   # his own settlement only
    assert balance(kiosk_cfg, "P10000001") == 0


async def test_the_demo_bill_is_paid_once_per_patient(kiosk_cfg):
    """After 张小雨 pays the bundled demo bill it is not offered to her again (not even by a new kiosk
    process); 张伟, who has not paid it, still gets it."""
    async with running(kiosk_cfg) as (app, pilot):
        await insert(app, pilot, ZHANG_XIAOYU)
        assert "缴费成功" in await pay_with(app, pilot, "1")
        await pilot.press("enter")
        await settle_down(app, pilot)
        text = await insert(app, pilot, ZHANG_XIAOYU)
        assert "您没有待缴费用" in text and "¥108.40" not in text
        assert app.screen.query_one("#to-choose").disabled
        await pilot.press("escape")
        await settle_down(app, pilot)
    async with running(kiosk_cfg) as (app, pilot):                 # the next kiosk process knows it too
        text = await insert(app, pilot, ZHANG_XIAOYU)
        assert "您没有待缴费用" in text
        await pilot.press("f9")
        await settle_down(app, pilot)
        text = await insert(app, pilot, ZHANG_WEI)
        assert "¥108.40" in text and "您没有待缴费用" not in text
    [row] = settlements(kiosk_cfg)
    assert row["psn_no"] == "P10000003" and row["medfee_sumamt"] == 10840


# -- a bad bill file is a clear screen, never a crash (issue 11, item 12) ----------------------------
BAD_BILLS = {
    "lone surrogate": ('{"med_type":"11","items":[{"code":"X1","name":"\\udc80药","category":"drug",'
                       '"class":"A","qty":1,"price":100}]}').encode(),
    "not UTF-8": b'{"med_type":"11","items":[{"code":"X1","name":"\xff\xfe","class":"A","qty":1,"price":100}]}',
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "5,000-digit price": b'{"med_type":"11","items":[{"code":"X1","name":"x","class":"A","qty":1,"price":'
                         + b"9" * 5000 + b"}]}",
    "not JSON": b'{"med_type": "11", "items": [',
    "escape codes in a name": b'{"med_type":"11","items":[{"code":"X1","name":"\\u001b[2J\\u001b[31m","class":"A",'
                              b'"qty":1,"price":100}]}',
    "no items": b'{"med_type":"11","items":[]}',
}


@pytest.mark.parametrize("kind", list(BAD_BILLS))
async def test_a_bad_bill_file_is_a_clear_screen_and_charges_nothing(config_file, monkeypatch, kind):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    cfg = make_cfg(config_file, demo_bill=False)
    bills = cfg.resolve("var/bills")
    bills.mkdir(parents=True)
    (bills / "A10000003.json").write_bytes(BAD_BILLS[kind])
    async with running(cfg) as (app, pilot):
        text = await insert(app, pilot, ZHANG_XIAOYU)
        assert app.screen.view == "message", text
        assert "账单有误，请到人工窗口" in text
        body = str(app.screen.query_one("#message-body").render())
        assert body.strip(), "the reason is missing"
        for raw in ("Traceback", "internal", "RecursionError", "UnicodeEncodeError", "ValueError", "\udc80", "\x1b"):
            assert raw not in text, (raw, text)
        await pilot.press("enter")
        await settle_down(app, pilot)
        assert app.screen.view == "idle"
        text = await insert(app, pilot, ZHANG_WEI)                 # the kiosk goes on for the next patient
        assert "您好，张伟" in text and "您没有待缴费用" in text
    assert settlements(cfg) == []


def test_a_bill_path_that_cannot_be_read_is_a_bad_bill(tmp_path):
    from terminal.errors import BadInput
    from terminal.ui.kiosk.backend import read_bill
    folder = tmp_path / "A10000003.json"
    folder.mkdir()
    with pytest.raises(BadInput) as caught:
        read_bill(folder)
    assert caught.value.code == "bad_bill" and "无法读取" in caught.value.message_zh
    assert str(tmp_path) not in caught.value.message_zh       # no path of the machine on the patient's screen


async def test_names_that_look_like_markup_are_shown_as_written(config_file, monkeypatch):
    """A bill item called "[/]维生素[b]" is text, not markup: shown as written (it crashed the screen)."""
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    cfg = make_cfg(config_file, demo_bill=False)
    write_bill(cfg, "A10000003", [{"code": "X1", "name": "[/]维生素[b]", "category": "drug", "class": "A",
                                   "qty": 1, "price": 1000}])
    async with running(cfg) as (app, pilot):
        text = await insert(app, pilot, ZHANG_XIAOYU)
        assert app.screen.view == "overview" and "[/]维生素[b] ×1" in text
        assert "缴费成功" in await pay_with(app, pilot, "1")
