"""The e-voucher at the kiosk in headless Chromium: the real `cashier web` on the embedded centre, a scanner
typing the code into the browser page (keys as a keyboard-wedge scanner sends them), the patient paying without
a PIN, the centre's record naming the credential (01)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, centre_client
from test_web_kiosk import WebServer, browser, free_port, open_kiosk, wait_text, wait_until  # noqa: F401

from drivers import voucher as v
from emulator.phone import show_code

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def centre_server(tmp_path_factory: pytest.TempPathFactory):
    """`cashier web --mode kiosk` with `[centre] enabled`, the demo people loaded into the embedded centre."""
    home = tmp_path_factory.mktemp("kiosk-centre")
    config = home / "config.toml"
    config.write_text(centre_client((ROOT / "config.toml").read_text(encoding="utf-8")), encoding="utf-8")
    from terminal.config import load_config
    from terminal.services.demo_db import ensure_demo_db
    ensure_demo_db(load_config(config))
    port = free_port()
    log = home / "server.log"
    env = {k: val for k, val in os.environ.items() if k not in ("CASHIER_CONFIG", "CASHIER_DB")}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "terminal.cli.main", "--config", str(config), "web",
                                 "--reader", "emulator", "--mode", "kiosk", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=home, env=env)
    try:
        wait_until(lambda: f"on http://127.0.0.1:{port}" in log.read_text(errors="replace")
                   or proc.poll() is not None, 30, "the server to start")
        assert proc.poll() is None, log.read_text(errors="replace")
        yield WebServer(proc, f"http://127.0.0.1:{port}/", log, home)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
