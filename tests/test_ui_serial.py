"""The payment journey on a serial card terminal with its own PIN keypad (a real pty): the screen asks the
patient to type the PIN on the terminal, never shows a PIN field, and the card verifies it."""

from __future__ import annotations

import pytest

from test_kiosk_flow import balance, settlements
from ui_pilot import AMOXICILLIN_LINE, enter_bill, press, screen_text, wait_for, window


@pytest.fixture
def terminal(tmp_path, state_dir):
    from emulator.profiles import load_card
    from emulator.serial_terminal import SerialTerminal
    term = SerialTerminal(load_card("zhang_wei", state_dir), link=tmp_path / "ttyCT").start()
    yield term
    term.stop()


async def test_keypad_pin_on_the_serial_terminal(cfg, terminal):
    async with window(cfg, reader_spec=f"serial:{terminal.path}", demo=False) as (app, pilot):
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=10)
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN_LINE])
        await press(app, pilot, "f5")
        text = screen_text(app)
        assert "请患者在读卡器键盘上输入密码" in text
        assert not app.screen.query_one("#pin").display        # no PIN field on the cashier's screen
        terminal.keypad.type("123456")                         # the patient types on the terminal
        await press(app, pilot, "f5")
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen", timeout=15)
    # ¥3,260.00 at the demo centre (¥300.00 of his ¥3,560.00 in his sister's wallet), less 2 × ¥125.50 of class A,
    # all inside his yearly deductible: the account pays it all
    assert balance(cfg, "P10000001") == 326000 - 25100
    assert [(r["psn_no"], r["acct_pay"]) for r in settlements(cfg)] == [("P10000001", 25100)]
