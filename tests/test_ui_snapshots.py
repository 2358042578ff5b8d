"""Snapshots of every cashier screen at 80×24 and 120×40 with a fixed clock and fixed ids (plain `def`: the
snapshot plugin runs its own event loop). At 80×24 every amount and state must still be on screen (names give
way); `test_money_is_whole_at_80x24` checks that in the text, the snapshots keep the whole picture."""

from __future__ import annotations

import itertools
import uuid

import pytest

from ui_pilot import (NOW, AMOXICILLIN_LINE, centre_at, demo_app, enter_bill, insert, press, quota_centre, rendered,
                      settle_down, type_text)

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
# the codes are the centre's catalogue's (X002 class B, T1 class C), the names and prices the hospital's
LINES = [AMOXICILLIN_LINE, ("X002", "头孢克肟片(国产仿制药品规格100mg)", "B", "1", "38.00"),
         ("T1", "住院床位费", "C", "3", "1234.50")]


@pytest.fixture
def cfg(cfg, monkeypatch):
    """The embedded centre on the window's clock, under the quota model (the cast as these screens were drawn)."""
    centre_at(monkeypatch)
    return quota_centre(cfg)


@pytest.fixture(autouse=True)
def fixed_ids(monkeypatch):
    """Ids from counters and msgids from the fixed clock, so the result and today's screens draw the same every
    run: the request ids (uuid4), the centre's setl_id and mdtrt_id (their random tail), the window's msgids
    (the second they reserve: the fixed clock's, then the seconds after it)."""
    import secrets

    from terminal.store import window_log
    counter = itertools.count(1)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter)))
    tails = itertools.count(1)
    monkeypatch.setattr(secrets, "token_hex", lambda nbytes=32: f"{next(tails):0{2 * nbytes}x}")
    reserve = window_log.reserve_second
    monkeypatch.setattr(window_log, "reserve_second", lambda db, now: reserve(db, NOW))


async def _bill(app, pilot) -> None:
    await insert(app, pilot, "zhang_xiaoyu")
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, LINES)


async def _settled(app, pilot) -> None:
    await _bill(app, pilot)
    await press(app, pilot, "f5")
    await type_text(app, pilot, "123456")
    await press(app, pilot, "enter")


async def _today(app, pilot) -> None:
    await _settled(app, pilot)
    await press(app, pilot, "f10", "f4")


async def _self_pay(app, pilot) -> None:
    await insert(app, pilot, "zhao_lan")
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [AMOXICILLIN_LINE])
    await press(app, pilot, "f5")


async def _kept(app, pilot) -> None:
    await _bill(app, pilot)
    app.tray_remove()
    await settle_down(app, pilot)


async def _qty(app, pilot) -> None:
    await _bill(app, pilot)
    await press(app, pilot, "up", "f2")


async def _payment(app, pilot) -> None:
    await _bill(app, pilot)
    await press(app, pilot, "f5")


async def _bindings(app, pilot) -> None:
    await insert(app, pilot, "zhang_wei")
    await press(app, pilot, "f3")


def _key(key: str):
    async def step(app, pilot) -> None:
        await press(app, pilot, key)
    return step


async def _nothing(app, pilot) -> None:
    await settle_down(app, pilot)


STEPS = {
    "waiting": _nothing,
    "patient": lambda app, pilot: insert(app, pilot, "zhang_xiaoyu"),
    "patient_suspended": lambda app, pilot: insert(app, pilot, "zhao_lan"),
    "bill": _bill,
    "bill_quantity": _qty,
    "payment": _payment,
    "payment_self_pay": _self_pay,
    "result": _settled,
    "today": _today,
    "waiting_bill_kept": _kept,
    "bindings": _bindings,
    "day_end": _key("f6"),
    "help": _key("f1"),
}


def _run_before(name: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle_down(app, pilot)
        await STEPS[name](app, pilot)
        from textual.widgets import Input
        for field in app.screen.query(Input):
            field.cursor_blink = False   # a blinking cursor would make the picture depend on the moment
        await settle_down(app, pilot)
    return run_before


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(STEPS))
def test_screen(snap_compare, cfg, name, size):
    assert snap_compare(demo_app(cfg), terminal_size=SIZES[size], run_before=_run_before(name))


def test_waiting_in_english(snap_compare, cfg):
    assert snap_compare(demo_app(cfg, lang="en"), terminal_size=SIZES["120x40"], run_before=_run_before("waiting"))


# ---------------------------------------------------------------- what 80×24 must still show, in text

def _screen_lines(app) -> str:
    """The whole screen as drawn, line by line (what the cashier sees, cut where it is cut)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_money_is_whole_at_80x24(cfg, lang):
    """Every amount and state column of every screen stays whole at 80 columns; all nine tray cards show."""
    app = demo_app(cfg, lang=lang)
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        await settle_down(app, pilot)
        tray = _screen_lines(app).splitlines()[-2]
        assert "8 刘洋" in tray and "9 赵兰" in tray, tray                     # the card tray, its last cards too
        await insert(app, pilot, "zhang_xiaoyu")
        assert "¥3,560.00" in rendered(app.screen.query_one("#family"))        # available, per relative
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, LINES)
        drawn = rendered(app.screen.query_one("#items"))
        for money in ("125.50", "¥251.00", "38.00", "¥38.00", "1,234.50", "¥3,703.50"):
            assert money in drawn, drawn                                       # price and amount, whole
        assert " 3 " in drawn and " C " in drawn                               # qty and class
        assert "…" in drawn                                                    # the long name gave way
        await press(app, pilot, "f5")
        drawn = rendered(app.screen.query_one("#accounts"))
        assert drawn.count("¥3,560.00") == 2 and "¥289.90" in drawn, drawn     # available, pays now, cash
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert "¥289.90" in _screen_lines(app)
        await press(app, pilot, "f10", "f4")
        drawn = rendered(app.screen.query_one("#setl"))
        for money in ("¥3,992.50", "¥142.60", "¥3,560.00", "¥289.90"):
            assert money in drawn, drawn                                       # every money column
        assert ("正常" if lang == "zh" else "settled") in drawn               # and the state
