"""The cashier's journeys at the window, driven with Pilot on the demo database, asserting the balances
in the database and what the screen says (in Chinese, the default)."""

from __future__ import annotations

import re

import pytest

from ui_pilot import (balance, centre_at, centre_count, count, enter_bill, insert, press, quota_centre, screen_text,
                      settle_down, type_text, window)

AMOXICILLIN = ("X001", "阿莫西林胶囊", "A", "2", "125.50")   # 2 × ¥125.50 = ¥251.00, class A


@pytest.fixture
def cfg(cfg, monkeypatch):
    """The embedded centre on the window's clock, under the quota model (the cast as these journeys were written)."""
    centre_at(monkeypatch)
    return quota_centre(cfg)


async def to_payment(app, pilot, profile: str, items=(AMOXICILLIN,)) -> None:
    """Card in → patient → F2 bill → items → F5 payment."""
    await insert(app, pilot, profile)
    assert type(app.screen).__name__ == "PatientScreen"
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, list(items))
    await press(app, pilot, "f5")
    assert type(app.screen).__name__ == "PaymentScreen"


async def pay_with_pin(app, pilot, pin: str) -> None:
    await type_text(app, pilot, pin)
    await press(app, pilot, "enter")


async def test_settle_with_own_account(cfg):
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        # 310 outpatient, deductible not yet used this year: all ¥251.00 is his, from his own account
        assert "¥251.00" in screen_text(app)
        await pay_with_pin(app, pilot, "123456")
        assert type(app.screen).__name__ == "ResultScreen"
        text = screen_text(app)
        assert "结算完成" in text and "¥251.00" in text
        assert "410102********6716" in text and "410102197805126716" not in text   # masked on the slip too
        await press(app, pilot, "f7")                    # print the slip to a file
        printed = list((cfg.slips_dir / "print").glob("*.txt"))
        assert len(printed) == 1 and "医疗费总额" in printed[0].read_text(encoding="utf-8")
        assert "已打印到" in screen_text(app)
        app.tray_remove()                                # the patient takes the card: the normal end
        await settle_down(app, pilot)
        assert type(app.screen).__name__ == "WaitingScreen"
        assert "未记账" not in screen_text(app) and "¥251.00" in screen_text(app)   # today's totals
    assert balance(cfg, "P10000001") == 356000 - 25100
    assert count(cfg, "window_settlements") == 1
    assert list((cfg.slips_dir).glob("*.txt")), "the slip is saved"


async def test_settle_with_relatives_account(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_xiaoyu")
        text = screen_text(app)
        assert "张伟" in text and "患者是其女" in text and "¥3,560.00" in text   # her father's account may pay
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN])
        await press(app, pilot, "f5")
        # 390 resident outpatient: the fund pays 50 %, ¥125.50; her father's account the other ¥125.50
        text = screen_text(app)
        assert "¥125.50" in text
        await pay_with_pin(app, pilot, "123456")
        assert type(app.screen).__name__ == "ResultScreen"
    assert balance(cfg, "P10000001") == 356000 - 12550
    assert count(cfg, "window_settlements", "acct_mulaid_pay = 12550 AND own_acct_pay = 0") == 1


async def test_not_enough_in_the_account_pays_cash(cfg):
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "li_na")
        # ¥251.00 out of pocket; her account holds ¥120.00; ¥131.00 in cash
        text = screen_text(app)
        assert "应收现金" in text and "¥131.00" in text
        await pay_with_pin(app, pilot, "123456")
        assert type(app.screen).__name__ == "ResultScreen"
        assert "¥131.00" in screen_text(app)
    assert balance(cfg, "P10000002") == 0
    assert count(cfg, "window_settlements", "psn_cash_pay = 13100 AND acct_pay = 12000") == 1


async def test_wrong_pin_then_right(cfg):
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        await pay_with_pin(app, pilot, "000000")
        assert type(app.screen).__name__ == "PaymentScreen"
        assert "密码错误" in screen_text(app) and "剩余2次" in screen_text(app)
        assert balance(cfg, "P10000001") == 356000 and count(cfg, "window_settlements") == 0
        await pay_with_pin(app, pilot, "123456")
        assert type(app.screen).__name__ == "ResultScreen"
    assert balance(cfg, "P10000001") == 356000 - 25100
    assert count(cfg, "window_settlements") == 1


