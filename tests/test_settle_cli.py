"""`cashier settle | reverse | reconcile` end to end on the centre's client (the embedded centre): a centre export
and a policy that are not the repo's, bills worked out by hand in fen (docs/data-and-rules.md), over the in-process
emulator and once through pcscd + vpcd. `--json` speaks the national interface: amounts under national names are
yuan with two decimals (read exactly, as Decimal), so each hand-computed fen figure is checked as its yuan."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from settle_data import write_bill
from terminal.cli.main import main

# A policy of its own: class B 15% self-paid first; employees at level-3 hospitals 200.00 a year then 80%;
# everyone else 50.00 a visit then 55%, capped at 300.00 a year.
POLICY = '''[policy]
b_selfpay_ratio = "0.15"
[[policy.rule]]
insutype = "310"
med_type = "*"
hosp_lv = "3"
deductible = 20000
deductible_scope = "year"
ratio = "0.80"
annual_cap = 100000
[[policy.rule]]
insutype = "*"
med_type = "*"
hosp_lv = "*"
deductible = 5000
deductible_scope = "visit"
ratio = "0.55"
annual_cap = 30000

'''

EXPORT = [  # the cast's cards, other psn_no's and balances than the demo export
    {"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
    {"kind": "region", "admdvs": "110100", "name": "北京市", "province": "北京市", "cross_province": False},
    {"kind": "person", "psn_no": "Q1", "certno": "410102197805126716", "psn_name": "张伟", "gend": "1", "naty": "01",
     "brdy": "1978-05-12", "card_no": "A10000001", "card_sn": "410100D156000005C38275EEFC9B1001",
     "insuplc_admdvs": "410100", "insutype": "310", "psn_insu_stas": "1"},
    {"kind": "person", "psn_no": "Q2", "certno": "41010519800923682X", "psn_name": "李娜", "gend": "2", "naty": "01",
     "brdy": "1980-09-23", "card_no": "A10000002", "card_sn": "410100D156000005C38275EEFC9B1002",
     "insuplc_admdvs": "410100", "insutype": "310", "psn_insu_stas": "1"},
    {"kind": "person", "psn_no": "Q3", "certno": "410105201206016927", "psn_name": "张小雨", "gend": "2",
     "naty": "01", "brdy": "2012-06-01", "card_no": "A10000003", "card_sn": "410100D156000005C38275EEFC9B1003",
     "insuplc_admdvs": "410100", "insutype": "390", "psn_insu_stas": "1"},
    {"kind": "person", "psn_no": "Q9", "certno": "110105195212257322", "psn_name": "赵兰", "gend": "2", "naty": "01",
     "brdy": "1952-12-25", "card_no": "D40000009", "card_sn": "110100D156000005C38275EEFC9B1009",
     "insuplc_admdvs": "110100", "insutype": "390", "psn_insu_stas": "2"},
    {"kind": "account", "psn_no": "Q1", "balc": 50000},
    {"kind": "account", "psn_no": "Q2", "balc": 3000},
    {"kind": "binding", "owner_psn_no": "Q1", "user_psn_no": "Q3", "relation": "30", "scope": "local", "quota": 0,
     "begin_date": "2025-01-01"},
    {"kind": "binding", "owner_psn_no": "Q2", "user_psn_no": "Q3", "relation": "30", "scope": "local", "quota": 0,
     "begin_date": "2025-01-01"},
]
# A: 3 × 19.99 = 59.97; B: 2.5 × 123.45 = 308.625 -> 308.63; C: 7.77. Total 376.37.
ITEMS = [("A", 3, 1999), ("B", "2.5", 12345), ("C", 1, 777)]


@pytest.fixture
def window(tmp_path: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """A window with its own policy and export loaded; run(*args) -> (exit code, JSON)."""
    text = config_file.read_text(encoding="utf-8")
    text = re.sub(r"\[policy\].*?(?=\[web\])", POLICY, text, flags=re.S)
    text = text.replace('lang = "zh"', 'lang = "en"', 1)     # messages in English ([terminal].lang)
    config_file.write_text(text, encoding="utf-8")
    monkeypatch.delenv("CASHIER_CONFIG", raising=False)
    monkeypatch.delenv("CASHIER_DB", raising=False)
    export = tmp_path / "centre.jsonl"
    export.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in EXPORT), encoding="utf-8")
    bill = write_bill(tmp_path / "bill.json", "11", ITEMS)

    class Window:
        config, dir = config_file, tmp_path

        def __init__(self) -> None:
            self.bill = bill

        def run(self, *args: str) -> tuple[int, dict]:
            code = main(["--config", str(config_file), *args])
            captured = capsys.readouterr()
            self.err = captured.err
            return code, json.loads(captured.out, parse_float=Decimal) if captured.out.strip() else {}

        def set_slips_dir(self, path: Path) -> None:
            text = config_file.read_text(encoding="utf-8")
            text = re.sub(r'^slips_dir = "[^"]*"', f'slips_dir = "{path}"', text, count=1, flags=re.M)
            config_file.write_text(text, encoding="utf-8")

    return Window()


@pytest.fixture
def cli(window):
    assert window.run("db", "init", "--json")[0] == 0
    code, out = window.run("db", "import", str(window.dir / "centre.jsonl"), "--json")
    assert code == 0, out
    return window


def settle(cli, *extra: str) -> tuple[int, dict]:
    return cli.run("settle", "--bill", str(cli.bill), "--json", *extra)


def yuan(fen: int) -> Decimal:
    """A hand-computed fen figure as the interface writes it: exact yuan (37637 -> 376.37)."""
    return Decimal(fen).scaleb(-2)


def info(out: dict) -> dict:
    """The national fields of a settlement or reversal (setlinfo, yuan)."""
    return out["setlinfo"]


def day(cli, *extra: str) -> tuple[int, dict, int, int]:
    """`cashier reconcile` (3201): (exit code, report, the window's net count, the centre's) over every
    insurance type of the day."""
    code, rec = cli.run("reconcile", "--json", *extra)
    return (code, rec, sum(r["count"] for r in rec["insutypes"]),
            sum(r["centre_count"] or 0 for r in rec["insutypes"]))


def day_fen(rec: dict, field: str, side: str = "window") -> int:
    """A day total over every insurance type in fen, as the window recorded it or as the centre answered."""
    rows = rec["insutypes"]
    return sum((r[f"{field}_fen"] if side == "window" else r["centre"][f"{field}_fen"]) for r in rows)


def test_settle_own_account_amounts_by_hand(cli):
    code, out = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456")
    assert code == 0, out
    # B self-pay: 30863 × 0.15 = 4629.45 -> 4629; in scope 37637 − 777 − 4629 = 32231;
    # year deductible 20000; fund (32231 − 20000) × 0.80 = 9784.8 -> 9785; individual 27852, all from his account
    assert {k: info(out)[k] for k in ("medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt",
                                      "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt", "acct_pay",
                                      "acct_mulaid_pay", "psn_cash_pay", "balc")} == {
        "medfee_sumamt": yuan(37637), "fulamt_ownpay_amt": yuan(777), "preselfpay_amt": yuan(4629),
        "inscp_scp_amt": yuan(32231), "act_pay_dedc": yuan(20000), "fund_pay_sumamt": yuan(9785),
        "psn_part_amt": yuan(27852), "acct_pay": yuan(27852), "acct_mulaid_pay": 0, "psn_cash_pay": 0,
        "balc": yuan(22148)}
    assert info(out)["medfee_sumamt"] == Decimal("376.37") and info(out)["balc"] == Decimal("221.48")
    assert info(out)["setl_id"] and out["mulaid"] == [] and info(out)["certno"] == "410102********6716"
    slip = Path(out["slip"]).read_text(encoding="utf-8")
    assert "376.37" in slip and "97.85" in slip and "410102********6716" in slip
    # the codes' Chinese names come from their one table (centre.interface.codes)
    assert "险种 insutype: 310 职工基本医疗保险" in slip and "医疗类别 med_type: 11 普通门诊" in slip, slip


def test_pre_writes_nothing_and_matches_the_settlement(cli):
    code, pre = settle(cli, "--reader", "emulator:zhang_xiaoyu", "--pre")
    assert code == 0 and pre["pre"] is True and pre["setl_id"] is None
    assert day(cli)[2:] == (0, 0)                                   # neither the window nor the centre has one
    code, done = settle(cli, "--reader", "emulator:zhang_xiaoyu", "--pin", "123456")
    assert code == 0 and pre["psn_part_amt"] == yuan(22660)        # worked out in the next test
    for key in ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay"):
        assert pre[key] == info(done)[key], key


def test_relatives_order_none_and_no_account(cli):
    # resident: visit deductible 5000; fund (32231 − 5000) × 0.55 = 14977.05 -> 14977; individual 22660
    code, out = settle(cli, "--reader", "emulator:zhang_xiaoyu", "--pin", "123456", "--relatives", "Q2,Q1")
    assert code == 0, out
    assert (info(out)["fund_pay_sumamt"], info(out)["psn_part_amt"], info(out)["acct_mulaid_pay"],
            info(out)["psn_cash_pay"]) == (yuan(14977), yuan(22660), yuan(22660), 0)
    # 李娜's whole 30.00 first, then 张伟 the rest: 22660 − 3000 = 19660
    assert [(m["owner_psn_no"], m["amount"], m["amount_fen"]) for m in out["mulaid"]] == [
        ("Q2", Decimal("30.00"), 3000), ("Q1", Decimal("196.60"), 19660)]
    code, none = settle(cli, "--reader", "emulator:zhang_xiaoyu", "--relatives", "none")
    assert code == 0 and (info(none)["acct_pay"], info(none)["psn_cash_pay"]) == (0, yuan(22660))
    code, cash = settle(cli, "--reader", "emulator:zhang_wei", "--no-account")
    # 张伟's account (500.00 − 196.60 lent = 303.40) is not touched: all 278.52 in cash
    assert code == 0 and (info(cash)["acct_pay"], info(cash)["psn_cash_pay"], info(cash)["balc"]) == \
        (0, yuan(27852), yuan(50000 - 19660))
    code, err = settle(cli, "--reader", "emulator:zhang_xiaoyu", "--pin", "123456", "--relatives", "Q9")
    assert code == 1 and err["error"]["code"] == "no_binding"


def test_retry_same_request_id_then_reverse_then_reconcile(cli):
    code, first = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456", "--request-id", "R-42")
    code, again = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456", "--request-id", "R-42")
    setl_id = info(first)["setl_id"]
    assert code == 0 and again["replayed"] and info(again)["setl_id"] == setl_id
    assert info(again)["balc"] == yuan(22148)                       # charged once: 50000 − 27852
    code, rec, count, centre_count = day(cli)
    assert code == 0 and rec["ok"] and (count, centre_count) == (1, 1)
    assert day_fen(rec, "acct_pay") == day_fen(rec, "acct_pay", "centre") == 27852
    code, rev = cli.run("reverse", setl_id, "--json")
    assert code == 0 and info(rev)["ext_status"] == "reversal" and info(rev)["ext_reversal_of"] == setl_id
    assert info(rev)["acct_pay"] == -yuan(27852) and info(rev)["balc"] == yuan(50000)
    code, err = cli.run("reverse", setl_id, "--json")
    assert code == 1 and err["error"]["code"] == "already_reversed"
    # the settlement and its reversal: a net count of 0 and nothing in the totals, on both sides
    code, rec, count, centre_count = day(cli, "--window", "W01")
    assert code == 0 and rec["ok"] and rec["window"] == "W01" and (count, centre_count) == (0, 0)
    assert day_fen(rec, "medfee_sumamt") == day_fen(rec, "medfee_sumamt", "centre") == 0
    assert [r["insutype"] for r in rec["insutypes"]] == ["310"]    # the day had a 310 settlement


def test_reconcile_mismatch_exits_1(cli):
    """The centre's record of the settlement edited behind the window's back (its append-only guard dropped):
    3201 disagrees on acct_pay, reconcile exits 1 and names the field and both sides."""
    code, out = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456")
    assert code == 0 and day(cli)[0] == 0
    db = sqlite3.connect(cli.dir / "var" / "centre.db")           # [centre] db of the shipped config
    db.execute("DROP TRIGGER settlements_no_update")
    # the account paid 0.01 and the cash the rest: its own checks still hold (medfee = fund + account + cash)
    assert db.execute("UPDATE settlements SET acct_pay = 1, own_acct_pay = 1, psn_cash_pay = psn_cash_pay + "
                      "acct_pay - 1 WHERE setl_id = ?", [info(out)["setl_id"]]).rowcount == 1
    db.commit()
    db.close()
    code, rec, count, centre_count = day(cli)
    assert code == 1 and rec["ok"] is False and (count, centre_count) == (1, 1)
    [row] = rec["insutypes"]
    assert row["insutype"] == "310" and row["stmt_rslt"] == "1"
    assert row["acct_pay_fen"] == 27852 and row["centre"]["acct_pay_fen"] == 1
    assert "个人账户支出(acct_pay): 医药机构278.52, 医保中心0.01" in row["stmt_rslt_dscr"]
    assert "RECONCILIATION MISMATCH: insutype 310:" in cli.err


@pytest.mark.parametrize("args, code_name", [
    (("--reader", "emulator:zhang_wei", "--pin", "000000"), "pin_wrong"),
    (("--reader", "emulator:zhao_lan", "--pin", "123456"), "insurance_inactive"),
    (("--reader", "emulator:liu_yang", "--pin", "123456"), None),   # not in this export
])
def test_refusals_write_nothing(cli, args, code_name):
    code, err = settle(cli, *args)
    assert code == 1
    if code_name:
        assert err["error"]["code"] == code_name
    assert day(cli)[2:] == (0, 0)


def test_bad_bill_is_named(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"med_type":"11","items":[{"code":"X1","class":"A","qty":1,"price":100},'
                   '{"code":"X2","class":"A","qty":-1,"price":100}]}', encoding="utf-8")
    code, err = cli.run("settle", "--reader", "emulator:zhang_wei", "--bill", str(bad), "--json")
    assert code == 1 and err["error"] == {"code": "bad_bill", "message": "item 2 (X2): qty must be > 0 (got -1)"}

@pytest.mark.parametrize("date", ["29/11/2026", "yesterday", "2026-13-01", "2026-02-30", "2026-1-05", " 2026-11-29"])
def test_reconcile_date_is_strict_a_usage_error(cli, date):
    code, err = cli.run("reconcile", "--date", date, "--json")
    assert code == 2 and err["error"]["code"] == "bad_date" and "YYYY-MM-DD" in err["error"]["message"]


def test_reconcile_a_real_past_date(cli):
    code, rec, count, centre_count = day(cli, "--date", "2024-02-29")
    assert code == 0 and rec["ok"] and (count, centre_count) == (0, 0) and rec["date"] == "2024-02-29"
    assert rec["insutypes"] == []


@pytest.mark.parametrize("pin", ["12ab56", "123", "12345678901234567", "", "１２３４５６"])
def test_a_malformed_pin_is_a_usage_error_before_the_card_is_touched(cli, pin):
    for extra in ((), ("--no-account",)):       # refused even when no account would need it
        code, err = settle(cli, "--reader", "emulator:zhang_wei", "--pin", pin, *extra)
        assert code == 2 and err["error"]["code"] == "pin_invalid" and "4" in err["error"]["message"], err
    assert day(cli)[2:] == (0, 0)


def test_the_installed_command(cli):
    """The real `cashier` entry point in a subprocess: text mode prints the slip."""
    exe = Path(sys.executable).with_name("cashier")
    proc = subprocess.run([str(exe), "--config", str(cli.config), "settle", "--reader", "emulator:zhang_wei",
                           "--pin", "123456", "--bill", str(cli.bill)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "医保结算单" in proc.stdout and "278.52" in proc.stdout and "410102197805126716" not in proc.stdout


@pytest.mark.pcsc
def test_settle_through_pcsc(cli, pcsc_reader_factory):
    reader = pcsc_reader_factory("zhang_xiaoyu")
    code, out = settle(cli, "--reader", f"pcsc:{reader.name}", "--pin", "123456", "--relatives", "Q2,Q1")
    assert code == 0, out
    assert (info(out)["medfee_sumamt"], info(out)["fund_pay_sumamt"], info(out)["psn_part_amt"],
            info(out)["acct_mulaid_pay"], info(out)["psn_cash_pay"]) == \
        (yuan(37637), yuan(14977), yuan(22660), yuan(22660), 0)
    assert [(m["owner_psn_no"], m["amount_fen"]) for m in out["mulaid"]] == [("Q2", 3000), ("Q1", 19660)]
    code, wrong = settle(cli, "--reader", f"pcsc:{reader.name}", "--pin", "999999")
    assert code == 1 and wrong["error"]["code"] == "pin_wrong"
    assert day(cli)[2:] == (1, 1)


def test_settle_through_a_serial_terminal_with_the_pin_on_its_keypad(cli, state_dir, tmp_path):
    from serial_support import terminal_with
    with terminal_with("zhang_wei", state_dir, tmp_path, keypad=["123456"]) as term:
        code, out = settle(cli, "--reader", f"serial:{term.path}")        # no --pin: typed on the keypad
    assert code == 0, out
    assert (info(out)["medfee_sumamt"], info(out)["fund_pay_sumamt"], info(out)["acct_pay"], info(out)["balc"]) == \
        (yuan(37637), yuan(9785), yuan(27852), yuan(22148))


def test_a_reused_request_id_with_another_bill_is_refused(cli):
    bill2 = write_bill(cli.dir / "bill2.json", "11", [("A", 1, 1000)])
    bill3 = write_bill(cli.dir / "bill3.json", "11", [("A", 1, 2000)])
    code, first = cli.run("settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", str(bill2),
                          "--request-id", "S2", "--json")
    assert code == 0 and not first["replayed"]
    code, err = cli.run("settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", str(bill3),
                        "--request-id", "S2", "--json")
    assert code == 1 and err["error"]["code"] == "request_id_conflict" and "S2" in err["error"]["message"]
    code, err = cli.run("settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", str(bill2),
                        "--request-id", "S2", "--no-account", "--json")
    assert code == 1 and err["error"]["code"] == "request_id_conflict"
    code, again = cli.run("settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", str(bill2),
                          "--request-id", "S2", "--json")
    assert code == 0 and again["replayed"] and info(again)["setl_id"] == info(first)["setl_id"]
    code, rec, count, centre_count = day(cli)
    assert rec["ok"] and (count, centre_count) == (1, 1)
    assert day_fen(rec, "medfee_sumamt") == day_fen(rec, "medfee_sumamt", "centre") == 1000


def test_bill_numbers_and_absurd_amount_limits_from_the_config(cli):
    quoted = cli.dir / "quoted.json"
    quoted.write_text('{"med_type":"11","items":[{"code":"X1","class":"A","qty":"1.5","price":100}]}', encoding="utf-8")
    code, err = cli.run("settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", str(quoted), "--json")
    assert code == 1 and err["error"]["code"] == "bad_bill"
    assert err["error"]["message"].startswith("item 1 (X1): qty must be a JSON number, not the string '1.5'")
    car_t = write_bill(cli.dir / "car_t.json", "21", [("C", 1, 150_000_000)])      # 1,500,000.00 yuan a unit
    code, err = cli.run("settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", str(car_t), "--json")
    assert code == 1 and err["error"]["code"] == "bad_bill" and "above the limit of ¥1,000,000.00" in err["error"]["message"]
    text = cli.config.read_text(encoding="utf-8")
    cli.config.write_text(text.replace("[policy]\n", "[policy]\nmax_item_price = 200000000\n", 1), encoding="utf-8")
    code, out = cli.run("settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", str(car_t), "--json")
    assert code == 0, out
    # class C: all self-paid; his whole account (500.00) pays, the rest in cash: 150000000 − 50000 = 149950000
    assert (info(out)["medfee_sumamt"], info(out)["acct_pay"], info(out)["psn_cash_pay"]) == \
        (Decimal("1500000.00"), yuan(50000), Decimal("1499500.00"))
    cli.config.write_text(text.replace("[policy]\n", "[policy]\nmax_bill_total = 100000\n", 1), encoding="utf-8")
    code, err = cli.run("settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--json", "--bill",
                        str(write_bill(cli.dir / "b.json", "11", [("A", 1, 100001)])))
    assert code == 1 and "above the limit of ¥1,000.00" in err["error"]["message"]
    assert day(cli)[2:] == (1, 1)


def balance(cli, card_no: str) -> int:
    """The card holder's own account balance in fen, as the centre answers `cashier family` (X101)."""
    code, fam = cli.run("family", "--card-no", card_no, "--json")
    assert code == 0 and fam["cached"] is False, fam
    assert fam["own"]["balc"] == yuan(fam["own"]["balc_fen"])
    return fam["own"]["balc_fen"]


