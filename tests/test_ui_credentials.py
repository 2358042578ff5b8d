"""The credentials beside the card at the cashier's window, driven with Pilot on the embedded centre: Enter
charges on a payment screen that shows no PIN box; the e-voucher code masked in the window's message log (the
log's table and the ^L screen); the waiting screen and the help name the scan and the ID card; the ID card
(mdtrt_cert_type 02) as a third credential where config allows it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from test_ui_voucher import AMOXICILLIN, _cfg, code_of, scan
from ui_pilot import enter_bill, press, screen_text, wait_for, window

from drivers.certno import mask


async def _voucher_payment(app, pilot, cfg, profile: str = "zhang_wei") -> str:
    code = code_of(cfg, profile)
    scan(app, code)
    await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=15)
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [AMOXICILLIN])
    await press(app, pilot, "f5")
    await wait_for(app, pilot, lambda: "¥251.00" in screen_text(app))
    return code


async def test_enter_charges_when_no_pin_box_is_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        await _voucher_payment(app, pilot, cfg)
        assert not app.screen.query_one("#pin").display
        await press(app, pilot, "enter")
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen", timeout=15)
    with sqlite3.connect(cfg.db_path) as db:
        assert db.execute("SELECT psn_no, mdtrt_cert_type, acct_pay FROM window_settlements").fetchall() == [
            ("P10000001", "01", 25100)]


async def test_the_e_voucher_code_is_masked_in_the_message_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    cfg = _cfg(tmp_path, monkeypatch)
    async with window(cfg) as (app, pilot):
        code = await _voucher_payment(app, pilot, cfg)
        await press(app, pilot, "f5")
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen", timeout=15)
        await press(app, pilot, "ctrl+l")
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "CentreLogScreen")
        await wait_for(app, pilot, lambda: "2207" in screen_text(app))
        seen = []
        for _ in range(len(app.screen.rows)):           # every message's detail line, as the cashier reads it
            seen.append(screen_text(app))
            await press(app, pilot, "down")
    on_screen = "\n".join(seen)
    assert code not in on_screen and code[5:20] not in on_screen
    assert f"就诊凭证 01 医保电子凭证 {mask(code)}" in on_screen       # the credential, by type, masked
    with sqlite3.connect(cfg.db_path) as db:                   # the log itself, as support reads the file
        rows = db.execute("SELECT infno, request, coalesce(answer, '') FROM centre_log").fetchall()
    assert {r[0] for r in rows} >= {"1101", "2201", "2206", "2207"}
    for infno, request, answer in rows:
        assert code not in request + answer and code[5:20] not in request + answer, infno
    sent = {r[0]: json.loads(r[1])["input"].get("data", {}) for r in rows}
    for infno in ("1101", "2201", "2206", "2207"):
        assert (sent[infno]["mdtrt_cert_type"], sent[infno]["mdtrt_cert_no"]) == ("01", mask(code)), infno
