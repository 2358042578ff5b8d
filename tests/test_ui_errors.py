"""Bad input and failing cards at the window: the catalogue's message in place, nothing written, no traceback;
and kiosk mode exposes none of the cashier's keys or screens."""

from __future__ import annotations

import pytest

from ui_pilot import AMOXICILLIN_LINE, centre_at, count, enter_bill, insert, press, quota_centre, screen_text, \
    type_text, window


@pytest.fixture
def cfg(cfg, monkeypatch):
    """The embedded centre on the window's clock, under the quota model (the cast as these screens were written)."""
    centre_at(monkeypatch)
    return quota_centre(cfg)


async def test_a_corrupted_card_answer_is_reported_on_the_waiting_screen(cfg):
    async with window(cfg) as (app, pilot):
        app.reader.faults.corrupt_next(1)
        await insert(app, pilot, "zhang_wei")
        assert type(app.screen).__name__ == "WaitingScreen"
        text = screen_text(app)
        assert "Traceback" not in text
        assert any(word in text for word in ("错误", "卡", "失败")), text
        await press(app, pilot, "f5")                   # read again: now it reads
        assert type(app.screen).__name__ == "PatientScreen"


async def test_an_absurd_price_is_refused_in_place(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [("X001", "阿莫西林胶囊", "A", "1", "2000000")])  # ¥2,000,000 a box
        assert "不合理" in screen_text(app)
        assert app.screen.items == []
        await press(app, pilot, "f5")                   # the refused line is not paid either
        assert type(app.screen).__name__ == "BillScreen"
        assert "不合理" in screen_text(app) and app.screen.items == []
    assert count(cfg, "window_settlements") == 0


async def test_an_item_the_catalogue_lacks_is_named_and_once_removed_the_bill_settles(cfg):
    """The centre refuses a code it has not catalogued (2204) after the window cancelled the batch before it
    (2205): the cashier reads which code, and the bill without it pre-settles and is charged (¥251.00)."""
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE, ("V100", "维生素C", "B", "3", "5.00")])
        assert "V100不在医保目录中" in screen_text(app), screen_text(app)
        # no split stands beside the refusal (not the one for the amoxicillin line alone, asked before V100)
        assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "—", screen_text(app)
        assert app.screen.preview is None
        await press(app, pilot, "f3")                   # the newest line, V100, goes
        assert [i["code"] for i in app.screen.items] == ["X001"]
        assert "没有可撤销的费用明细" not in screen_text(app)
        assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "¥251.00", screen_text(app)
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "PaymentScreen"
        assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "¥251.00", screen_text(app)
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen", screen_text(app)
    assert count(cfg, "window_settlements", "medfee_sumamt = ?", [25100]) == 1


async def test_inactive_insurance_is_refused_before_any_payment(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhao_lan")
        assert "暂停参保" in screen_text(app) and "不能医保结算" in screen_text(app)
        assert "可全自费现金结算" in screen_text(app)              # and the way on is said at once
        await press(app, pilot, "f2")
        await type_text(app, pilot, "X001")
        await press(app, pilot, "tab", "tab", "tab", "tab")
        await type_text(app, pilot, "10")
        assert app.screen.query_one("#split").border_title == "全自费(现金)"   # the split is the self-pay one
        assert "参保状态为暂停" not in screen_text(app)                        # no dead end on the way
    assert count(cfg, "window_settlements") == 0


async def test_kiosk_mode_has_no_cashier_keys_or_screens(cfg):
    from terminal.ui.screens.base import CashierScreen
    async with window(cfg, mode="kiosk") as (app, pilot):
        assert type(app.screen).__name__ == "KioskScreen"
        assert not isinstance(app.screen, CashierScreen)
        assert {b.key for bs in app._bindings.key_to_bindings.values() for b in bs} <= {"ctrl+q", "ctrl+c"}
        await press(app, pilot, "f1", "f4", "f6", "f8", "f9")
        assert not any(isinstance(s, CashierScreen) for s in app.screen_stack)
