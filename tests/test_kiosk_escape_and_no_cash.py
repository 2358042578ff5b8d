"""The kiosk with Pilot: Escape on the overview gives the card back as 取消 does, and where the window would offer
a settlement in cash (insurance not active, the centre down) the kiosk, which takes no cash, sends the patient to
a cashier window for it instead, in Chinese and in English."""

from __future__ import annotations

import socket

import pytest
from test_kiosk_flow import ZHANG_WEI, insert, kiosk_cfg, make_cfg, running, screen_text, settle_down, settlements

from terminal.config import load_config

__all__ = ["kiosk_cfg"]   # the fixture, used by name

ZHAO_LAN = "9"   # insurance suspended


def tray_line(app) -> str:
    return str(app.screen.query_one("#demo-state").render())


@pytest.mark.parametrize("key", ["escape", "cancel"])
async def test_escape_on_the_overview_gives_the_card_back_as_cancel_does(kiosk_cfg, key):
    async with running(kiosk_cfg) as (app, pilot):
        text = await insert(app, pilot, ZHANG_WEI)
        assert app.screen.view == "overview" and "读卡器中：张伟" in text, text
        if key == "escape":
            await pilot.press("escape")
        else:
            await pilot.click("#cancel")
        await settle_down(app, pilot)
        text = screen_text(app)
        assert app.screen.view == "idle" and "请插入社保卡" in text
        assert app.tray_card is None and "读卡器中：无卡" in text, text
        text = await insert(app, pilot, ZHANG_WEI)         # the next patient's card goes in as usual
        assert app.screen.view == "overview" and "您好，张伟" in text


async def test_escape_on_a_message_gives_the_card_back_as_done_does(kiosk_cfg):
    async with running(kiosk_cfg) as (app, pilot):
        await insert(app, pilot, ZHAO_LAN)
        assert app.screen.view == "message" and app.tray_card is not None
        await pilot.press("escape")
        await settle_down(app, pilot)
        assert app.screen.view == "idle" and app.tray_card is None and "读卡器中：无卡" in screen_text(app)


@pytest.mark.parametrize("lang, reason, way", [
    ("zh", "赵兰 的参保状态为暂停,不能医保结算", "自助机不收现金，如需全自费结算，请到人工窗口办理"),
    ("en", "赵兰's insurance is suspended: cannot settle with insurance",
     "This kiosk takes no cash: to pay the whole bill yourself (self-pay), please go to a cashier window."),
])
async def test_suspended_insurance_is_sent_to_the_window_for_self_pay_not_told_to_pay_cash(
        kiosk_cfg, lang, reason, way):
    async with running(kiosk_cfg, lang) as (app, pilot):
        text = await insert(app, pilot, ZHAO_LAN)
        flat = " ".join(text.split())
        assert app.screen.view == "message"
        assert reason in flat and way in flat, text
        assert "现金结算" not in text and "in cash" not in text
    assert settlements(kiosk_cfg) == []


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]   # closed again when this returns: nothing listens there


@pytest.fixture
def centre_down_cfg(config_file, monkeypatch):
    """The kiosk on a centre over HTTP where nothing listens (its demo data loaded first, embedded)."""
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    make_cfg(config_file)
    text = config_file.read_text(encoding="utf-8")
    assert text.count('\nurl = ""') == 1
    text = text.replace('\nurl = ""', f'\nurl = "http://127.0.0.1:{closed_port()}"')
    text = text.replace("connect_timeout_s = 3.0", "connect_timeout_s = 1.0")
    config_file.write_text(text, encoding="utf-8")
    return load_config(config_file)


@pytest.mark.parametrize("lang, title, way", [
    ("zh", "暂时无法连接医保中心", "请稍后重试；自助机不收现金，如需全自费结算，请到人工窗口办理"),
    ("en", "The insurance centre cannot be reached",
     "Please try again later. This kiosk takes no cash: to pay the whole bill yourself (self-pay), please go to a"),
])
async def test_the_centre_down_sends_the_patient_to_the_window_for_self_pay_not_told_to_pay_cash(
        centre_down_cfg, lang, title, way):
    async with running(centre_down_cfg, lang) as (app, pilot):
        text = await insert(app, pilot, ZHANG_WEI)
        flat = " ".join(text.split())
        assert app.screen.view == "message"
        assert title in flat and way in flat, text
        assert "现金结算" not in text and "in cash" not in text