def test_a_slip_that_cannot_be_saved_never_fails_a_committed_settlement(cli, tmp_path):
    """slips_dir is a file: the settlement is done (exit 0, a warning), a retry charges nothing, and once the
    folder is right a retry writes the missing slip; `cashier slip` prints or saves it any time."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    cli.set_slips_dir(blocker)
    before = balance(cli, "A10000001")
    code, out = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456", "--request-id", "R-slip")
    assert code == 0, out
    setl_id = info(out)["setl_id"]
    assert setl_id and info(out)["acct_pay"] == yuan(27852) and out["slip"] is None
    assert out["warning"]["code"] == "slip_not_saved" and f"cashier slip {setl_id}" in out["warning"]["message"]
    assert "cashier: warning:" in cli.err and "is done" in cli.err and str(blocker) in cli.err
    assert balance(cli, "A10000001") == before - 27852
    code, again = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456", "--request-id", "R-slip")
    assert code == 0 and again["replayed"] and info(again)["setl_id"] == setl_id and again["warning"]
    assert balance(cli, "A10000001") == before - 27852                       # charged once
    slips = tmp_path / "slips"
    cli.set_slips_dir(slips)
    code, third = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456", "--request-id", "R-slip")
    assert code == 0 and third["replayed"] and "warning" not in third
    assert third["slip"] == str(slips / f"{setl_id}.txt") and "376.37" in Path(third["slip"]).read_text()
    assert balance(cli, "A10000001") == before - 27852
    code, printed = cli.run("slip", setl_id, "--json")
    assert code == 0 and printed["slip"] == Path(third["slip"]).read_text(encoding="utf-8")
    code, saved = cli.run("slip", setl_id, "--out", str(tmp_path), "--json")
    assert code == 0 and Path(saved["saved"]) == tmp_path / f"{setl_id}.txt"
    assert Path(saved["saved"]).read_text(encoding="utf-8") == printed["slip"]
    code, err = cli.run("slip", "S-NO-SUCH", "--json")
    assert code == 1 and err["error"]["code"] == "unknown_settlement"
    code, err = cli.run("slip", setl_id, "--out", str(blocker / "x.txt"), "--json")
    assert code == 1 and err["error"]["code"] == "slip_not_saved"
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_reversal_whose_slip_cannot_be_saved_is_done_and_cannot_be_done_twice(cli, tmp_path):
    code, first = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456")
    setl_id = info(first)["setl_id"]
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    cli.set_slips_dir(blocker)
    code, rev = cli.run("reverse", setl_id, "--json")
    assert code == 0 and info(rev)["ext_status"] == "reversal" and info(rev)["balc"] == yuan(50000)
    assert rev["warning"]["code"] == "slip_not_saved" and "reversal" in rev["warning"]["message"]
    assert balance(cli, "A10000001") == 50000
    code, err = cli.run("reverse", setl_id, "--json")
    assert code == 1 and err["error"]["code"] == "already_reversed"
    assert err["error"]["message"].endswith("was already reversed: it cannot be reversed again")
    code, err = cli.run("--lang", "zh", "reverse", setl_id, "--json")
    assert "已冲正,不能再次冲正" in err["error"]["message"]
    code, slip = cli.run("slip", info(rev)["setl_id"], "--json")
    assert code == 0 and "医保结算冲正单" in slip["slip"] and setl_id in slip["slip"]


def test_a_crash_leftover_is_cleared_and_no_temp_file_stays(cli):
    """A temp file a killed writer left beside the slips goes at the next save; a young one (another
    writer's, still at work) stays; the save itself leaves no temp file."""
    import os
    import time
    slips = cli.dir / "var" / "slips"
    slips.mkdir(parents=True, exist_ok=True)
    stale = slips / ".S20260101000000.txt.k1l2m3.tmp"
    stale.write_text("half a slip", encoding="utf-8")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    young = slips / ".S20260101000001.txt.a1b2c3.tmp"
    young.write_text("being written", encoding="utf-8")
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(cli.dir / "config.toml"),
                           "settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", str(cli.bill),
                           "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists() and young.exists()
    setl_id = json.loads(proc.stdout)["setlinfo"]["setl_id"]
    assert sorted(p.name for p in slips.iterdir()) == sorted([young.name, setl_id + ".txt"])


def test_a_full_disk_while_writing_the_slip(cli, tmp_path):
    """The slips folder on a full file system (a 4 KiB tmpfs, in a mount namespace of its own): exit 0, the
    settlement made once, a warning, and no temp file left."""
    import shutil
    import subprocess
    import sys
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
        pytest.skip("needs unshare -rm (user and mount namespaces) to mount a small tmpfs")
    full = tmp_path / "full"
    full.mkdir()
    cli.set_slips_dir(full)
    script = (f"mount -t tmpfs -o size=4k tmpfs {full} && head -c 1048576 /dev/zero > {full}/filler 2>/dev/null; "
              f"{sys.executable} -m terminal.cli.main --config {cli.dir / 'config.toml'} settle --reader "
              f"emulator:zhang_wei --pin 123456 --bill {cli.bill} --request-id R-full --json; echo rc=$?; "
              f"ls -A {full}")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    lines = proc.stdout.strip().splitlines()
    out = json.loads(lines[0], parse_float=Decimal)
    assert lines[1] == "rc=0", proc.stderr
    assert info(out)["acct_pay"] == yuan(27852) and out["warning"]["code"] == "slip_not_saved", out
    assert "No space left on device" in out["warning"]["message"]
    assert lines[2:] == ["filler"]                                # no temp file left behind
    assert balance(cli, "A10000001") == 50000 - 27852
    code, again = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456", "--request-id", "R-full")
    assert code == 0 and again["replayed"] and balance(cli, "A10000001") == 50000 - 27852
    assert Path(again["slip"]).parent == full and Path(again["slip"]).is_file()   # now written


def test_the_pin_from_stdin_or_the_environment(cli, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("123456\n"))
    code, out = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "-")
    assert code == 0 and info(out)["acct_pay"] == yuan(27852), out
    monkeypatch.setenv("CASHIER_PIN", "000000")
    code, err = settle(cli, "--reader", "emulator:zhang_wei")                 # the environment's (wrong) PIN
    assert code == 1 and err["error"]["code"] == "pin_wrong"
    monkeypatch.setattr("sys.stdin", io.StringIO("123456\n"))
    code, out = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "-")   # '-' wins over the environment
    # the year's deductible is met: fund 32231 × 0.80 = 25784.8 -> 25785; individual 37637 − 25785 = 11852
    assert code == 0 and info(out)["acct_pay"] == yuan(11852) and info(out)["balc"] == yuan(50000 - 27852 - 11852)


