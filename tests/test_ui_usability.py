"""Findings of the usability test at 120×40, each pinned by a Pilot test: what the cashier sees on screen."""

from __future__ import annotations

from ui_pilot import AMOXICILLIN_LINE, enter_bill, insert, press, rendered, screen_text, settle_down, type_text, window


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
