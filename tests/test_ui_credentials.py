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


ZHANG_WEI_CERTNO = "410102197805126716"


async def _type(app, pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch)
    await press(app, pilot, "enter")


async def test_the_id_card_at_the_window_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(tmp_path, monkeypatch)
    screens = []
    async with window(cfg) as (app, pilot):
        assert "F3" in screen_text(app) and "身份证" in screen_text(app)          # in the key bar
        await press(app, pilot, "f3")
        assert type(app.screen).__name__ == "IdCardEntry"
        await _type(app, pilot, ZHANG_WEI_CERTNO[:17] + "0")                    # a wrong check digit
        text = screen_text(app)
        assert "无效" in text and "校验位应为 6" in text and mask(ZHANG_WEI_CERTNO[:17] + "0") in text
        assert type(app.screen).__name__ == "IdCardEntry"
        await press(app, pilot, *["backspace"] * 18)
        await _type(app, pilot, ZHANG_WEI_CERTNO)
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=15)
        screens.append(screen_text(app))
        assert "张伟" in screens[-1] and "02 居民身份证" in screens[-1] and mask(ZHANG_WEI_CERTNO) in screens[-1]
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [AMOXICILLIN])
        await press(app, pilot, "f5")
        await wait_for(app, pilot, lambda: "¥251.00" in screen_text(app))
        screens.append(screen_text(app))
        assert "个人账户不支付" in screens[-1] and "无需密码" in screens[-1]
        assert not app.screen.query_one("#pin").display
        await press(app, pilot, "f7")                                           # the account cannot be turned on
        assert "不能使用个人账户" in screen_text(app)
        await press(app, pilot, "enter")                                        # no PIN box: Enter charges
        await wait_for(app, pilot, lambda: type(app.screen).__name__ == "ResultScreen", timeout=15)
        screens.append(screen_text(app))
        assert "就诊凭证 mdtrt_cert_type: 02 居民身份证" in screens[-1]
        await press(app, pilot, "ctrl+l")
        await wait_for(app, pilot, lambda: "2207" in screen_text(app))
        for _ in range(len(app.screen.rows)):
            screens.append(screen_text(app))
            await press(app, pilot, "down")
    seen = "\n".join(screens)
    assert f"就诊凭证 02 居民身份证 {mask(ZHANG_WEI_CERTNO)}" in seen
    assert ZHANG_WEI_CERTNO not in seen
    with sqlite3.connect(cfg.db_path) as db:
        row = db.execute("SELECT mdtrt_cert_type, acct_pay, fund_pay_sumamt + psn_cash_pay, medfee_sumamt "
                         "FROM window_settlements").fetchone()
        assert row[0] == "02" and row[1] == 0 and row[2] == row[3] == 25100
        # no preview on the way (the bill screen's, the payment's) asked the centre for an account on the ID card
        assert db.execute("SELECT infno, err_code FROM centre_log WHERE infcode != 0").fetchall() == []
        assert not [r for r in db.execute("SELECT request, coalesce(answer, '') FROM centre_log")
                    if ZHANG_WEI_CERTNO in r[0] + r[1]]


async def test_the_id_card_refused_where_config_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    import dataclasses
    cfg = _cfg(tmp_path, monkeypatch)
    cfg = dataclasses.replace(cfg, terminal=dataclasses.replace(cfg.terminal, id_card=False))
    async with window(cfg) as (app, pilot):
        assert "F3 输入身份证" not in screen_text(app)
        await press(app, pilot, "f3")
        assert type(app.screen).__name__ == "WaitingScreen"
        assert "本窗口未开通身份证就医" in screen_text(app)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_waiting_screen_and_the_help_name_the_scan_and_the_id_card(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch,
                                                                            lang: str) -> None:
    cfg = _cfg(tmp_path, monkeypatch)
    words = {"zh": ("医保电子凭证", "身份证"), "en": ("e-voucher", "ID card")}[lang]
    async with window(cfg, lang=lang) as (app, pilot):
        hint = str(app.screen.query_one("#hint").render())
        assert all(w in hint for w in words), hint
        await press(app, pilot, "f1")
        assert type(app.screen).__name__ == "HelpScreen"
        rows = [" ".join(str(c) for c in app.screen.query_one("#keys").get_row_at(i))
                for i in range(app.screen.query_one("#keys").row_count)]
        assert any(words[0] in r for r in rows) and any("F3" in r and words[1] in r for r in rows), rows
