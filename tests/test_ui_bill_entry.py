"""Typing a bill line at the window: F5 with a line typed but not added with Enter adds it as Enter would (or stops
and says what is wrong), so the pre-settlement never shows an amount that will not be charged; and the number
boxes keep what the cashier typed, refusing what is not a plain decimal number instead of dropping characters."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input
from ui_pilot import (
    centre_at,
    count,
    enter_bill,
    insert,
    key_event,
    keys_taken,
    press,
    quota_centre,
    screen_text,
    settle_down,
    type_text,
    window,
)

T001 = ("T001", "诊查费", "A", "1", "100")
X002 = ("X002", "头孢", "B", "2", "50")


@pytest.fixture
def cfg(cfg, monkeypatch):
    """The embedded centre on the window's clock, under the quota model (the cast as these screens were written)."""
    centre_at(monkeypatch)
    return quota_centre(cfg)


def items(app) -> list[tuple[str, str, int]]:
    return [(i["code"], str(i["qty"]), i["price"]) for i in app.screen.items]


def box(app, ident: str) -> Input:
    return app.screen.query_one(f"#{ident}", Input)


async def type_as_terminal(app, pilot, *keys: str) -> None:
    """Keys as the terminal delivers them: a character with its text even where `key_event` has none ("。" from an
    IME, "¥"), then wait until the window has settled."""
    for key in keys:
        event = key_event(key)
        app.post_message(events.Key(event.key, key) if len(key) == 1 else event)
    await keys_taken(app)
    await settle_down(app, pilot)


async def fill_line(app, pilot, line: tuple[str, ...]) -> None:
    """Type a line into the entry boxes (Tab between them) without pressing Enter."""
    keys: list[str] = []
    for i, text in enumerate(line):
        keys += (["tab"] if i else []) + list(text)
    await type_as_terminal(app, pilot, *keys)


async def to_bill(app, pilot) -> None:
    await insert(app, pilot, "zhang_guoqiang")
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [T001])
    assert items(app) == [("T001", "1", 10000)]


async def test_f5_adds_a_complete_line_not_yet_added(cfg):
    async with window(cfg) as (app, pilot):
        await to_bill(app, pilot)
        await fill_line(app, pilot, X002)
        assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "¥200.00"   # the estimate counts it
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "PaymentScreen"
        assert [(i.code, i.amount) for i in app.screen.bill.items] == [("T001", 10000), ("X002", 10000)]
        assert "¥200.00" in screen_text(app) and "¥100.00" not in screen_text(app)
        await press(app, pilot, "escape")                    # back: the line is in the table, the boxes empty
        assert type(app.screen).__name__ == "BillScreen"
        assert items(app) == [("T001", "1", 10000), ("X002", "2", 5000)]
        assert all(box(app, i).value == "" for i in ENTRY_BOXES)
        assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "¥200.00"
        await press(app, pilot, "f5")
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen"
    assert count(cfg, "window_settlements", "medfee_sumamt = ?", [20000]) == 1


UNADDABLE = [
    (("X002", "头孢", "B", "2", ""), ("请至少填写项目编码和单价",)),                # partly filled: no price
    (("", "头孢", "", "", ""), ("请至少填写项目编码和单价",)),                      # only a name
    (("X002", "头孢", "B", "2", "2000000"), ("超过上限", "未收费")),                 # the domain's refusal
    (("X002", "头孢", "B", "1。5", "50"), ("数量必须是数字", "1。5")),             # not a plain number
]


async def test_f5_with_a_line_that_cannot_be_added_stops_and_says_why(cfg):
    """Each of UNADDABLE in turn, in one window: F5 stays, says why, adds nothing, keeps the line to correct."""
    async with window(cfg) as (app, pilot):
        await to_bill(app, pilot)
        for line, words in UNADDABLE:
            await fill_line(app, pilot, line)
            await press(app, pilot, "f5")
            assert type(app.screen).__name__ == "BillScreen", line
            text = screen_text(app)
            assert all(word in text for word in words), text
            assert items(app) == [("T001", "1", 10000)], line                          # nothing added
            assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "¥100.00", line   # what is billed
            assert [box(app, i).value for i in ("in-code", "in-name", "in-qty", "in-price")] == \
                [line[0], line[1], line[3], line[4]], line                              # the line stays to correct
            await clear_line(app, pilot)
    assert count(cfg, "window_settlements") == 0


