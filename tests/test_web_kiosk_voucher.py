"""The e-voucher at the kiosk in headless Chromium: the real `cashier web` on the embedded centre, a scanner
typing the code into the browser page (keys as a keyboard-wedge scanner sends them), the patient paying without
a PIN, the centre's record naming the credential (01)."""

from __future__ import annotations

import sqlite3
import tomllib

import pytest
from test_web_kiosk import browser, open_kiosk, start_server, wait_text, wait_until  # noqa: F401

from drivers import voucher as v
from emulator.phone import show_code

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def centre_server(tmp_path_factory: pytest.TempPathFactory):
    """`cashier web --mode kiosk` on the embedded centre, the demo people loaded into it before it starts."""
    from terminal.config import load_config
    from terminal.services.demo_db import ensure_demo_db
    yield from start_server(tmp_path_factory.mktemp("kiosk-centre"), "kiosk",
                            before=lambda config: ensure_demo_db(load_config(config)))


def test_a_code_scanned_into_the_browser_pays_without_a_pin(browser, centre_server):  # noqa: F811
    key = v.parse_key(tomllib.loads((centre_server.home / "config.toml").read_text(encoding="utf-8"))["voucher"]["key"])
    context, page = open_kiosk(browser, centre_server)
    try:
        text = wait_text(page, "请插入社保卡")
        assert "插卡" in text and "扫码" in text
        page.keyboard.type(show_code("zhang_xiaoyu", key).code)      # the scanner types the code, then Enter
        page.keyboard.press("Enter")
        text = wait_text(page, "您好，张小雨")
        assert "410105********6927" in text and "¥108.40" in text
        page.keyboard.press("Enter")
        wait_text(page, "请选择付款账户")
        page.keyboard.press("1")                                     # her father's account: no PIN view
        text = wait_text(page, "缴费成功")
        assert "张伟的账户支付" in text and "¥63.64" in text and "已使用医保电子凭证缴费" in text
        assert "请输入您的社保卡密码" not in text
    finally:
        context.close()
    with sqlite3.connect(centre_server.home / "var" / "cashier.db") as db:
        assert db.execute("SELECT psn_no, mdtrt_cert_type, acct_mulaid_pay FROM window_settlements").fetchall() == \
            [("P10000003", "01", 6364)]
