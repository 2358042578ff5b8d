"""The e-voucher at the cashier's window, driven with Pilot on the embedded centre: a keyboard-wedge scanner types
the code with no pause between keys and Enter on the waiting screen; the patient opens through the centre (1101 with
mdtrt_cert_type 01), no digit of the code leaks out as a demo key, the payment asks no PIN, the personal account pays
and the slip names the credential. Refused codes are said on the waiting screen; slow typing stays typing."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import ROOT
from test_ui_fast_keys import burst
from ui_pilot import enter_bill, key_event, press, screen_text, settle_down, wait_for, window

from drivers import voucher as v
from drivers.certno import mask
from emulator.phone import show_code

AMOXICILLIN = ("X001", "阿莫西林胶囊", "A", "2", "125.50")   # 2 × ¥125.50 = ¥251.00, class A


def _cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    from terminal.config import load_config
    return load_config(path)


def code_of(cfg, profile: str, now: float | None = None) -> str:
    return show_code(profile, v.parse_key(cfg.voucher.key), now=now).code


def scan(app, code: str) -> None:
    """The scanner types the code and Enter, every key handed to the app at once (< 10 ms apart)."""
    burst(app, [*code, "enter"])


def _settled(cfg) -> list[tuple]:
    with sqlite3.connect(cfg.db_path) as db:
        return db.execute("SELECT psn_no, mdtrt_cert_type, acct_pay, psn_cash_pay FROM window_settlements").fetchall()


def _sent(cfg, infno: str) -> list[dict]:
    import json
    with sqlite3.connect(cfg.db_path) as db:
        return [json.loads(r[0])["input"]["data"] for r in
                db.execute("SELECT request FROM centre_log WHERE infno = ?", [infno])]


async def test_a_scan_taken_late_by_a_busy_window_is_still_a_scan(tmp_path, monkeypatch):
    """A key is stamped when the terminal delivers it, not when the window gets round to it: the scanner's burst
    arrives at once, the window (busy: a worker holding the interpreter) takes each key 80 ms after the one before,
    and it is still one code; timed on taking, a digit of it went on as a demo key and inserted a card."""
    from terminal.ui.wedge_keys import KeyboardWedge
    feed = KeyboardWedge.feed

    def busy_feed(self, key):
        time.sleep(0.08)        # the interpreter elsewhere: this key is taken late
        feed(self, key)

    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        code = code_of(cfg, "zhang_wei")
        monkeypatch.setattr(KeyboardWedge, "feed", busy_feed)
        scan(app, code)
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=15)
        assert app.tray_card is None
        assert "张伟" in screen_text(app) and "医保电子凭证" in screen_text(app)


async def test_a_scan_read_late_in_the_middle_is_still_a_scan(tmp_path, monkeypatch):
    """The machine held up for a moment while the terminal read a scan: the keys that piled up meanwhile are
    read at once, stamped 60 ms after the ones before (a pause the scanner never made). Taken as typing, its
    digits went on as demo keys: 3 inserted 张小雨's card, and li_na's code reached the centre only on a rescan."""
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        code = code_of(cfg, "li_na")
        start = time.monotonic()
        for i, key in enumerate([*code, "enter"]):
            event = key_event(key)
            event.time = start + i * 0.001 + (0.06 if i >= len(code) // 2 else 0.0)   # as the terminal stamped it
            app._driver.send_message(event)
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=15)
        assert app.tray_card is None
        assert "李娜" in screen_text(app) and "医保电子凭证" in screen_text(app)
    assert {(d["mdtrt_cert_type"], d["mdtrt_cert_no"]) for d in _sent(cfg, "1101")} == {("01", mask(code))}


async def test_keys_waiting_for_a_held_up_window_are_not_a_pause(tmp_path, monkeypatch):
    """The window took half a scan, then was held up (drawing, a collection) while the terminal went on reading
    the rest in time: when the pause timer comes round before the window takes those keys, the scan has not
    stopped. Judged on how long since the last key taken, the half went on as typing and a digit inserted a card."""
    from terminal.ui.wedge_keys import KeyboardWedge
    monkeypatch.setattr(KeyboardWedge, "_arm", lambda self: None)      # the timer: called below, in this order
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        code = code_of(cfg, "li_na")
        start = time.monotonic()
        keys = [key_event(key) for key in [*code, "enter"]]
        for i, key in enumerate(keys):
            key.time = start + i * 0.001                                   # read by the terminal 1 ms apart
        for key in keys[:40]:
            app.post_message(key)
        end = time.monotonic() + 10
        while (app._wedge is None or len(app._wedge.held) < 40) and time.monotonic() < end:
            await asyncio.sleep(0)                                         # the window takes the first half
        assert len(app._wedge.held) == 40
        for key in keys[40:]:
            app.post_message(key)                                          # read in time, not taken yet
        time.sleep(0.12)                                                   # the window held up
        app._wedge._due()                                                  # the pause timer comes round first
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=15)
        assert app.tray_card is None and "李娜" in screen_text(app) and "医保电子凭证" in screen_text(app)


async def test_a_scanned_e_voucher_is_settled_without_a_pin(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        code = code_of(cfg, "zhang_wei")
        scan(app, code)
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=15)
        text = screen_text(app)
        assert "张伟" in text and "医保电子凭证" in text and "P10000001" in text and "¥3,260.00" in text   # ¥300.00 in his sister's wallet
        assert app.tray_card is None            # no digit of the code went on as a demo key (1-9 insert a card)
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN])
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "PaymentScreen"
        await wait_for(app, pilot, lambda: "¥251.00" in screen_text(app))
        assert "无需密码" in screen_text(app)
        assert not app.screen.query_one("#pin").display
        await press(app, pilot, "f5")
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen", timeout=15)
        text = screen_text(app)
        assert "结算完成" in text and "就诊凭证 mdtrt_cert_type: 01 医保电子凭证" in text
    assert _settled(cfg) == [("P10000001", "01", 25100, 0)]   # the personal account paid it all
    for infno in ("1101", "2201", "2206", "2207"):
        assert {(d["mdtrt_cert_type"], d["mdtrt_cert_no"]) for d in _sent(cfg, infno)} == {("01", mask(code))}, infno


async def test_refused_codes_are_said_on_the_waiting_screen(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        code = code_of(cfg, "li_na")
        scan(app, code)
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=15)
        assert app.tray_card is None and "医保电子凭证" in screen_text(app)   # the scan, not a digit of it as a key
        await press(app, pilot, "escape")
        assert type(app.screen).__name__ == "WaitingScreen"
        scan(app, code)                                                   # the same code again: spent
        await wait_for(app, pilot, lambda: "已使用过" in screen_text(app), timeout=15)
        scan(app, code_of(cfg, "li_na", now=time.time() - 600))            # expired
        await wait_for(app, pilot, lambda: "已过期" in screen_text(app), timeout=15)
        assert type(app.screen).__name__ == "WaitingScreen" and app.tray_card is None
    assert _settled(cfg) == []


async def test_slow_typing_is_typing_and_a_scan_after_it_is_a_scan(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        await pilot.press("Y")                      # a code may begin with Y: held back a moment ...
        await pilot.pause(0.2)
        await press(app, pilot, "3")                # ... then typing after all: 3 inserts the third card
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=15)
        assert app.tray_card == "zhang_xiaoyu"
        app.tray_remove()
        await settle_down(app, pilot)
        assert type(app.screen).__name__ == "WaitingScreen"
        scan(app, code_of(cfg, "zhang_wei"))        # the Y held back before is not part of it
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=15)
        assert "张伟" in screen_text(app) and "医保电子凭证" in screen_text(app) and app.tray_card is None
