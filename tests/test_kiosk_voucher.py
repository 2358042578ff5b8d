"""The kiosk's "扫码" beside "插卡", with Pilot on the embedded centre: the scanner types the code and Enter into the
scan field (as fast as it comes), the patient's overview opens through the centre (1101 with mdtrt_cert_type 01), and
the payment goes through without a PIN view; the demo's phones show a person's code; refusals are said clearly and
charge nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import ROOT
from test_kiosk_flow import running, screen_text, settle_down

from drivers import voucher as v
from emulator.phone import show_code


def _cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    from terminal.config import load_config
    from terminal.services.demo_db import ensure_demo_db
    cfg = load_config(path)
    ensure_demo_db(cfg)
    return cfg


def code_of(cfg, profile: str) -> str:
    return show_code(profile, v.parse_key(cfg.voucher.key)).code


def _settled(cfg) -> list[tuple]:
    with sqlite3.connect(cfg.db_path) as db:
        return db.execute("SELECT psn_no, mdtrt_cert_type, acct_pay, psn_cash_pay FROM window_settlements").fetchall()


async def scan(app, pilot, code: str) -> str:
    """Tap 扫码, then the scanner types the code and Enter with no pause; the next view comes up."""
    await pilot.click("#way-scan")
    await pilot.pause()
    assert app.focused is not None and app.focused.id == "scan-code"
    await pilot.press(*code, "enter")
    await settle_down(app, pilot)
    return screen_text(app)


async def test_a_scanned_e_voucher_pays_at_the_kiosk_without_a_pin(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with running(cfg) as (app, pilot):
        text = screen_text(app)
        assert "插卡" in text and "扫码" in text
        text = await scan(app, pilot, code_of(cfg, "zhang_wei"))
        assert app.screen.view == "overview" and "张伟" in text, text
        assert app.tray_card is None                    # no digit of the code went to the tray
        await pilot.press("enter")                      # 去缴费
        await pilot.pause()
        assert app.screen.view == "choose"
        await pilot.press("1")                          # my account: paid at once, no PIN view
        await settle_down(app, pilot)
        assert app.screen.view == "receipt", screen_text(app)
        assert "已使用医保电子凭证缴费" in screen_text(app) and "请取回您的社保卡" not in screen_text(app)
    [(psn_no, cert_type, acct_pay, cash)] = _settled(cfg)
    assert (psn_no, cert_type, cash) == ("P10000001", "01", 0) and acct_pay > 0


async def test_the_demo_phone_shows_a_persons_code_and_refusals_are_clear(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with running(cfg) as (app, pilot):
        await pilot.click("#way-scan")
        await pilot.pause()
        await pilot.click("#phone-zhang_xiaoyu")
        await settle_down(app, pilot)
        assert app.screen.view == "overview" and "张小雨" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.view == "idle"
        code = code_of(cfg, "li_na")
        await scan(app, pilot, code)
        await pilot.press("escape")
        await pilot.pause()
        text = await scan(app, pilot, code)              # the same code again
        assert app.screen.view == "message" and "已使用过" in text, text
        await pilot.press("escape")
        await pilot.pause()
        text = await scan(app, pilot, "YBEV:NOT-A-CODE")
        assert app.screen.view == "message" and "不是医保电子凭证" in text, text
    assert _settled(cfg) == []


async def test_a_scan_on_the_start_view_needs_no_tap_first(tmp_path, monkeypatch):
    """A wedge scanner types wherever the kiosk is: on the start view, the code's first letter opens the scan
    field and not one key of the burst is lost (every key handed to the app at once)."""
    from test_ui_fast_keys import burst
    cfg = _cfg(tmp_path, monkeypatch)
    async with running(cfg) as (app, pilot):
        burst(app, [*code_of(cfg, "zhang_xiaoyu"), "enter"])
        await settle_down(app, pilot)
        await settle_down(app, pilot)
        assert app.screen.view == "overview" and "张小雨" in screen_text(app), screen_text(app)
        assert app.tray_card is None


async def test_a_scan_that_pauses_after_its_first_letter_is_not_cut(tmp_path, monkeypatch):
    """The first letter opens the scan field; the field takes the focus before the next key comes (a scanner
    slowed by a busy machine): what was typed stays, the next key is added to it, not put in its place."""
    cfg = _cfg(tmp_path, monkeypatch)
    code = code_of(cfg, "zhang_xiaoyu")
    async with running(cfg) as (app, pilot):
        await pilot.press(code[0])
        await settle_down(app, pilot)
        await pilot.press(*code[1:], "enter")
        await settle_down(app, pilot)
        assert app.screen.view == "overview" and "张小雨" in screen_text(app), screen_text(app)
