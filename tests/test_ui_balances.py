"""Balances on screen are current (issue 11, item 4): after a reversal or an unbinding made with the same card
still in the reader, the patient, bindings and payment screens show the balance as it is now, never the one
read with the card."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from ui_pilot import (AMOXICILLIN_LINE, balance, centre_at, enter_bill, insert, press, quota_centre, screen_text,
                      type_text, window)


@pytest.fixture
def cfg(cfg, monkeypatch):
    """The embedded centre on the window's clock, under the quota model: 张伟 holds ¥3,560.00 and has set ¥500.00
    aside for 张敏."""
    centre_at(monkeypatch)
    return quota_centre(cfg)


def own_on_patient(app) -> str:
    return str(app.screen.query_one("#own-balc", Static).render())


def own_on_payment(app) -> str:
    """The own account's row of the payment table: (available, pays now) as drawn."""
    table = app.screen.query_one("#accounts")
    cells = [str(c).strip() for c in table.get_row_at(0)]
    assert cells[2] == "本人账户", cells
    return cells[3]


async def test_after_a_reversal_every_screen_shows_the_balance_now(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen"
        assert balance(cfg, "P10000001") == 356000 - 25100
        await press(app, pilot, "f10", "f5")            # the same card still in: read again
        assert own_on_patient(app) == "¥3,309.00"
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        assert own_on_payment(app) == "¥3,309.00"
        await press(app, pilot, "f4")                   # today's settlements, over the payment screen
        await press(app, pilot, "f7", "y")              # the first settlement is reversed
        assert "已冲正" in screen_text(app)
        assert balance(cfg, "P10000001") == 356000
        await press(app, pilot, "escape")               # back on the payment screen
        assert type(app.screen).__name__ == "PaymentScreen"
        assert own_on_payment(app) == "¥3,560.00"
        assert str(app.screen.query_one("#v-balc").render()) == "¥3,309.00"   # after this bill: 3,560 − 251
        await press(app, pilot, "escape", "escape")     # the bill, then the patient
        assert type(app.screen).__name__ == "PatientScreen"
        assert own_on_patient(app) == "¥3,560.00"
        await press(app, pilot, "f3")
        assert "本人个人账户: ¥3,560.00" in screen_text(app)


async def test_after_an_unbinding_every_screen_shows_the_balance_now(cfg):
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_wei")
        assert own_on_patient(app) == "¥3,560.00"
        await press(app, pilot, "f3")
        assert "本人个人账户: ¥3,560.00" in screen_text(app)
        app.screen.query_one("#pin").focus()
        await type_text(app, pilot, "123456")
        table = app.screen.query_one("#list")
        table.focus()
        table.move_cursor(row=2)                        # 张敏, cross-province, quota ¥500.00
        await press(app, pilot, "f3", "y")
        assert "已解绑 张敏" in screen_text(app)
        assert balance(cfg, "P10000001") == 356000 + 50000   # the quota came back to the owner
        assert "本人个人账户: ¥4,060.00" in screen_text(app)
        await press(app, pilot, "escape")
        assert own_on_patient(app) == "¥4,060.00"
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        assert own_on_payment(app) == "¥4,060.00"