def test_a_missing_bill_or_profile_is_a_usage_error(cli, tmp_path):
    for bill in (tmp_path / "no-such.json", tmp_path):
        code, err = cli.run("settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", str(bill),
                            "--json")
        assert code == 2 and err["error"]["code"] == "file_missing" and str(bill) in err["error"]["message"]
    code, err = cli.run("settle", "--reader", "emulator:/no/such.json", "--pin", "123456", "--bill",
                        str(cli.bill), "--json")
    assert code == 2 and err["error"]["code"] == "unknown_profile"
    assert day(cli)[2:] == (0, 0)


def test_family_by_psn_no_asks_the_centre_with_the_insured_place(cli):
    """`cashier family --psn-no`: the centre wants the insured place with every psn_no (insuplc_admdvs); the
    window takes it from its cache (filled by `cashier db import`), so the lookup by psn_no answers like the one
    by card, with the balance after a settlement."""
    code, out = settle(cli, "--reader", "emulator:zhang_wei", "--pin", "123456")
    assert code == 0, out
    code, by_psn = cli.run("family", "--psn-no", "Q1", "--json")
    assert code == 0, by_psn
    code, by_card = cli.run("family", "--card-no", "A10000001", "--json")
    assert by_psn == by_card and by_psn["baseinfo"]["psn_no"] == "Q1" and by_psn["cached"] is False
    assert by_psn["own"] == {"balc": yuan(22148), "balc_fen": 22148}          # 50000 − 27852
    code, err = cli.run("family", "--psn-no", "Q404", "--json")
    assert code == 1 and err["error"]["code"] == "person_unknown", err
