"""The PIN box on the payment screen: a PIN the card cannot take is refused at the window, before the card or the
centre is asked, and spends no try; the working message names the PIN only when one is checked.

Pilot on the demo database; the card's tries left read from the card itself (a VERIFY with no data to the same
card, its state as saved), never from the screen.
"""

from __future__ import annotations

import pytest

from ui_pilot import (balance, centre_at, count, enter_bill, insert, press, quota_centre, screen_text, settle_down,
                      type_text, wait_for, window)

AMOXICILLIN = ("X001", "阿莫西林胶囊", "A", "2", "125.50")   # 2 × ¥125.50 = ¥251.00, class A: 张伟's account pays


@pytest.fixture
def cfg(cfg, monkeypatch):
    """The embedded centre on the window's clock, under the quota model (as the journeys at the window)."""
    centre_at(monkeypatch)
    return quota_centre(cfg)


async def to_payment(app, pilot, profile: str) -> None:
    """Card in → patient → F2 bill → the line → F5 payment."""
    await insert(app, pilot, profile)
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [AMOXICILLIN])
    await press(app, pilot, "f5")
    assert type(app.screen).__name__ == "PaymentScreen"


def tries_left_on_card(cfg, profile: str) -> int | None:
    """Ask the card: the demo card `profile` with its saved state, in a reader of its own."""
    from drivers.ssse import SocialSecurityCard
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    card = SocialSecurityCard(InProcessReader(load_card(profile, cfg.state_dir)))
    card.reader.connect()
    card.select_application()
    return card.pin_tries_left()


class Transmits:
    """The APDUs the window's reader sends from now on (the reader's own transmit, counted)."""

    def __init__(self, reader) -> None:
        self.count = 0
        inner = reader.transmit

        def counted(apdu: bytes):
            self.count += 1
            return inner(apdu)
        reader.transmit = counted


async def test_a_pin_too_short_for_any_card_is_refused_before_the_card_is_asked(cfg):
    """"123" then "1", in one payment: each refused in place, nothing sent; then the right PIN settles."""
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        before_log = count(cfg, "centre_log")
        sent = Transmits(app.reader)
        for typed in ("123", "1"):
            await type_text(app, pilot, typed)
            await press(app, pilot, "enter")
            await settle_down(app, pilot)
            assert type(app.screen).__name__ == "PaymentScreen"
            text = screen_text(app)
            assert "密码应为4至16位数字,请重新输入" in text and "密码错误" not in text, typed
            assert sent.count == 0, typed                            # nothing went to the card
            assert count(cfg, "centre_log") == before_log, typed     # nor to the centre
            assert app.screen.query_one("#pin").value == "", typed   # the box is cleared for the PIN again
            assert app.screen.busy is False
        await type_text(app, pilot, "123456")                   # the right PIN settles at once
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen"
    assert tries_left_on_card(cfg, "zhang_wei") == 3            # no try was spent
    assert balance(cfg, "P10000001") == 356000 - 25100


async def test_a_pin_the_card_may_hold_still_goes_to_the_card(cfg):
    """5 digits is a PIN the card takes (CHANGE PIN sets 4 to 16): a wrong one is the card's to refuse."""
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        await type_text(app, pilot, "12345")
        await press(app, pilot, "enter")
        assert "密码错误" in screen_text(app) and "剩余2次" in screen_text(app)
    assert tries_left_on_card(cfg, "zhang_wei") == 2


@pytest.mark.parametrize(("lang", "working", "not_said"), [("zh", "正在结算…", "校验密码"),
                                                           ("en", "Settling…", "Verifying the PIN")])
async def test_no_account_paying_says_settling_without_a_pin(cfg, lang, working, not_said):
    async with window(cfg, lang=lang) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        await press(app, pilot, "f7")                           # no personal account: no PIN
        assert app.screen.pin_needed() is False
        app.reader.faults.delay_s = 0.3                        # a slow card: the working message stays up a while
        await pilot.press("f5")
        assert app.screen.busy                                  # charging: the card answers slowly
        text = screen_text(app)
        assert working in text and not_said not in text
        app.reader.faults.delay_s = 0
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen", timeout=60)


async def test_an_account_paying_still_says_the_pin_is_checked(cfg):
    async with window(cfg) as (app, pilot):
        await to_payment(app, pilot, "zhang_wei")
        app.reader.faults.delay_s = 0.3
        await type_text(app, pilot, "123456")
        await pilot.press("enter")
        assert app.screen.busy                                  # charging: the card answers slowly
        assert "正在校验密码并结算…" in screen_text(app)
        app.reader.faults.delay_s = 0
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen", timeout=60)