async def test_blocked_card_is_refused_in_place(cfg):
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "wang_fang")
        # the card said at reading that its PIN is blocked: the accounts start switched off, cash only
        assert "密码已锁定,只能现金支付" in screen_text(app) and "无需密码" in screen_text(app)
        await press(app, pilot, "f7")                    # the cashier tries the accounts anyway
        app.screen.query_one("#pin").focus()
        await pay_with_pin(app, pilot, "123456")
        assert type(app.screen).__name__ == "PaymentScreen"
        assert "Traceback" not in screen_text(app)
        # refused, and the split turned to cash by itself, said so: the patient pays the out-of-pocket part
        assert "密码已锁定:个人账户不能支付,已改为现金支付" in screen_text(app)
        assert app.screen.acct_used is False and "无需密码" in screen_text(app)
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "ResultScreen"
    assert balance(cfg, "P30000006") == 80000
    assert count(cfg, "window_settlements") == 1
    assert count(cfg, "window_settlements", "acct_pay = 0 AND acct_mulaid_pay = 0") == 1


async def test_card_removed_on_the_payment_screen_writes_nothing(cfg):
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        await type_text(app, pilot, "123456")
        app.tray_remove()
        await settle_down(app, pilot)
        assert type(app.screen).__name__ == "WaitingScreen"
        assert "支付过程中卡被拔出,本次结算未记账" in screen_text(app)
    assert balance(cfg, "P10000001") == 356000
    assert count(cfg, "window_settlements") == 0


async def test_card_pulled_while_the_settlement_runs_writes_nothing(cfg):
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        await type_text(app, pilot, "123456")
        app.reader.faults.remove_after(2)        # pulled in the middle of the card's re-read
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "WaitingScreen"
    assert balance(cfg, "P10000001") == 356000
    assert count(cfg, "window_settlements") == 0


async def test_bind_and_a_refusal_with_the_rules_reason(cfg):
    from textual.widgets import Select
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f3")
        assert type(app.screen).__name__ == "BindingsScreen"
        assert "张小雨" in screen_text(app) and "张国强" in screen_text(app)
        # an in-law is not a close relative: refused with the reason, nothing written
        await type_text(app, pilot, "A10000002")
        app.screen.query_one("#relation", Select).value = "38"
        app.screen.query_one("#pin").focus()
        await type_text(app, pilot, "123456")
        await press(app, pilot, "f5")
        refused = screen_text(app)
        assert "近亲属" in refused or "儿媳" in refused
        assert centre_count(cfg, "bindings", "user_psn_no = 'P10000002'") == 0
        # his wife (12): bound
        app.screen.query_one("#relation", Select).value = "12"
        app.screen.query_one("#pin").focus()
        await type_text(app, pilot, "123456")
        await press(app, pilot, "f5")
        assert "已绑定" in screen_text(app)
        assert "李娜" in screen_text(app)
        # the form is empty for the next relative: not her card number, not 妻 picked for whoever comes next
        assert app.screen.query_one("#user").value == "" and app.screen.query_one("#relation", Select).is_blank()
    assert centre_count(cfg, "bindings", "owner_psn_no = 'P10000001' AND user_psn_no = 'P10000002' AND status = 'active'") == 1


async def test_unbind_after_confirmation(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f3")
        app.screen.query_one("#pin").focus()
        await type_text(app, pilot, "123456")
        app.screen.query_one("#list").focus()
        await press(app, pilot, "f3")                    # first row: 张小雨
        assert type(app.screen).__name__ == "ConfirmModal"
        assert "张小雨" in str(app.screen.query_one("#question").render())
        await press(app, pilot, "y")
        assert "已解绑 张小雨" in screen_text(app)
        table = app.screen.query_one("#list")
        names = [str(table.get_row_at(r)[0]).strip() for r in range(table.row_count)]
        assert "张小雨" not in names and "张国强" in names
    assert centre_count(cfg, "bindings", "user_psn_no = 'P10000003' AND status = 'ended'") == 1


async def test_reverse_todays_settlement(cfg):
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        await pay_with_pin(app, pilot, "123456")
        assert balance(cfg, "P10000001") == 356000 - 25100
        await press(app, pilot, "f4")
        assert type(app.screen).__name__ == "TodayScreen"
        assert "张伟" in screen_text(app) and "¥251.00" in screen_text(app)
        await press(app, pilot, "f7")
        assert type(app.screen).__name__ == "ConfirmModal"
        await press(app, pilot, "n")                     # said no: nothing happens
        assert balance(cfg, "P10000001") == 356000 - 25100
        await press(app, pilot, "f7", "y")
        text = screen_text(app)
        assert "已冲正" in text and "冲正记录" in text
    assert balance(cfg, "P10000001") == 356000
    assert count(cfg, "window_settlements", "status = 'reversal'") == 1


async def test_day_end_reconciliation(cfg):
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "li_na")
        await pay_with_pin(app, pilot, "123456")
        await press(app, pilot, "f10")
        assert type(app.screen).__name__ == "WaitingScreen"
        assert "¥131.00" in screen_text(app)              # today's cash on the waiting screen
        await press(app, pilot, "f6")
        text = screen_text(app)
        assert "对账平衡" in text and "结算 1 笔,冲正 0 笔,共 1 条记录 · 净结算笔数: 1" in text
        assert "¥251.00" in text and "¥120.00" in text and "¥131.00" in text


