"""The insurance wallet (医保钱包) at the window, run as a cashier runs it (`cashier ... --json` subprocesses on the
embedded centre, real SQLite files, the emulator's cards, the PIN from the environment, never on argv):

- `cashier wallet transfer` (owner's card and PIN), `accept` (the relative's card), `show`;
- the limits (the 4th transfer of a day, more than ¥2,000.00, the closed hours, a regional rule) refused with the
  rule named, exit 1, nothing changed;
- a settlement the relative's wallet pays: `settle --json` and the slip show it (医保钱包支付);
- a cross-province family (owner insured in Zhengzhou, relative in Chengdu) bound, transferring and settling at a
  Zhengzhou window with the insured place's (Chengdu's) policy.

Amounts are checked by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import ROOT
from window_centre_support import DEMO_BILL, Window, balc_fen, make_window

PIN = "123456"
OPEN_ALL_DAY = ('wallet_closed_from = "00:00"', 'wallet_closed_until = "00:00"')   # from == until: never closed


def _config(window: Window, *replacements: tuple[str, str], append: str = "") -> None:
    text = window.config.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    window.config.write_text(text + append, encoding="utf-8")


def _hours(closed_from: str, closed_until: str) -> tuple[tuple[str, str], tuple[str, str]]:
    return (('wallet_closed_from = "22:00"', f'wallet_closed_from = "{closed_from}"'),
            ('wallet_closed_until = "06:00"', f'wallet_closed_until = "{closed_until}"'))


def _open_window(home: Path, **kw) -> Window:
    window = make_window(home, **kw)
    _config(window, *_hours(*(line.split('"')[1] for line in OPEN_ALL_DAY)))
    return window


def transfer(window: Window, owner: str, to: str, amount: str, ok: bool = True) -> dict:
    return window.json("wallet", "transfer", "--reader", f"emulator:{owner}", "--to", to, "--amount", amount, ok=ok,
                       pin=PIN)


def refusal(window: Window, *args: str, lang: str = "en", pin: str | None = PIN) -> str:
    """A refused command as the cashier reads it: exit 1, one line on stderr, nothing on stdout."""
    done = window.run("--lang", lang, *args, pin=pin)
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == "" and "Traceback" not in done.stderr
    return done.stderr.strip()


def test_transfer_accept_show_and_the_wallet_pays_the_relatives_settlement(tmp_path):
    w = _open_window(tmp_path / "w")
    # the demo: 张伟 (A10000001, ¥3,560.00 in the export, ¥3,260.00 since he moved ¥300.00 into his sister 张敏's
    # wallet yesterday: transfer 1) has bound his daughter 张小雨 (A10000003, resident, no account)
    assert balc_fen(w, "A10000001") == 326_000
    one = transfer(w, "zhang_wei", "A10000003", "100")           # by card number
    assert one["transfer"]["state"] == "pending" and one["transfer"]["amount_fen"] == 10_000
    assert one["owner_balc_fen"] == 316_000 and one["transfers_left_today"] == 2      # 3,260.00 − 100.00
    two = transfer(w, "zhang_wei", "410105201206016927", "20.50")   # by ID number
    assert (two["owner_balc_fen"], two["transfers_left_today"]) == (313_950, 1)    # 3,160.00 − 20.50
    seen = w.json("wallet", "show", "--reader", "emulator:zhang_xiaoyu")
    assert seen["wallet_balc_fen"] == 0
    assert [(t["transfer_id"], t["state"], t["amount_fen"]) for t in seen["received"]] == \
        [(2, "pending", 10_000), (3, "pending", 2_050)]
    # the text a cashier reads: what waits, and how to take it
    text = w.run("wallet", "show", "--reader", "emulator:zhang_xiaoyu").stdout
    assert "待接收: #2 ¥100.00, #3 ¥20.50" in text and "cashier wallet accept --transfer ID" in text
    # she accepts both: ¥120.50 is hers
    assert w.json("wallet", "accept", "--reader", "emulator:zhang_xiaoyu", "--transfer", "2")["wallet_balc_fen"] \
        == 10_000
    assert w.json("wallet", "accept", "--reader", "emulator:zhang_xiaoyu", "--transfer", "3")["wallet_balc_fen"] \
        == 12_050
    # accepting again, or someone else's transfer: refused, named
    assert refusal(w, "wallet", "accept", "--reader", "emulator:zhang_xiaoyu", "--transfer", "2").startswith(
        "cashier: transfer 2 was accepted already")
    assert refusal(w, "wallet", "accept", "--reader", "emulator:zhang_wei", "--transfer", "3") == \
        "cashier: 张伟 has no transfer 3"
    owner = w.json("wallet", "show", "--reader", "emulator:zhang_wei")
    assert sorted((t["transfer_id"], t["state_name"]) for t in owner["made"]) == [(1, "已接收"), (2, "已接收"),
                                                                                   (3, "已接收")]
    assert owner["transfers_left_today"] == 1
    # her visit: the demo bill ¥108.40 = class A 60.00 + class B 32.80 + class C 15.60.
    # class B's 10 % first self-paid 3.28; in scope 108.40 − 15.60 − 3.28 = 89.52; resident outpatient 50 %:
    # fund 44.76; her part 108.40 − 44.76 = 63.64. No account of her own: her wallet pays 63.64 (before her
    # father's binding), ¥120.50 − 63.64 = 56.86 stays in it.
    s = w.settle("zhang_xiaoyu")
    assert (s["fund_pay_sumamt_fen"], s["psn_part_amt_fen"], s["acct_pay_fen"], s["acct_mulaid_pay_fen"],
            s["psn_cash_pay_fen"]) == (4476, 6364, 6364, 0, 0)
    assert (s["wallet_pay_fen"], s["wallet_balc_fen"], s["wallet_pay_label"]) == (6364, 5686, "医保钱包支付")
    assert s["mulaid"] == []
    assert [e["zh"] for e in s["explain"]] == ["医保钱包支付¥63.64:亲属此前转入、已属本人的资金,计入个人账户支出,不计入共济支付"]
    slip = Path(s["slip"]).read_text(encoding="utf-8")
    assert "其中医保钱包支付 wallet                    63.64" in slip
    assert "医保钱包余额 wallet balc                   56.86" in slip
    assert "- 医保钱包支付¥63.64:亲属此前转入" in slip
    assert balc_fen(w, "A10000001") == 313_950           # her father's account did not move
    # the next visit: the wallet's ¥56.86 first, then her father's account the rest, 63.64 − 56.86 = 6.78
    s2 = w.settle("zhang_xiaoyu")
    assert (s2["wallet_pay_fen"], s2["acct_mulaid_pay_fen"], s2["acct_pay_fen"], s2["wallet_balc_fen"]) == \
        (5686, 678, 6364, 0)
    assert [(m["owner_psn_no"], m["amount_fen"]) for m in s2["mulaid"]] == [("P10000001", 678)]
    assert balc_fen(w, "A10000001") == 313_950 - 678
    # reversed the same day: the wallet gets its ¥56.86 back, her father his ¥6.78
    rev = w.json("reverse", s2["setlinfo"]["setl_id"])
    assert (rev["wallet_pay_fen"], rev["wallet_balc_fen"]) == (-5686, 5686)
    assert balc_fen(w, "A10000001") == 313_950
    assert w.json("reconcile")["ok"] is True


def test_the_limits_and_a_regional_rule_refuse_with_the_rule_named_and_nothing_changes(tmp_path):
    w = _open_window(tmp_path / "w")
    # more than ¥2,000.00 in one transfer: refused, not counted
    assert refusal(w, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount",
                   "2000.01") == "cashier: one transfer may be at most ¥2,000.00, not ¥2,000.01"
    assert refusal(w, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount",
                   "2000.01", lang="zh") == "cashier: 单笔转账不能超过¥2,000.00(本次¥2,000.01)"
    for amount in ("2000.00", "1", "1"):
        transfer(w, "zhang_wei", "A10000003", amount)
    assert balc_fen(w, "A10000001") == 326_000 - 200_200
    # the 4th of the day
    assert refusal(w, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount",
                   "1", lang="zh") == "cashier: 每天最多转账3笔,今天已转3笔,请明天再试"
    assert balc_fen(w, "A10000001") == 326_000 - 200_200
    assert len(w.json("wallet", "show", "--reader", "emulator:zhang_wei")["made"]) == 1 + 3   # the demo's yesterday
    # a relative he has not bound (李娜): bind first
    fresh = _open_window(tmp_path / "fresh")
    assert refusal(fresh, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000002", "--amount",
                   "10", lang="zh") == "cashier: 张伟未绑定李娜,请先在医保经办窗口办理家庭共济绑定(`cashier bind`,需授权人社保卡和密码)"
    # in English the way on, not a transaction number
    unbound = refusal(fresh, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000002", "--amount",
                      "10")
    assert unbound == ("cashier: 张伟 has not bound 李娜: bind them at the insurance office first (`cashier bind`, "
                       "the owner's card and PIN)")
    assert "X102" not in unbound
    # a regional rule: where only the prior-year balance (历年结余) may be shared, this year's money may not go
    # into a wallet either (the demo account has no prior-year part)
    rule = tmp_path / "rule.jsonl"
    rule.write_text(json.dumps({"kind": "region_rule", "admdvs": "410100", "name": "郑州市",
                                "share_prior_year_only": True}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert fresh.run("centre", "import", str(rule)).returncode == 0
    assert refusal(fresh, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount",
                   "10", lang="zh") == "cashier: 郑州市(410100)规定只有历年结余可以共济,张伟的历年结余为¥0.00,不足¥10.00"
    assert balc_fen(fresh, "A10000001") == 326_000
    # usage: an amount that is not yuan, a PIN on the command line that is not digits
    bad = fresh.run("wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount", "1.005")
    assert bad.returncode == 2 and "is not an amount in yuan" in bad.stderr
    bad = fresh.run("wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount", "0")
    assert bad.returncode == 2 and "must be more than ¥0.00" in bad.stderr


def test_the_closed_hours_refuse_before_anything_moves(tmp_path):
    w = make_window(tmp_path / "w")
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    start, until = (now - dt.timedelta(hours=1)).strftime("%H:%M"), (now + dt.timedelta(hours=1)).strftime("%H:%M")
    _config(w, *_hours(start, until))
    said = refusal(w, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount", "10")
    assert said.startswith(f"cashier: no wallet transfers between {start} and {until} (it is ")
    assert said.endswith(f"try again from {until}")
    zh = refusal(w, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount", "10",
                 lang="zh")
    crosses_midnight = start > until
    assert zh.startswith(f"cashier: {start}至{'次日' if crosses_midnight else ''}{until}不能转账(现在")
    assert balc_fen(w, "A10000001") == 326_000
    shown = w.json("wallet", "show", "--reader", "emulator:zhang_wei")
    # only the demo's transfer of yesterday (to 张敏, accepted)
    assert shown["transfer_open_now"] is False and [(t["transfer_id"], t["state"]) for t in shown["made"]] == [
        (1, "accepted")]


# ------------------------------------------------------------------ a family across two provinces

# The cards are the emulator's 张伟 (A10000001) and 张敏 (B20000005); the export lines are this test's own: he is
# an employee insured in Zhengzhou (410100) with ¥2,000.00, his sister an employee insured in Chengdu (510100)
# with ¥10.00, not bound yet.
FAMILY = [
    {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
    {"kind": "region", "admdvs": "510100", "name": "成都市", "province": "四川省", "cross_province": True},
    {"kind": "person", "psn_no": "Q10000001", "certno": "410102197805126716", "psn_name": "张伟", "gend": "1",
     "naty": "01", "brdy": "1978-05-12", "card_no": "A10000001", "card_sn": "410100D156000005C38275EEFC9B1001",
     "insuplc_admdvs": "410100", "insutype": "310", "psn_insu_stas": "1"},
    {"kind": "person", "psn_no": "Q20000005", "certno": "410102198311307028", "psn_name": "张敏", "gend": "2",
     "naty": "01", "brdy": "1983-11-30", "card_no": "B20000005", "card_sn": "510100D156000005C38275EEFC9B1005",
     "insuplc_admdvs": "510100", "insutype": "310", "psn_insu_stas": "1"},
    {"kind": "account", "psn_no": "Q10000001", "balc": 200_000, "year": 2026},
    {"kind": "account", "psn_no": "Q20000005", "balc": 1_000, "year": 2026},
]
# Chengdu's employee outpatient rule (example figures, not Chengdu's real ones): ¥500.00 a year, 75 %, its own
# outpatient totals. The window's hospital is in Zhengzhou: its own rule is ¥1,000.00 a year, 70 %.
CHENGDU_RULE = """
[[policy.rule]]
admdvs = "510100"
insutype = "310"
med_type = "11"
hosp_lv = "*"
deductible = 50000
deductible_scope = "year"
ratio = "0.75"
annual_cap = 4000000
pool = "outpatient"
"""


def test_a_cross_province_family_binds_transfers_and_settles_with_the_insured_places_policy(tmp_path):
    w = make_window(tmp_path / "w", demo=False)
    _config(w, *_hours("00:00", "00:00"), append=CHENGDU_RULE)
    export = tmp_path / "family.jsonl"
    export.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in FAMILY), encoding="utf-8")
    for data in (export, ROOT / "centre" / "data" / "region_rules.jsonl",
                 ROOT / "centre" / "data" / "demo_catalogue.jsonl"):
        done = w.run("centre", "import", str(data))
        assert done.returncode == 0, done.stderr
    # he binds his sister at the window (his card and PIN): across provinces, no quota under the wallet model
    bound = w.run("bind", "--reader", "emulator:zhang_wei", "--user", "B20000005", "--relation", "70",
                  "--scope", "cross_province", pin=PIN)
    assert bound.returncode == 0, bound.stderr
    assert bound.stdout.splitlines() == [
        "bound across provinces: 张敏 (兄弟姐妹); 张伟's account does not pay for 张敏 directly: 张伟 transfers into "
        "张敏's insurance wallet (cashier wallet transfer)",
        "已跨省绑定张敏(兄弟姐妹):张伟的个人账户不直接支付张敏的费用,须通过医保钱包转账(cashier wallet transfer)"]
    # a cross-province binding pays nothing directly: the family lookup says so
    fam = w.json("family", "--card-no", "B20000005")
    assert [(r["owner_psn_no"], r["available_fen"]) for r in fam["relatives"]] == [("Q10000001", 0)]
    # ¥300.00 into her wallet (named by her ID number); she accepts it
    out = transfer(w, "zhang_wei", "410102198311307028", "300.00")
    assert out["owner_balc_fen"] == 170_000                       # 2,000.00 − 300.00
    # the limits read out as configured here: no closed hours at all
    assert out["limits"]["en"] == ("at most 3 transfers a day, at most ¥2,000.00 each, at any hour; a transfer not "
                                   "accepted returns to the owner's account at 06:00 the next day")
    assert "全天可转账" in out["limits"]["zh"]
    assert w.json("wallet", "accept", "--reader", "emulator:zhang_min", "--transfer",
                  str(out["transfer"]["transfer_id"]))["wallet_balc_fen"] == 30_000
    # her visit in Zhengzhou: 24 blood tests (class A) at ¥25.00 = ¥600.00, all in scope.
    # Chengdu's policy: deductible 500.00 (none used this year), then 75 % of 100.00 = 75.00 from the fund;
    # her part 600.00 − 75.00 = 525.00: her own account 10.00, her wallet 300.00, cash 215.00.
    # (Zhengzhou's own rule would have left it all under its ¥1,000.00 deductible: fund 0.00.)
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps({"med_type": "11", "items": [{"code": "L001", "name": "血常规检查", "category": "exam",
                                                             "class": "A", "qty": 24, "price": 2500}]}),
                    encoding="utf-8")
    s = w.settle("zhang_min", bill=bill)
    assert (s["medfee_sumamt_fen"], s["act_pay_dedc_fen"], s["fund_pay_sumamt_fen"], s["psn_part_amt_fen"],
            s["acct_pay_fen"], s["acct_mulaid_pay_fen"], s["psn_cash_pay_fen"]) == \
        (60_000, 50_000, 7_500, 52_500, 31_000, 0, 21_500)
    assert (s["own_acct_pay_fen"], s["wallet_pay_fen"], s["wallet_balc_fen"], s["balc_fen"]) == \
        (1_000, 30_000, 0, 0)
    info = s["setlinfo"]
    assert (info["ext_policy_admdvs"], info["ext_pool"]) == ("510100", "outpatient")
    assert [e["zh"] for e in s["explain"]] == [
        "按参保地(510100)政策结算:起付线、支付比例、年度限额按参保地规定,目录按就医地",
        "该政策门诊、住院分别累计起付线和年度限额,本次计入门诊累计",
        "医保钱包支付¥300.00:亲属此前转入、已属本人的资金,计入个人账户支出,不计入共济支付"]
    slip = Path(s["slip"]).read_text(encoding="utf-8")
    assert "- 按参保地(510100)政策结算" in slip and "其中医保钱包支付 wallet                   300.00" in slip
    assert balc_fen(w, "A10000001") == 170_000                     # his account did not move at her settlement
    assert w.json("reconcile")["ok"] is True


# ------------------------------------------------------------------ the cashier's screens

async def test_the_payment_and_result_screens_show_the_wallets_part(tmp_path, monkeypatch):
    from ui_pilot import enter_bill, insert, press, screen_text, type_text, window

    from terminal.config import load_config
    w = _open_window(tmp_path / "w")
    transfer(w, "zhang_wei", "A10000003", "100.00")
    w.json("wallet", "accept", "--reader", "emulator:zhang_xiaoyu", "--transfer", "2")   # the demo's is 1
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    monkeypatch.chdir(w.home)
    cfg = load_config(w.config)
    async with window(cfg) as (app, pilot):
        await insert(app, pilot, "zhang_xiaoyu")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [("X001", "阿莫西林胶囊", "A", "2", "125.50")])
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "PaymentScreen"
        # ¥251.00 class A, resident outpatient 50 %: the fund 125.50, her part 125.50: her wallet's ¥100.00
        # first, then her father's account 25.50
        assert app.screen.preview.wallet_pay == 10_000
        text = screen_text(app)
        assert "本人医保钱包" in text and "其中医保钱包支付" in text and "25.50" in text
        await type_text(app, pilot, PIN)
        await press(app, pilot, "enter")
        assert type(app.screen).__name__ == "ResultScreen", screen_text(app)
        shown = screen_text(app)
        assert "其中医保钱包支付 wallet" in shown and "医保钱包支付¥100.00:亲属此前转入" in shown
        # the amounts panel beside the slip shows the wallet's part as the payment screen did
        assert app.screen.query_one("#v-wallet_pay").display and app.screen.result.split.wallet_pay == 10_000
    assert balc_fen(w, "A10000001") == 326_000 - 10_000 - 2_550


def test_a_reprinted_slip_and_a_replayed_request_are_the_first_slip_with_the_wallets_part(tmp_path):
    """`cashier slip SETL_ID` and a retry of the same --request-id print what the first slip said, the wallet's
    part (医保钱包支付, its balance, the notes) included, word for word."""
    w = _open_window(tmp_path / "w")
    transfer(w, "zhang_wei", "A10000003", "100")
    w.json("wallet", "accept", "--reader", "emulator:zhang_xiaoyu", "--transfer", "2")   # the demo's is 1
    s = w.settle("zhang_xiaoyu", "--request-id", "visit-42")
    assert s["wallet_pay_fen"] == 6364                   # as in the first test: her share, from her wallet
    first = Path(s["slip"]).read_text(encoding="utf-8")
    assert "其中医保钱包支付 wallet" in first and "医保钱包余额 wallet balc" in first and "结算说明 notes:" in first
    setl_id = s["setlinfo"]["setl_id"]
    reprint = w.run("slip", setl_id)
    assert reprint.returncode == 0, reprint.stderr
    assert reprint.stdout == first + "\n"                # emit adds the line end
    again = w.run("settle", "--reader", "emulator:zhang_xiaoyu", "--bill", str(DEMO_BILL), "--request-id",
                  "visit-42", pin=PIN)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(first + "(a retry: the first result, nothing charged again)")
    replay = w.settle("zhang_xiaoyu", "--request-id", "visit-42")
    assert replay["replayed"] is True
    assert (replay["wallet_pay_fen"], replay["wallet_balc_fen"], replay["explain"]) == \
        (s["wallet_pay_fen"], s["wallet_balc_fen"], s["explain"])
    assert replay["acct_pay_fen"] == s["acct_pay_fen"] and replay["setlinfo"]["setl_id"] == setl_id


def test_cashier_family_shows_the_patients_wallet_beside_the_own_account(tmp_path):
    w = _open_window(tmp_path / "w")
    transfer(w, "zhang_wei", "A10000003", "100")
    w.json("wallet", "accept", "--reader", "emulator:zhang_xiaoyu", "--transfer", "2")   # the demo's is 1
    fam = w.json("family", "--card-no", "A10000003")
    assert fam["own"] is None and fam["wallet"] == {"balc": Decimal("100.00"), "balc_fen": 10_000}
    text = w.run("family", "--card-no", "A10000003").stdout
    assert "  own account: none\n  insurance wallet 医保钱包余额: 100.00 yuan\n" in text
    # her father: an account, an empty wallet
    assert w.json("family", "--card-no", "A10000001")["wallet"]["balc_fen"] == 0


async def test_the_patient_screen_shows_the_wallet_balance(tmp_path, monkeypatch):
    from ui_pilot import insert, screen_text, window

    from terminal.config import load_config
    w = _open_window(tmp_path / "w")
    transfer(w, "zhang_wei", "A10000003", "100.00")
    w.json("wallet", "accept", "--reader", "emulator:zhang_xiaoyu", "--transfer", "2")   # the demo's is 1
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    monkeypatch.chdir(w.home)
    async with window(load_config(w.config)) as (app, pilot):
        await insert(app, pilot, "zhang_xiaoyu")
        assert type(app.screen).__name__ == "PatientScreen"
        text = screen_text(app)
        assert "医保钱包余额" in text and "¥100.00" in text, text
        # her father's ¥3,160.00 (after the transfer) and her wallet's ¥100.00 may pay: ¥3,260.00 in all
        assert "¥3,260.00" in text, text


WAY_ZH = "跨省共济经医保钱包转账,张伟的账户不直接支付:可在医保经办窗口转入(cashier wallet transfer)"


async def test_a_cross_province_bindings_nought_is_explained_on_the_screens(tmp_path, monkeypatch):
    from ui_pilot import enter_bill, insert, press, screen_text, window

    from terminal.config import load_config
    w = _open_window(tmp_path / "w")
    # the demo's 张伟 (Zhengzhou) bound his sister 张敏 (Chengdu) with a quota from before the wallet: bound again
    # as the wallet model binds, without one
    for args in (("unbind",), ("bind", "--relation", "70", "--scope", "cross_province")):
        done = w.run(*args, "--reader", "emulator:zhang_wei", "--user", "B20000005", pin=PIN)
        assert done.returncode == 0, done.stderr
    import sqlite3
    with sqlite3.connect(w.home / "var" / "centre.db") as centre:   # in force on the screens' fixed day as well
        centre.execute("UPDATE bindings SET begin_date = '2026-11-01' WHERE user_psn_no = 'P20000005' AND "
                       "status = 'active'")
    fam = w.json("family", "--card-no", "B20000005")
    assert [(r["owner_name"], r["available_fen"], r["pays_by"]) for r in fam["relatives"]] == [("张伟", 0, "wallet")]
    assert "张伟: cross-province aid goes by wallet transfer, not the account: transfer at the insurance office " \
        "(cashier wallet transfer)" in w.run("family", "--card-no", "B20000005").stdout
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    monkeypatch.chdir(w.home)
    async with window(load_config(w.config)) as (app, pilot):
        await insert(app, pilot, "zhang_min")
        assert type(app.screen).__name__ == "PatientScreen"
        assert WAY_ZH in screen_text(app).replace("\n", "")
        await press(app, pilot, "f3")
        assert type(app.screen).__name__ == "BindingsScreen"
        assert WAY_ZH in screen_text(app).replace("\n", "")
        await press(app, pilot, "escape")
        await press(app, pilot, "f2")
        await enter_bill(app, pilot, [("X001", "阿莫西林胶囊", "A", "2", "125.50")])
        await press(app, pilot, "f5")
        assert type(app.screen).__name__ == "PaymentScreen"
        assert WAY_ZH in screen_text(app).replace("\n", "")
        # her brother's own list of bindings: not a ¥0.00 quota, the wallet
        for key in ("escape", "escape", "escape", "f9", "1"):
            await press(app, pilot, key)
        await press(app, pilot, "f3")
        assert type(app.screen).__name__ == "BindingsScreen", screen_text(app)
        shown = screen_text(app)
        assert "经医保钱包" in shown and "跨省绑定经医保钱包转账,不直接使用授权人的账户" in shown.replace("\n", ""), shown


def test_the_limits_are_checked_before_the_owners_pin_is_asked(tmp_path):
    """A transfer the rules refuse never reaches the PIN: with a wrong PIN the cashier still reads the rule that
    refuses (not "wrong PIN"), and the card's tries are not spent on it."""
    wrong = "654321"
    w = _open_window(tmp_path / "w")
    too_large = refusal(w, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount",
                        "2000.01", pin=wrong)
    assert too_large == "cashier: one transfer may be at most ¥2,000.00, not ¥2,000.01"
    unbound = refusal(w, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000002", "--amount",
                      "10", pin=wrong)
    assert unbound.startswith("cashier: 张伟 has not bound 李娜")
    for amount in ("1", "1", "1"):
        transfer(w, "zhang_wei", "A10000003", amount)
    fourth = refusal(w, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount", "1",
                     pin=wrong)
    assert fourth == "cashier: at most 3 transfers a day: 3 made today already; try again tomorrow"
    assert balc_fen(w, "A10000001") == 326_000 - 300
    # a transfer that can go through does ask for the PIN: a wrong one is refused as a wrong PIN
    closed = _open_window(tmp_path / "closed")
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    _config(closed, ('wallet_closed_from = "00:00"', f'wallet_closed_from = "{now - dt.timedelta(hours=1):%H:%M}"'),
            ('wallet_closed_until = "00:00"', f'wallet_closed_until = "{now + dt.timedelta(hours=1):%H:%M}"'))
    hours = refusal(closed, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount",
                    "10", pin=wrong)
    assert hours.startswith("cashier: no wallet transfers between ")
    assert balc_fen(closed, "A10000001") == 326_000
    fresh = _open_window(tmp_path / "fresh")
    said = refusal(fresh, "wallet", "transfer", "--reader", "emulator:zhang_wei", "--to", "A10000003", "--amount",
                   "10", pin=wrong)
    assert "PIN" in said, said
