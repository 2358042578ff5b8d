"""Findings of the usability test at 120×40, each pinned by a Pilot test: what the cashier sees on screen."""

from __future__ import annotations

import pytest

from ui_pilot import (AMOXICILLIN_LINE, centre_at, enter_bill, insert, press, quota_centre, rendered, screen_text,
                      settle_down, type_text, window)


@pytest.fixture
def cfg(cfg, monkeypatch):
    """The embedded centre on the window's clock, under the quota model (the cast as these findings were pinned)."""
    centre_at(monkeypatch)
    return quota_centre(cfg)


async def _settle_once(app, pilot, profile: str = "zhang_wei") -> None:
    await insert(app, pilot, profile)
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [AMOXICILLIN_LINE])
    await press(app, pilot, "f5")
    await type_text(app, pilot, "123456")
    await press(app, pilot, "enter")
    assert type(app.screen).__name__ == "ResultScreen"


async def test_amounts_stay_whole_after_the_first_settlement_and_the_bindings_screen(cfg):
    """Each screen's CSS is scoped to it: the result screen's narrow #left and the bindings' #pin
    must not shrink the bill and payment screens that come after them."""
    async with window(cfg) as (app, pilot):
        await _settle_once(app, pilot)
        await press(app, pilot, "f10")
        await insert(app, pilot, "li_na")
        await press(app, pilot, "f3", "escape")          # the bindings screen's CSS is loaded too
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        items = app.screen.query_one("#items")
        drawn = rendered(items)
        assert "125.50" in drawn and "¥251.00" in drawn, drawn            # 单价 and 金额 columns whole
        assert items.size.width >= sum(c.get_render_width(items) for c in items.columns.values())
        assert app.screen.query_one("#in-price").size.width >= 9
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "PaymentScreen"
        table = app.screen.query_one("#accounts")
        drawn = rendered(table)
        assert drawn.count("¥120.00") == 2, drawn                         # her account: available, pays now
        assert "¥131.00" in drawn and "本次支付" in drawn, drawn
        assert table.size.width >= sum(c.get_render_width(table) for c in table.columns.values())
        assert app.screen.query_one("#pin").outer_size.width == 30


X002 = ("X002", "头孢克肟片", "B", "1", "38.00")      # class B in the centre's catalogue
X2 = ("X2", "维生素C片", "A", "1", "5.00")            # class A in the centre's catalogue


def _item_names(app) -> list[str]:
    table = app.screen.query_one("#items")
    return [str(table.get_row_at(r)[2]).strip() for r in range(table.row_count)] if table.display else []


async def test_esc_keeps_the_bill_while_the_same_card_stays(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE, X002])
        await type_text(app, pilot, "V1")                  # a line half typed
        await press(app, pilot, "escape")
        assert type(app.screen).__name__ == "PatientScreen"
        await press(app, pilot, "f2")
        assert _item_names(app) == ["阿莫西林胶囊", "头孢克肟片"]
        assert app.screen.query_one("#in-code").value == "V1"
        assert "¥289.00" in screen_text(app)               # the split of the kept bill
        # another card: a new bill
        await insert(app, pilot, "li_na")
        await press(app, pilot, "f2")
        assert _item_names(app) == []


async def test_f3_removes_the_highlighted_row_even_from_the_entry_row(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE, X002, X2])
        assert app.screen.focused.id == "in-code"
        assert app.screen.query_one("#items").cursor_row == 2   # the newest line is the chosen one
        await press(app, pilot, "up")                           # ↑ from the entry row: the middle one
        await press(app, pilot, "f3")
        assert _item_names(app) == ["阿莫西林胶囊", "维生素C片"]
        assert "已删除第 2 行 头孢克肟片" in screen_text(app)
        await press(app, pilot, "up", "up", "f3")
        assert _item_names(app) == ["维生素C片"]


async def test_a_blocked_pin_is_said_on_the_patient_screen_and_the_payment_starts_in_cash(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "wang_fang")
        assert "密码已锁定" in screen_text(app) and "只能现金支付" in screen_text(app)
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        assert app.screen.acct_used is False
        assert "使用个人账户: 否" in screen_text(app) and "无需密码" in screen_text(app)
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "ResultScreen"


async def test_an_expired_card_is_said_on_the_patient_screen(cfg):
    async with window(cfg, lang="en") as (app, pilot):
        await insert(app, pilot, "liu_yang")
        text = screen_text(app)
        assert "This card has expired (valid until 2024-05-31): no insurance settlement with this card" in text
        assert "Full self-pay in cash is possible" in text     # and the way on


