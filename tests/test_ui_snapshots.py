"""Pictures of every cashier screen at 80×24 and 120×40 with a fixed clock and fixed ids. Each journey is one run
of the app; a screen's picture is taken where the journey passes it, as pytest-textual-snapshot takes one (one SVG
per screen and size). At 80×24 every amount and state must still be on screen (names give way);
`test_money_is_whole_at_80x24` checks that in the text, the pictures keep the whole of it."""

from __future__ import annotations

import itertools
import uuid

import pytest
from pytest_textual_snapshot import SVGImageExtension
from ui_pilot import (
    AMOXICILLIN_LINE,
    NOW,
    centre_at,
    demo_app,
    enter_bill,
    insert,
    press,
    quota_centre,
    rendered,
    settle_down,
    type_text,
)

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
def fixed_ids(cfg, monkeypatch):
    """Ids from counters and msgids from the fixed clock, so the result and today's screens draw the same every
    run: the request ids (uuid4), the centre's setl_id and mdtrt_id (their random tail), the window's msgids
    (the second they reserve: the fixed clock's, then the seconds after it). From once the demo's databases are
    made (`cfg`): they are made afresh or copied from the ones made for an earlier test (ui_pilot.demo_databases),
    and the counters must not depend on which."""
    import secrets

    from terminal.store import window_log
    counter = itertools.count(1)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter)))
    tails = itertools.count(1)
    monkeypatch.setattr(secrets, "token_hex", lambda nbytes=32: f"{next(tails):0{2 * nbytes}x}")
    reserve = window_log.reserve_second
    monkeypatch.setattr(window_log, "reserve_second", lambda db, now: reserve(db, NOW))


def _insert(profile: str):
    async def step(app, pilot) -> None:
        await insert(app, pilot, profile)
    return step


def _keys(*keys: str):
    async def step(app, pilot) -> None:
        await press(app, pilot, *keys)
    return step


async def _nothing(app, pilot) -> None:
    await settle_down(app, pilot)


async def _bill_slowly(app, pilot) -> None:
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, LINES, slowly=True)


async def _pin(app, pilot) -> None:
    await type_text(app, pilot, "123456")
    await press(app, pilot, "enter")


async def _quantity(app, pilot) -> None:
    await insert(app, pilot, "zhang_xiaoyu")
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, LINES)
    await press(app, pilot, "up", "f2")


async def _kept(app, pilot) -> None:
    await press(app, pilot, "escape")   # the quantity left as it was
    app.tray_remove()
    await settle_down(app, pilot)


async def _self_pay(app, pilot) -> None:
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [AMOXICILLIN_LINE])
    await press(app, pilot, "f5")


async def _bindings(app, pilot) -> None:
    await insert(app, pilot, "zhang_wei")
    await press(app, pilot, "f3")


# (screen, the step from the screen before it). The settled journey types its bill one key at a time, each settled
# before the next: the splits asked on the way take msgids and ids, and the result and today's screens show the
# ones the settlement took after them, so the same keys must ask the same splits every run.
JOURNEYS = {
    "settled": [("waiting", _nothing), ("patient", _insert("zhang_xiaoyu")), ("bill", _bill_slowly),
                ("payment", _keys("f5")), ("result", _pin), ("today", _keys("f10", "f4"))],
    "kept": [("bill_quantity", _quantity), ("waiting_bill_kept", _kept)],
    "self_pay": [("patient_suspended", _insert("zhao_lan")), ("payment_self_pay", _self_pay)],
    "bindings": [("bindings", _bindings)],
    "day_end": [("day_end", _keys("f6"))],
    "help": [("help", _keys("f1"))],
}


class ScreenPicture(SVGImageExtension):
    """One SVG per screen and size, `test_screen[<screen>-<size>].svg`, whichever journey passes the screen."""

    @classmethod
    def get_snapshot_name(cls, *, test_location, index=0) -> str:
        return f"test_screen[{index}]"


async def picture(app, pilot) -> str:
    """The screen as pytest-textual-snapshot takes it: the cursor still, every animation done, the app's title."""
    from textual.widgets import Input
    await settle_down(app, pilot)
    for field in app.screen.query(Input):
        field.cursor_blink = False   # a blinking cursor would make the picture depend on the moment
    await settle_down(app, pilot)
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    return app.export_screenshot(title=app.title, simplify=True)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("journey", list(JOURNEYS))
async def test_screen(snapshot, cfg, journey, size):
    pictures = snapshot.use_extension(ScreenPicture)
    app = demo_app(cfg)
    async with app.run_test(size=SIZES[size], tooltips=True, notifications=True) as pilot:
        await settle_down(app, pilot)
        for screen, step in JOURNEYS[journey]:
            await step(app, pilot)
            assert await picture(app, pilot) == pictures(name=f"{screen}-{size}"), f"{screen} at {size}"


async def test_waiting_in_english(snapshot, cfg):
    app = demo_app(cfg, lang="en")
    async with app.run_test(size=SIZES["120x40"], tooltips=True, notifications=True) as pilot:
        await settle_down(app, pilot)
        assert await picture(app, pilot) == snapshot.use_extension(SVGImageExtension)


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
        head = next(line for line in _screen_lines(app).splitlines() if "(F7)" in line)
        assert "张小雨" in head, head                                           # whose bill, beside its visit type
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
