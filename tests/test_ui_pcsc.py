"""One whole journey through the real PC/SC stack: the emulator's card served by vpcd into pcscd, the app
listening with pyscard's CardMonitor (events from its thread reach the UI with post_message)."""

from __future__ import annotations

import asyncio

import pytest

from test_kiosk_flow import balance, settlements
from ui_pilot import AMOXICILLIN_LINE, demo_app, enter_bill, press, screen_text, settle_down, type_text, wait_for

pytestmark = pytest.mark.pcsc


async def card_in(app, pilot, pcsc_stack, state_dir, profile: str) -> None:
    """Serve the profile's card in slot 0 and wait for the patient screen."""
    from emulator.profiles import load_card
    await asyncio.to_thread(pcsc_stack.serve, load_card(profile, state_dir), 0)
    await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen")


async def empty_slot_app(cfg, pcsc_stack):
    """The app on vpcd's slot 0 through pcscd, the slot empty."""
    await asyncio.to_thread(pcsc_stack.pull, 0)
    return demo_app(cfg, reader_spec=f"pcsc:{pcsc_stack.side(0).reader_name}", demo=False)


async def test_settle_through_pcsc(cfg, pcsc_stack, state_dir):
    app = await empty_slot_app(cfg, pcsc_stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_down(app, pilot)
        assert type(app.screen).__name__ == "WaitingScreen"
        assert app.reader_error is None
        await card_in(app, pilot, pcsc_stack, state_dir, "zhang_wei")
        assert "张伟" in screen_text(app) and "410102********6716" in screen_text(app)
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        await type_text(app, pilot, "123456")
        await press(app, pilot, "enter")
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen")
        assert "¥251.00" in screen_text(app)
        await asyncio.to_thread(pcsc_stack.pull, 0)     # the patient takes the card: back to waiting
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "WaitingScreen")
    # ¥3,260.00 at the demo centre (¥300.00 of his ¥3,560.00 in his sister's wallet), less 2 × ¥125.50 of class A,
    # all inside his yearly deductible: the account pays it all
    assert balance(cfg, "P10000001") == 326000 - 25100
    assert [(r["psn_no"], r["acct_pay"]) for r in settlements(cfg)] == [("P10000001", 25100)]


async def test_card_pulled_mid_payment_through_pcsc(cfg, pcsc_stack, state_dir):
    app = await empty_slot_app(cfg, pcsc_stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_down(app, pilot)
        await card_in(app, pilot, pcsc_stack, state_dir, "li_na")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        await type_text(app, pilot, "123456")
        await asyncio.to_thread(pcsc_stack.pull, 0)
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "WaitingScreen")
        assert "支付过程中卡被拔出,本次结算未记账" in screen_text(app)
    assert balance(cfg, "P10000002") == 12000
    assert settlements(cfg) == []
