"""The bill at the window (issue 11, item 16): a quantity changed in place; a bill not charged survives the card
being pulled (kept, said so, restored when that card comes back, discarded only when the cashier says so);
Ctrl+Q with a bill not charged asks first."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from ui_pilot import (AMOXICILLIN_LINE, centre_at, count, enter_bill, insert, press, quota_centre, rendered, screen_text,
                      settle_down, type_text, window)

X002 = ("X002", "头孢克肟片", "B", "1", "38.00")       # class B in the centre's catalogue (头孢克肟分散片)


@pytest.fixture
def cfg(cfg, monkeypatch):
    """The embedded centre on the window's clock, under the quota model (the cast as these screens were written)."""
    centre_at(monkeypatch)
    return quota_centre(cfg)


def items(app) -> list[tuple[str, str]]:
    return [(i["code"], str(i["qty"])) for i in app.screen.items]


async def to_bill(app, pilot, profile: str = "zhang_wei", lines=(AMOXICILLIN_LINE, X002)) -> None:
    await insert(app, pilot, profile)
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, list(lines))


async def test_quantity_changed_in_place(cfg):
    async with window(cfg) as (app, pilot):
        await to_bill(app, pilot)
        await press(app, pilot, "up")                        # the first item (the newest is chosen)
        await press(app, pilot, "f2")
        box = app.screen.query_one("#qty-input", Input)
        assert app.screen.focused is box and box.value == "2"
        assert "第 1 行 阿莫西林胶囊 的数量" in screen_text(app)
        await type_text(app, pilot, "5")                     # the old quantity is selected: typing replaces it
        await press(app, pilot, "enter")
        assert items(app) == [("X001", "5"), ("X002", "1")]
        drawn = rendered(app.screen.query_one("#items"))
        assert "¥627.50" in drawn and "¥38.00" in drawn      # 5 × 125.50, in the same row
        assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "¥665.50"
        assert app.screen.focused.id == "in-code"           # typing the next line goes on
        # Esc while changing leaves the quantity as it was; a quantity of 0 is refused in place
        await press(app, pilot, "down")                      # the second item
        await press(app, pilot, "f2")
        await type_text(app, pilot, "7")
        await press(app, pilot, "escape")
        assert type(app.screen).__name__ == "BillScreen" and items(app)[1] == ("X002", "1")
        await press(app, pilot, "f2")
        assert "第 2 行 头孢克肟片 的数量" in screen_text(app)
        await type_text(app, pilot, "0")
        await press(app, pilot, "enter")
        assert "数量必须大于0" in screen_text(app) and items(app)[1] == ("X002", "1")
        await press(app, pilot, "escape")
        app.screen.query_one("#items").focus()              # Enter on a row of the table changes it too
        await press(app, pilot, "enter")
        assert app.screen.editing is not None
        await type_text(app, pilot, "3")
        await press(app, pilot, "enter")
        assert items(app) == [("X001", "5"), ("X002", "3")]
        await press(app, pilot, "f5")
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen"
    assert count(cfg, "window_settlements", "medfee_sumamt = ?", [5 * 12550 + 3 * 3800]) == 1


async def test_pulled_card_keeps_the_bill_until_it_comes_back(cfg):
    async with window(cfg) as (app, pilot):
        await to_bill(app, pilot)
        await type_text(app, pilot, "V1")                    # a line half typed too
        app.tray_remove()
        await settle_down(app, pilot)
        text = screen_text(app)
        assert type(app.screen).__name__ == "WaitingScreen"
        assert "张伟 的账单(2 项)未结算,已保留:插回同一张卡可继续" in text
        assert "已保留的未结算账单: 张伟(2 项)" in text
        await insert(app, pilot, "li_na")                    # another patient meanwhile: nothing asked, kept
        assert type(app.screen).__name__ == "PatientScreen" and "李娜" in screen_text(app)
        await press(app, pilot, "f2")
        assert app.screen.items == []
        app.tray_remove()
        await settle_down(app, pilot)
        await insert(app, pilot, "zhang_wei")                # the card is back: the bill is, and a question
        assert type(app.screen).__name__ == "ConfirmModal"
        assert "张伟 上次未结算的账单(2 项)已恢复" in str(app.screen.query_one("#question").render())
        await press(app, pilot, "n")                         # keep it (the default answer)
        await press(app, pilot, "f2")
        assert items(app) == [("X001", "2"), ("X002", "1")]
        assert app.screen.query_one("#in-code", Input).value == "V1"
        app.tray_remove()                                    # pulled again, and this time discarded
        await settle_down(app, pilot)
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "y")
        assert "已丢弃未结算的账单(2 项)" in screen_text(app) or app.screen.bill == {}
        await press(app, pilot, "f2")
        assert app.screen.items == []
    assert count(cfg, "window_settlements") == 0


async def test_a_charged_bill_is_not_kept(cfg):
    async with window(cfg) as (app, pilot):
        await to_bill(app, pilot)
        await press(app, pilot, "f5")
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen"
        app.tray_remove()                                    # the patient takes the card: the normal end
        await settle_down(app, pilot)
        assert "未结算" not in screen_text(app) and not app.kept_bills


async def test_ctrl_q_with_a_bill_not_charged_asks_first(cfg):
    async with window(cfg) as (app, pilot):
        await to_bill(app, pilot)
        await press(app, pilot, "ctrl+q")
        assert type(app.screen).__name__ == "ConfirmModal"
        assert "还有未结算的账单: 张伟(2 项)" in str(app.screen.query_one("#question").render())
        await press(app, pilot, "n")                         # no: back to the bill, untouched
        assert type(app.screen).__name__ == "BillScreen" and len(app.screen.items) == 2 and app.is_running
        app.tray_remove()                                    # a kept bill counts too
        await settle_down(app, pilot)
        await press(app, pilot, "ctrl+q")
        assert type(app.screen).__name__ == "ConfirmModal"
        await press(app, pilot, "y")
        assert not app.is_running or app._exit_renderables is not None or app.return_code is not None


async def test_ctrl_q_with_nothing_to_lose_quits_at_once(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "ctrl+q")
        assert type(app.screen).__name__ != "ConfirmModal"
        assert app.return_code is not None
