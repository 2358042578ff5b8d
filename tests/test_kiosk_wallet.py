"""The kiosk on the centre, for a patient whose money is in her insurance wallet: 张敏 (Chengdu, resident, no
personal account) holds the ¥300.00 her brother moved into her wallet (the demo). The kiosk shows the wallet
with her own account, offers it as her own money, and the receipt says what it paid and what is left; before,
she had no way to pay there (no account, and her brother's cross-province binding pays nothing directly)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from test_kiosk_flow import running, settle_down

from terminal.config import load_config


@pytest.fixture
def centre_kiosk_cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    path = tmp_path / "config.toml"
    path.write_text((ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    from terminal.services.demo_db import ensure_demo_db
    cfg = load_config(path)
    ensure_demo_db(cfg)
    return cfg


def test_the_backend_offers_her_wallet_and_the_receipt_carries_it(centre_kiosk_cfg, state_dir):
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    from terminal.services.ledger import close_ledger
    from terminal.ui.kiosk.backend import KioskBackend
    reader = InProcessReader(load_card("zhang_min", state_dir))
    try:
        kiosk = KioskBackend(centre_kiosk_cfg, reader)
        patient = kiosk.read_patient()
        assert (patient.own_balc, patient.wallet_balc, patient.family) == (None, 30000, ())
        bill = kiosk.pending_bill(patient)
        # the demo bill ¥108.40, resident outpatient: the fund 44.76, her part 63.64, all from her wallet
        assert bill is not None and (bill.total, bill.fund_pay) == (10840, 4476)
        (option,) = kiosk.pay_options(patient, bill)
        assert (option.key, option.own_pay, option.wallet_pay, option.mulaid_pay, option.cash_pay) == (
            "own", 0, 6364, 0, 0)
        receipt = kiosk.pay(patient, bill, option, "123456")
        assert (receipt.own_pay, receipt.wallet_pay, receipt.wallet_balc_after, receipt.cash_pay) == (
            0, 6364, 30000 - 6364, 0)
    finally:
        close_ledger(centre_kiosk_cfg)


async def test_the_kiosk_screens_show_her_wallet(centre_kiosk_cfg):
    from test_kiosk_flow import screen_text
    async with running(centre_kiosk_cfg) as (app, pilot):
        await pilot.press("5")                      # 张敏's card from the demo tray
        await settle_down(app, pilot)
        overview = screen_text(app)
        assert "医保钱包余额" in overview and "¥300.00" in overview, overview
        await pilot.press("enter")                  # 去缴费
        await pilot.pause()
        choose = screen_text(app)
        assert "我的医保钱包" in choose and "¥63.64" in choose, choose
        await pilot.press("1", *"123456")
        await pilot.press("enter")
        await settle_down(app, pilot)
        receipt = screen_text(app)
        assert "医保钱包支付" in receipt and "¥63.64" in receipt and "¥236.36" in receipt, receipt
