"""The kiosk on a real PC/SC reader: the emulator's card served into pcscd through vpcd (tests/pcsc_stack.py)."""

from __future__ import annotations

import asyncio

import pytest

from test_kiosk_flow import SIZE, balance, make_cfg, screen_text, settle_down, settlements

pytestmark = pytest.mark.pcsc


async def wait_view(app, pilot, view: str, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if app.screen.view == view:
            return
        await pilot.pause(0.05)
    raise AssertionError(f"kiosk stayed on {app.screen.view!r}, wanted {view!r}:\n{screen_text(app)}")


async def test_kiosk_through_pcscd_reads_the_card_pays_and_goes_idle_when_it_is_pulled(
        pcsc_stack, config_file, monkeypatch):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    cfg = make_cfg(config_file)
    from emulator.profiles import load_card
    from terminal.ui.app import build_app
    before = balance(cfg, "P10000001")
    name = pcsc_stack.side(0).reader_name
    pcsc_stack.pull(0)
    app = build_app(cfg, reader_spec=f"pcsc:{name}", mode="kiosk")
    loop = asyncio.get_running_loop()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.screen.view == "idle" and "请插入社保卡" in screen_text(app)
            assert "演示卡" not in screen_text(app)            # a real reader: no demo tray
            await loop.run_in_executor(None, pcsc_stack.serve, load_card("zhang_xiaoyu", cfg.state_dir), 0)
            await wait_view(app, pilot, "overview")
            assert "您好，张小雨" in screen_text(app)
            await pilot.press("enter", "1", *"123456", "enter")
            await settle_down(app, pilot)
            await wait_view(app, pilot, "receipt")
            assert "缴费成功" in screen_text(app)
            await loop.run_in_executor(None, pcsc_stack.pull, 0)
            await wait_view(app, pilot, "idle")
    finally:
        await loop.run_in_executor(None, pcsc_stack.pull, 0)
    [row] = settlements(cfg)
    assert row["acct_mulaid_pay"] == 6364 and balance(cfg, "P10000001") == before - 6364
