"""Snapshots of the main cashier screens at 120×40 with a fixed clock (plain `def`: DESIGN §10)."""

from __future__ import annotations

import pytest

from ui_pilot import AMOXICILLIN_LINE, demo_app, enter_bill, insert, press, settle_down

SIZE = (120, 40)


def _steps(profile: str | None = None, keys: tuple[str, ...] = (), bill: bool = False):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle_down(app, pilot)
        if profile:
            await insert(app, pilot, profile)
        for key in keys:
            await press(app, pilot, key)
            if key == "f2" and bill:
                await enter_bill(app, pilot, [AMOXICILLIN_LINE, ("X207", "头孢克肟片", "B", "1", "38.00")])
        from textual.widgets import Input
        for field in app.screen.query(Input):
            field.cursor_blink = False   # a blinking cursor would make the picture depend on the moment
        await settle_down(app, pilot)
    return run_before


@pytest.mark.parametrize("name,profile,keys,bill", [
    ("waiting", None, (), False),
    ("patient_with_family", "zhang_xiaoyu", (), False),
    ("bill", "zhang_xiaoyu", ("f2",), True),
    ("payment", "zhang_xiaoyu", ("f2", "f5"), True),
    ("bindings", "zhang_wei", ("f3",), False),
    ("day_end", None, ("f6",), False),
    ("help", None, ("f1",), False),
])
def test_screen(snap_compare, cfg, name, profile, keys, bill):
    app = demo_app(cfg)
    assert snap_compare(app, terminal_size=SIZE, run_before=_steps(profile, keys, bill))


def test_waiting_in_english(snap_compare, cfg):
    assert snap_compare(demo_app(cfg, lang="en"), terminal_size=SIZE, run_before=_steps())