@pytest.mark.parametrize("lang,expected", [("zh", "请插入社会保障卡"), ("en", "Please insert the social security card")])
async def test_language(cfg, lang, expected):
    async with window(cfg, lang=lang) as (app, pilot):
        assert expected in screen_text(app)
        await press(app, pilot, "f1")
        assert type(app.screen).__name__ == "HelpScreen"
        assert "F7" in screen_text(app) and "F10" in screen_text(app)


async def test_relatives_in_the_order_the_cashier_chooses(cfg):
    from textual.widgets import Select
    async with window(cfg) as (app, pilot):
        # 李娜 binds her daughter too (at the window, with her card and PIN)
        await insert(app, pilot, "li_na")
        await press(app, pilot, "f3")
        await type_text(app, pilot, "A10000003")
        app.screen.query_one("#relation", Select).value = "30"
        app.screen.query_one("#pin").focus()
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert "已绑定 张小雨" in screen_text(app)
        # 张小雨 pays: her father's account first by default; the cashier moves her mother's up
        await insert(app, pilot, "zhang_xiaoyu")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN])
        await press(app, pilot, "f5")
        table = app.screen.query_one("#accounts")
        assert [str(table.get_row_at(r)[2]).split()[0] for r in range(table.row_count)] == ["张伟", "李娜", "现金"]
        table.focus()
        await press(app, pilot, "down", "ctrl+up")
        assert [str(table.get_row_at(r)[2]).split()[0] for r in range(table.row_count)] == ["李娜", "张伟", "现金"]
        app.screen.query_one("#pin").focus()
        await pay_with_pin(app, pilot, "123456")
        assert type(app.screen).__name__ == "ResultScreen"
    # ¥125.50 out of pocket: all of her mother's ¥120.00 first, then ¥5.50 from her father
    assert balance(cfg, "P10000002") == 0
    assert balance(cfg, "P10000001") == 356000 - 550


async def test_a_slip_that_cannot_be_saved_still_shows_the_settlement_and_reversal_done(cfg, tmp_path):
    """slips_dir is a file: the payment is done (result screen, a warning beside it), charged once; the
    reversal likewise; reversing it again is refused as such."""
    from dataclasses import replace
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    cfg = cfg.with_overrides(terminal=replace(cfg.terminal, slips_dir=str(blocker)))
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        await pay_with_pin(app, pilot, "123456")
        assert type(app.screen).__name__ == "ResultScreen"
        text = screen_text(app)
        assert "结算完成" in text and "¥251.00" in text and "结算单未能保存" in text and "cashier slip" in text
        assert balance(cfg, "P10000001") == 356000 - 25100
        await press(app, pilot, "f4")
        await press(app, pilot, "f7", "y")
        text = screen_text(app)
        assert "已冲正" in text and "结算单未能保存" in text
        assert balance(cfg, "P10000001") == 356000
        original = [r.status for r in app.screen.rows].index("reversed")
        app.screen.query_one("#setl").move_cursor(row=original)
        await press(app, pilot, "f7")                    # the original, now reversed
        assert "已冲正,不能再次冲正" in screen_text(app)
    assert count(cfg, "window_settlements") == 2 and count(cfg, "window_settlements", "status = 'reversal'") == 1


async def test_the_bindings_screen_shows_each_users_masked_id_number(cfg):
    """The centre's binding list (X104) carries no ID number: the window shows its cached one, masked."""
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f3")
        table = app.screen.query_one("#list")
        rows = [[str(c).strip() for c in table.get_row_at(r)[:2]] for r in range(table.row_count)]
        assert rows == [["张小雨", "410105********6927"], ["张国强", "411602********7017"],
                        ["张敏", "410102********7028"]], rows
        assert not re.search(r"\d{17}[\dX]", screen_text(app))       # no ID number whole