async def test_f5_with_the_line_empty_pays_the_items(cfg):
    async with window(cfg) as (app, pilot):
        await to_bill(app, pilot)
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "PaymentScreen"
        assert [i.code for i in app.screen.bill.items] == ["T001"]


ENTRY_BOXES = ("in-code", "in-name", "in-class", "in-qty", "in-price")
QTY_TYPED = ["1。5", "1,5", "1 5", "1e3", "-1", "1_5", "１.５", "1.5.", "."]
PRICE_TYPED = ["12。50", "12,50", "12 50", "1e3", "-5", "1_0", "１２", "¥12", "12.5.0"]


async def clear_line(app, pilot) -> None:
    """The line being typed emptied, as the cashier deletes it, before the next try."""
    for ident in ENTRY_BOXES:
        box(app, ident).value = ""
    box(app, "in-code").focus()
    await settle_down(app, pilot)
    assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "¥100.00"


async def test_a_quantity_that_is_not_a_plain_number_is_refused_as_typed(cfg):
    """Each of QTY_TYPED in turn, in one window: in 改数量 and in the line being added."""
    async with window(cfg) as (app, pilot):
        await to_bill(app, pilot)
        for typed in QTY_TYPED:
            await press(app, pilot, "f2")                                           # change the quantity in place
            await type_as_terminal(app, pilot, *typed)
            assert box(app, "qty-input").value == typed, typed                      # kept as typed, nothing dropped
            await press(app, pilot, "enter")
            assert "数量必须是数字" in screen_text(app) and repr(typed) in screen_text(app), typed
            assert items(app) == [("T001", "1", 10000)] and app.screen.editing == 0  # unchanged, the box still open
            await press(app, pilot, "escape")
            await fill_line(app, pilot, ("X002", "头孢", "B", typed, "50"))          # and in the line being added
            assert box(app, "in-qty").value == typed, typed
            assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "¥100.00", typed   # not estimated
            await press(app, pilot, "enter")
            assert "数量必须是数字" in screen_text(app), typed
            assert items(app) == [("T001", "1", 10000)], typed
            await clear_line(app, pilot)


async def test_a_price_that_is_not_a_plain_number_is_refused_as_typed(cfg):
    """Each of PRICE_TYPED in turn, in one window: kept as typed, not estimated, refused at Enter and at F5."""
    async with window(cfg) as (app, pilot):
        await to_bill(app, pilot)
        for typed in PRICE_TYPED:
            await fill_line(app, pilot, ("X002", "头孢", "B", "1", typed))
            assert box(app, "in-price").value == typed, typed
            assert str(app.screen.query_one("#v-medfee_sumamt").render()) == "¥100.00", typed   # not estimated
            await press(app, pilot, "enter")
            assert "单价必须是金额" in screen_text(app) and repr(typed) in screen_text(app), typed
            assert items(app) == [("T001", "1", 10000)], typed
            await press(app, pilot, "f5")                                           # nor charged
            assert type(app.screen).__name__ == "BillScreen" and items(app) == [("T001", "1", 10000)], typed
            await clear_line(app, pilot)


async def test_plain_numbers_still_go_in_and_the_messages_are_in_english_too(cfg):
    async with window(cfg, lang="en") as (app, pilot):
        await to_bill(app, pilot)
        await enter_bill(app, pilot, [("X002", "头孢", "B", "1.5", "12.50")])
        assert items(app) == [("T001", "1", 10000), ("X002", "1.5", 1250)]
        await press(app, pilot, "f2")
        await type_text(app, pilot, "1,5")
        await press(app, pilot, "enter")
        assert "item 2 (X002): qty must be a number (got '1,5')" in screen_text(app)
        await press(app, pilot, "escape")
        await enter_bill(app, pilot, [("X003", "x", "A", "1", "12,50")])
        assert "item 3 (X003): the price must be an amount in yuan" in screen_text(app)
        assert len(app.screen.items) == 2