async def test_a_wrong_pin_message_clears_when_the_accounts_are_switched_off(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        assert "密码已锁定" not in screen_text(app)
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        await type_text(app, pilot, "000000")
        await press(app, pilot, "enter")
        assert "剩余2次" in screen_text(app)
        await press(app, pilot, "f7")
        assert "剩余2次" not in screen_text(app) and "无需密码" in screen_text(app)


async def test_space_works_from_the_pin_box_where_the_focus_starts(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_xiaoyu")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        assert app.screen.focused.id == "pin"
        table = app.screen.query_one("#accounts")
        assert table.cursor_row == 0 and str(table.get_row_at(0)[2]).strip().startswith("张伟")
        await press(app, pilot, "space")                 # skip her father's account, focus still in the PIN box
        assert app.screen.skipped == {"P10000001"}
        assert str(table.get_row_at(0)[1]).strip() == "[ ]" and app.screen.query_one("#pin").value == ""
        assert "无需密码" in screen_text(app)
        await press(app, pilot, "space")
        assert app.screen.skipped == set() and app.screen.focused.id == "pin"   # the PIN is wanted again
        await press(app, pilot, "down", "space")         # ↓ from the PIN box: the cash row (nothing to toggle)
        assert table.cursor_row == 1 and app.screen.skipped == set()


async def test_bindings_of_a_person_who_cannot_own(cfg):
    async with window(cfg, lang="en") as (app, pilot):
        await insert(app, pilot, "zhang_xiaoyu")
        await press(app, pilot, "f3")
        text = screen_text(app)
        assert "Bound by 张伟 (this person is 张伟's daughter)" in text
        assert "No bindings yet" not in text
        assert "Only an employee-insurance owner with a personal account can add bindings" in text
        assert all(app.screen.query_one(ident).disabled for ident in ("#user", "#relation", "#scope", "#quota", "#pin"))
        title = app.screen.query_one("#bind-title")
        assert "410105********6927" in rendered(title)          # the title is whole
        await press(app, pilot, "f5")
        assert "can add bindings" in str(app.screen.query_one("#error").render())


async def test_the_reversal_says_where_each_amount_goes_back_and_a_reversal_is_not_offered(cfg):
    async with window(cfg) as (app, pilot):
        await _settle_once(app, pilot, "zhang_xiaoyu")     # fund ¥125.50, her father's account ¥125.50
        await press(app, pilot, "f10", "f4", "f7")
        assert type(app.screen).__name__ == "ConfirmModal"
        question = str(app.screen.query_one("#question").render())
        assert "基金 ¥125.50 退回医保基金" in question
        assert "¥125.50 退回 张伟 的个人账户" in question and "现金 ¥0.00 退还患者" in question
        await press(app, pilot, "y")
        table = app.screen.query_one("#setl")
        states = [r.status for r in app.screen.rows]
        assert sorted(states) == ["reversal", "reversed"]
        table.move_cursor(row=states.index("reversal"))
        await press(app, pilot, "f7")                      # the reversal row itself: said at once, no question
        assert type(app.screen).__name__ == "TodayScreen"
        assert "本身是冲正记录,不能再冲正" in screen_text(app)
        table.move_cursor(row=states.index("reversed"))
        await press(app, pilot, "f7")
        assert type(app.screen).__name__ == "TodayScreen" and "已冲正" in screen_text(app)


async def test_pulling_the_card_leaves_screens_not_about_the_patient_open(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        for key, name in (("f4", "TodayScreen"), ("f6", "DayEndScreen"), ("f1", "HelpScreen")):
            await press(app, pilot, key)
            assert type(app.screen).__name__ == name
            app.tray_remove()
            await settle_down(app, pilot)
            assert type(app.screen).__name__ == name        # still open
            await press(app, pilot, "escape")
            await settle_down(app, pilot)
            assert type(app.screen).__name__ == "WaitingScreen"   # the patient left meanwhile
            assert "卡已拔出" in screen_text(app)
            await insert(app, pilot, "zhang_wei")
        app.tray_remove()                                  # on the patient's own screen: back to waiting at once
        await settle_down(app, pilot)
        assert type(app.screen).__name__ == "WaitingScreen"


async def test_the_waiting_screen_with_the_card_still_in_and_a_digit_pressed(cfg):
    async with window(cfg) as (app, pilot):
        await _settle_once(app, pilot)
        await press(app, pilot, "f10")                     # the card is still in the reader
        text = screen_text(app)
        assert "卡仍在读卡器中" in text and "请插入社会保障卡" not in text
        await press(app, pilot, "2")
        assert app.tray_card == "zhang_wei" and "请先拔卡(F9)" in screen_text(app)
        await press(app, pilot, "f9")
        assert "请插入社会保障卡" in screen_text(app) and "卡仍在读卡器中" not in screen_text(app)
        await press(app, pilot, "2")
        assert type(app.screen).__name__ == "PatientScreen" and app.tray_card == "li_na"


async def test_small_wording(cfg):
    async with window(cfg, lang="en") as (app, pilot):
        await insert(app, pilot, "zhang_xiaoyu")
        text = screen_text(app)
        assert "patient is the owner's daughter" in text and "Female" in text
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [("X002", "头孢克肟片超长名称的一种复方制剂缓释片", "B", "1", "38.00")])
        drawn = rendered(app.screen.query_one("#items"))
        assert "头孢克肟片超长名称的一种…" in drawn and "¥38.00" in drawn     # the name gives way, the money stays


class _NamedReaderNotThere:
    """Stands for `pcsc:NAME` when pcscd lists other readers (the shape PcscReader has: wanted, list_readers)."""

    name = wanted = "NOPE"
    has_keypad = False

    def list_readers(self) -> list[str]:
        return ["Virtual PCD 00 00"]

    def card_present(self) -> bool:
        return False

    def add_listener(self, callback) -> None:
        pass

    def close(self) -> None:
        pass


async def test_a_named_reader_that_is_not_there_is_shown_as_a_fault(cfg):
    from ui_pilot import SIZE, demo_app
    app = demo_app(cfg, demo=False, reader_spec="pcsc:NOPE")
    app._open_reader = lambda: setattr(app, "reader", _NamedReaderNotThere())
    async with app.run_test(size=SIZE) as pilot:
        await settle_down(app, pilot)
        text = screen_text(app)
        assert "就绪" not in text and "故障" in text and "NOPE" in text, text
