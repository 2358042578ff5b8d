"""The window settles from an e-voucher code through the centre, run as a cashier runs it (`cashier ... --json`
subprocesses on real SQLite files): 1101 with mdtrt_cert_type 01, the visit and 2206/2207 with 01 throughout, no
PIN, the personal account paying; the same fen as the card for the same person and bill; the code taken from stdin;
expired, reused, malformed and another person's codes refused with exit 1 and nothing changed."""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from window_centre_support import CASHIER, DEMO_BILL, Window, balc_fen, fen_of, make_window

from drivers import voucher as v
from drivers.certno import mask
from emulator.phone import show_code

AMOUNTS = ("medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc", "fund_pay_sumamt",
           "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "balc")
ZHANG_WEI_CERTNO = "410102197805126716"


def code_of(window: Window, profile: str, *, now: float | None = None) -> str:
    """A fresh code from the phone, sealed with the window's [voucher] key (the centre's)."""
    key = v.parse_key(tomllib.loads(window.config.read_text(encoding="utf-8"))["voucher"]["key"])
    return show_code(profile, key, now=now).code


def run(window: Window, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`cashier` with no PIN anywhere (no $CASHIER_PIN, no --pin): an e-voucher needs none."""
    env = {k: val for k, val in os.environ.items() if not k.startswith("CASHIER_")}
    return subprocess.run([str(CASHIER), "--config", str(window.config), *args], capture_output=True, text=True,
                          timeout=120, cwd=window.home, env=env, input=stdin)


def ok_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    return json.loads(done.stdout, parse_float=Decimal)


def settlements(window: Window) -> list[tuple[str, str]]:
    with window.db() as db:
        return db.execute("SELECT psn_no, mdtrt_cert_type FROM window_settlements ORDER BY id").fetchall()


def sent(window: Window, infno: str) -> list[dict[str, Any]]:
    with window.db() as db:
        return [json.loads(r[0])["input"] for r in db.execute(
            "SELECT request FROM centre_log WHERE infno = ? ORDER BY rowid", [infno])]


def test_an_e_voucher_settles_to_the_same_fen_as_the_card_with_no_pin(tmp_path):
    for profile, card_no in (("zhang_wei", "A10000001"), ("zhang_xiaoyu", "A10000003")):
        by_card = make_window(tmp_path / f"card-{profile}")
        by_code = make_window(tmp_path / f"code-{profile}")
        card = by_card.settle(profile)
        before = balc_fen(by_code, "A10000001")
        code = code_of(by_code, profile)
        out = ok_json(run(by_code, "settle", "--voucher", "-", "--bill", str(DEMO_BILL), "--json",
                          stdin=code + "\n"))
        assert {f: fen_of(out, f) for f in AMOUNTS} == {f: fen_of(card, f) for f in AMOUNTS}, profile
        assert [(m["owner_psn_no"], m["amount_fen"]) for m in out["mulaid"]] == \
            [(m["owner_psn_no"], m["amount_fen"]) for m in card["mulaid"]]
        assert out["setlinfo"]["mdtrt_cert_type"] == "01" and card["setlinfo"]["mdtrt_cert_type"] == "03"
        assert fen_of(out, "acct_pay") > 0                           # the personal account (or a relative's) paid
        assert balc_fen(by_code, "A10000001") == before - fen_of(out, "acct_pay")
        # the window's record and its message log name the credential: 01 and the code (masked), 1101 to 2207
        psn_no = out["setlinfo"]["psn_no"]
        assert settlements(by_code) == [(psn_no, "01")] and settlements(by_card) == [(psn_no, "03")]
        for infno, where in (("1101", "data"), ("2201", "data"), ("2206", "data"), ("2207", "data")):
            data = sent(by_code, infno)[-1][where]
            assert (data["mdtrt_cert_type"], data["mdtrt_cert_no"]) == ("01", mask(code)), infno
        slip = Path(out["slip"]).read_text(encoding="utf-8")
        assert "就诊凭证 mdtrt_cert_type: 01 医保电子凭证" in slip
        assert "就诊凭证 mdtrt_cert_type: 03 社会保障卡" in Path(card["slip"]).read_text(encoding="utf-8")
        again = run(by_code, "slip", out["setlinfo"]["setl_id"])                # printed again from the record
        assert "01 医保电子凭证" in again.stdout


def test_pre_settlement_and_family_by_e_voucher(tmp_path):
    w = make_window(tmp_path / "w")
    pre = ok_json(run(w, "settle", "--voucher", code_of(w, "zhang_xiaoyu"), "--bill", str(DEMO_BILL), "--pre",
                      "--json"))
    assert pre["pre"] is True and pre["mdtrt_cert_type"] == "01" and pre["acct_mulaid_pay_fen"] == 6364
    fam = ok_json(run(w, "family", "--voucher", "-", "--json", stdin=code_of(w, "zhang_xiaoyu")))
    assert fam["baseinfo"]["psn_no"] == "P10000003" and fam["relatives"][0]["owner_psn_no"] == "P10000001"
    assert settlements(w) == []


def test_refused_codes_are_clear_exit_1_and_change_nothing(tmp_path):
    w = make_window(tmp_path / "w")
    bill = str(DEMO_BILL)
    used = code_of(w, "zhang_wei")
    ok_json(run(w, "family", "--voucher", used, "--json"))                    # the lookup spends it
    balc = balc_fen(w, "A10000001")
    cases = {
        "voucher_used": (used, (), "already used"),
        "voucher_expired": (code_of(w, "zhang_wei", now=time.time() - 600), (), "expired at"),
        "voucher_malformed": ("YBEV:NOT-A-CODE", (), "not an e-voucher code"),
        "voucher_not_theirs": (code_of(w, "li_na"), ("--certno", ZHANG_WEI_CERTNO), "another person"),
    }
    for kind, (code, extra, needle) in cases.items():
        done = run(w, "--lang", "en", "settle", "--voucher", "-", *extra, "--bill", bill, "--json", stdin=code)
        assert done.returncode == 1, (kind, done.stdout, done.stderr)
        error = json.loads(done.stdout)["error"]
        assert error["code"] == kind and needle in error["message"], (kind, error)
        text = run(w, "settle", "--voucher", code, *extra, "--bill", bill)     # in Chinese, without --json
        assert text.returncode == 1 and "Traceback" not in text.stderr and text.stderr.startswith("cashier: ")
    expired = run(w, "settle", "--voucher", code_of(w, "li_na", now=time.time() - 600), "--bill", bill)
    assert "已过期" in expired.stderr
    assert settlements(w) == [] and balc_fen(w, "A10000001") == balc
    with w.db() as db:
        assert db.execute("SELECT count(*) FROM centre_log WHERE infno IN ('2201', '2207')").fetchone()[0] == 0
    # the usage mistakes: both credentials, --certno alone, nothing on stdin
    both = run(w, "settle", "--voucher", used, "--reader", "emulator:zhang_wei", "--bill", bill)
    assert both.returncode == 2 and "not allowed with" in both.stderr
    alone = run(w, "settle", "--certno", ZHANG_WEI_CERTNO, "--reader", "emulator:zhang_wei", "--bill", bill)
    assert alone.returncode == 2 and "--certno" in alone.stderr
    empty = run(w, "settle", "--voucher", "-", "--bill", bill, stdin="")
    assert empty.returncode == 2 and "--voucher" in empty.stderr
