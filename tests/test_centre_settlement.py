"""The settlement figures the window's retired training ledger was tested with, now with the centre as the only
writer: the same family, the same bills, the same amounts (in fen here, as the originals), reached
through the interface — in-process and over HTTP — and the books checked against the ledger after each."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from centre.api import open_centre
from centre.store.money import drifts
from centre_flow import D, His, counts_of, family_lines, money_of
from centre_http_support import open_transport, prepare_db
from pg_stack import TRANSPORTS, Databases, split_transport
from settle_data import BINDINGS, PEOPLE

ZHANG_WEI, LI_NA, XIAOYU, GUOQIANG, ZHANG_MIN, WANG_FANG, LIU_YANG, ZHAO_LAN = (
    "P10000001", "P10000002", "P10000003", "P10000004", "P20000005", "P30000006", "P40000008", "P40000009")
INSUTYPE = {p[0]: p[5] for p in PEOPLE}
CARD_NO = {p[0]: p[3] for p in PEOPLE}
A, A_BIG, B, C = "XA01", "XA02", "XB02", "XC01"     # class A; class B at the policy's 0.10; class C


FIELDS = ("medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc", "fund_pay_sumamt",
          "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "balc")


def fen(s: dict[str, Any], *fields: str) -> tuple[int, ...]:
    """Amounts of a setlinfo in fen (exact: the answer's yuan are Decimal)."""
    out = []
    for f in fields:
        value = s[f] * 100
        assert value == value.to_integral_value(), (f, s[f])
        out.append(int(value))
    return tuple(out)


class Window(His):
    """A window whose patients are settle_data's family (cards by psn_no), items (code, cnt, pric)."""

    def identify(self, psn_no: str) -> dict[str, Any]:
        out = self.ok("X105", {"data": {"card_no": CARD_NO[psn_no]}})
        self.insuplc = out["insuinfo"][0]["insuplc_admdvs"]
        return out

    def bill(self, psn_no: str, *items: tuple[str, str, str], **options: Any) -> dict[str, Any]:
        return self.visit(psn_no, INSUTYPE[psn_no], list(items), **options)

    def reverse(self, s: dict[str, Any]) -> dict[str, Any]:
        self.identify(s["psn_no"])
        return self.ok("2208", {"data": {"setl_id": s["setl_id"], "mdtrt_id": s["mdtrt_id"], "psn_no": s["psn_no"]}}
                       )["setlinfo"]


@pytest.fixture
def raw_config(config_file) -> dict[str, Any]:
    return tomllib.loads(config_file.read_text(encoding="utf-8"))


@pytest.fixture(params=TRANSPORTS)
def family(request, tmp_path, config_file, raw_config):
    """family() -> (window, transport) on a fresh centre holding settle_data's family; the books are checked after."""
    made = []
    transport, store = split_transport(request.param)
    databases = Databases(request, store, tmp_path)

    def make():
        t = open_transport(transport, config_file, tomllib.loads(config_file.read_text(encoding="utf-8")),
                           databases.new(f"family{len(made)}"), family_lines())
        made.append(t)
        w = Window(t.call)
        w.sign_in()
        return w, t
    yield make
    for t in made:
        assert drifts(t.db()) == []
        t.close()
        if t.server is not None:
            assert "Traceback" not in t.server.stderr()
    databases.close()


def test_own_account_and_the_year_deductible(family):
    w, t = family()
    r = w.bill(WANG_FANG, (A, "2", "12.50"))
    # 310 outpatient, year deductible 1000.00 not met: everything individual-borne, from her account
    assert fen(r, "medfee_sumamt", "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt") == (2500, 2500, 0, 2500)
    assert fen(r, "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "balc") == (2500, 0, 0, 77500)
    assert r["ext_mulaid"] == [] and money_of(t.db())[WANG_FANG] == 77500
    # the deductible carries across visits: 900.00 first, then 300.00 of which 100.00 deductible, 70 % of 200.00
    first = w.bill(ZHANG_WEI, (A_BIG, "1", "900.00"))
    assert fen(first, "act_pay_dedc", "fund_pay_sumamt") == (90000, 0)
    second = w.bill(ZHANG_WEI, (A_BIG, "1", "300.00"))
    assert fen(second, "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt", "acct_pay") == (10000, 14000, 16000, 16000)
    assert fen(second, "balc") == (200000 - 90000 - 16000,)
    # 990.00 of the deductible used, then 25.00: 10.00 deductible, (25.00 − 10.00) × 0.70 = 10.50 (刘洋)
    w.bill(LIU_YANG, (A_BIG, "1", "990.00"))
    r = w.bill(LIU_YANG, (A, "2", "12.50"))
    assert fen(r, "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt") == (1000, 1050, 1450)
    r = w.bill(LIU_YANG, (A, "2", "12.50"))                      # met: 70 % of everything
    assert fen(r, "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt") == (0, 1750, 750)
    year = int(r["setl_time"][:4])
    assert t.db().one("SELECT deductible_used, fund_paid FROM accumulators WHERE psn_no = ? AND year = ?",
                      [LIU_YANG, year]) == (100000, 2800)


def test_relatives_in_the_chosen_order_and_a_cross_province_quota(family):
    w, t = family()
    r = w.bill(XIAOYU, (C, "1", "80.00"), owners=[LI_NA, ZHANG_WEI])       # class C: 80.00 fully self-paid
    assert fen(r, "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "balc") == (8000, 8000, 8000, 0, 0)
    assert [(m["owner_psn_no"], m["amount"]) for m in r["ext_mulaid"]] == [(LI_NA, D("50.00")), (ZHANG_WEI, D("30.00"))]
    assert money_of(t.db())[LI_NA] == 0 and money_of(t.db())[ZHANG_WEI] == 197000
    r2 = w.bill(XIAOYU, (C, "1", "80.00"), owners=[ZHANG_WEI, LI_NA])
    assert [(m["owner_psn_no"], m["amount"]) for m in r2["ext_mulaid"]] == [(ZHANG_WEI, D("80.00"))]
    assert t.db().all("SELECT account, source, psn_no, binding_id, amount FROM ledger WHERE setl_id = ? ORDER BY id",
                      [r["setl_id"]]) == [("binding", "balc", LI_NA, 2, 5000), ("binding", "balc", ZHANG_WEI, 1, 3000),
                                          ("fund", None, XIAOYU, None, 0), ("cash", None, XIAOYU, None, 0)]
    # an owner with no binding to her is refused, nothing written
    w.identify(XIAOYU)
    mdtrt_id = w.register(XIAOYU, "390")
    w.upload(mdtrt_id, XIAOYU, [(C, "1", "80.00")])
    before = (money_of(t.db()), counts_of(t.db()))
    answer = w.call("2206", {"data": w.settle_data(mdtrt_id, XIAOYU, "390", D("80.00"), owners=[LIU_YANG])})
    assert answer["infcode"] == -1 and answer["ext_err_code"] == "no_binding" and LIU_YANG in answer["err_msg"]
    assert (money_of(t.db()), counts_of(t.db())) == before
    # 张敏's cross-province binding pays from its quota (300.00), not from 张伟's balance; the rest is cash
    r3 = w.bill(ZHANG_MIN, (C, "1", "400.00"))
    assert fen(r3, "acct_mulaid_pay", "psn_cash_pay") == (30000, 10000)
    assert [(m["owner_psn_no"], m["binding_id"], m["scope"], m["amount"]) for m in r3["ext_mulaid"]] == \
        [(ZHANG_WEI, 4, "cross_province", D("300.00"))]
    after = money_of(t.db())
    assert after["q4"] == 0 and after[ZHANG_WEI] == 197000 - 8000


def test_every_binding_in_registration_order_when_none_is_chosen(family):
    w, t = family()
    r = w.bill(XIAOYU, (C, "1", "2060.00"))
    assert fen(r, "acct_mulaid_pay", "psn_cash_pay") == (205000, 1000)
    assert [(m["owner_psn_no"], m["amount"]) for m in r["ext_mulaid"]] == \
        [(ZHANG_WEI, D("2000.00")), (LI_NA, D("50.00"))]                # binding 1 was registered before binding 2


def test_nothing_from_any_account_when_none_may_pay(family):
    w, t = family()
    before = money_of(t.db())
    r = w.bill(GUOQIANG, (A, "1", "30.00"), owners=[])
    assert fen(r, "acct_pay", "balc") == (0, 0) and r["psn_cash_pay"] == r["psn_part_amt"]
    r2 = w.bill(ZHANG_WEI, (A, "1", "30.00"), acct="0")
    assert fen(r2, "acct_pay", "psn_cash_pay", "balc") == (0, 3000, 200000)
    assert money_of(t.db()) == before
    # insurance not active (赵兰 suspended): refused at registration with her status named, nothing written
    counts = counts_of(t.db())
    w.identify(ZHAO_LAN)
    answer = w.call("2201", {"data": {"psn_no": ZHAO_LAN, "insutype": "390", "begntime": w.now_text(),
                                      "mdtrt_cert_type": "03", "mdtrt_cert_no": "D40000009", "ipt_otp_no": "MZ1"}})
    assert answer["infcode"] == -1 and answer["ext_err_code"] == "insurance_inactive" and "暂停参保" in answer["err_msg"]
    assert counts_of(t.db()) == counts


def test_presettle_writes_nothing_and_rounds_class_b_half_up(family):
    w, t = family()
    before = (money_of(t.db()), counts_of(t.db()))
    pre = w.bill(XIAOYU, (B, "1", "100.05"), (C, "1", "1.00"), settle=False)
    assert fen(pre, "preselfpay_amt", "fulamt_ownpay_amt") == (1001, 100)      # 10005 × 0.10 = 1000.5 -> 1001
    assert (money_of(t.db()), counts_of(t.db())) == before
    # qty 1.5 × 3.33 = 4.995 -> 5.00; class B 10.05 -> 1.005 -> 1.01 and 3 × 0.05 = 0.15 -> 0.015 -> 0.02;
    # resident outpatient: no deductible, 50 % of 14.17 = 7.085 -> 7.09
    r = w.bill(XIAOYU, (A, "1.5", "3.33"), (B, "1", "10.05"), (B, "3", "0.05"), acct="0")
    assert fen(r, "medfee_sumamt", "preselfpay_amt", "inscp_scp_amt") == (1520, 103, 1417)
    assert fen(r, "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt") == (0, 709, 811)


def test_class_c_and_the_annual_cap_reached_mid_bill(family):
    w, t = family()
    r = w.bill(GUOQIANG, (C, "2", "40.00"), (A, "1", "100.00"), owners=[])
    assert fen(r, "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt") == (8000, 0, 10000)
    assert fen(r, "fund_pay_sumamt", "psn_part_amt") == (5000, 13000)
    # resident cap 400.00 a year: 50.00 paid, then 600.00 -> 300.00, then 200.00 -> only 50.00 left
    w.bill(GUOQIANG, (A_BIG, "1", "600.00"), owners=[])
    r = w.bill(GUOQIANG, (A_BIG, "1", "200.00"), owners=[])
    assert fen(r, "fund_pay_sumamt", "psn_part_amt") == (5000, 15000)
    r = w.bill(GUOQIANG, (A_BIG, "1", "200.00"), owners=[])
    assert fen(r, "fund_pay_sumamt", "psn_part_amt") == (0, 20000)
    # inpatient (21): a deductible of 800.00 every visit, whatever was used this year; 85 % above it
    for _ in range(2):
        r = w.bill(ZHANG_WEI, (A_BIG, "1", "3000.00"), med_type="21")
        assert fen(r, "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt") == (80000, 187000, 113000)


def test_reversal_restores_every_balance_quota_and_accumulator(family):
    w, t = family()
    start = money_of(t.db())
    made = [w.bill(ZHANG_WEI, (A_BIG, "1", "1500.00")),
            w.bill(XIAOYU, (C, "1", "90.00"), owners=[LI_NA, ZHANG_WEI]),
            w.bill(ZHANG_MIN, (C, "1", "400.00"))]
    year = int(made[0]["setl_time"][:4])
    assert t.db().one("SELECT deductible_used, fund_paid FROM accumulators WHERE psn_no = ? AND year = ?",
                      [ZHANG_WEI, year]) == (100000, 35000)              # (1500 − 1000) × 0.70
    assert money_of(t.db()) != start
    for r in reversed(made):
        rev = w.reverse(r)
        assert rev["ext_status"] == "reversal" and rev["ext_reversal_of"] == r["setl_id"]
        assert rev["medfee_sumamt"] == -r["medfee_sumamt"] and rev["acct_pay"] == -r["acct_pay"]
    assert money_of(t.db()) == start
    assert t.db().all("SELECT DISTINCT deductible_used, fund_paid FROM accumulators") == [(0, 0)]
    again = w.call("2208", {"data": {"setl_id": made[0]["setl_id"], "mdtrt_id": made[0]["mdtrt_id"],
                                     "psn_no": ZHANG_WEI}})
    assert again["ext_err_code"] == "already_reversed" and "已撤销" in again["err_msg"]
    nope = w.call("2208", {"data": {"setl_id": "S-nope", "mdtrt_id": made[0]["mdtrt_id"], "psn_no": ZHANG_WEI}})
    assert nope["ext_err_code"] == "settlement_unknown"


def test_the_configured_limits_and_mutual_aid_rules_hold(family, config_file):
    text = config_file.read_text(encoding="utf-8")
    text = text.replace("max_item_price = 100000000", "max_item_price = 5000", 1)
    for allowed in ('["10", "11", "12", "20", "30", "50", "51", "52"]',
                    '["10", "11", "12", "20", "30", "40", "50", "51", "52", "60", "70"]'):
        text = text.replace(f"relations = {allowed}", 'relations = ["10", "11", "12"]')      # spouses only
    config_file.write_text(text, encoding="utf-8")
    w, t = family()
    w.identify(ZHANG_WEI)
    mdtrt_id = w.register(ZHANG_WEI, "310")
    before = (money_of(t.db()), counts_of(t.db()))
    answer = w.call("2204", {"feedetail": [{"feedetl_sn": "1", "mdtrt_id": mdtrt_id, "psn_no": ZHANG_WEI,
                                            "chrg_bchno": "B1", "fee_ocur_time": w.now_text(), "med_list_codg": A,
                                            "det_item_fee_sumamt": D("50.01"), "cnt": D(1), "pric": D("50.01")}]})
    assert answer["ext_err_code"] == "price_absurd" and "¥50.00" in answer["err_msg"]
    assert (money_of(t.db()), counts_of(t.db())) == before
    assert w.bill(ZHANG_WEI, (A, "1", "50.00"))["medfee_sumamt"] == D("50.00")
    r = w.bill(XIAOYU, (C, "1", "40.00"))                       # a daughter's binding is not allowed here
    assert fen(r, "acct_mulaid_pay", "psn_cash_pay") == (0, 4000) and r["ext_mulaid"] == []


# ---------------------------------------------------------------- in-process only: the clock, and many sequences
@pytest.fixture
def embedded(centre_where, raw_config):
    made = []

    def make(clock=None, name="c"):
        where = centre_where(name)
        prepare_db(where, family_lines())
        made.append(open_centre(raw_config, where, clock=clock))
        return made[-1]
    yield make
    for centre in made:
        centre.close()


def test_reversal_only_the_same_day(embedded):
    now = [dt.datetime(2026, 11, 30, 10, 0)]
    centre = embedded(lambda: now[0])
    w = Window(centre.call, now=lambda: now[0])
    w.sign_in()
    r = w.bill(ZHANG_WEI, (A, "1", "1.00"))
    now[0] = dt.datetime(2026, 12, 1, 9, 0)
    w.sign_in()
    answer = w.call("2208", {"data": {"setl_id": r["setl_id"], "mdtrt_id": r["mdtrt_id"], "psn_no": ZHANG_WEI}})
    assert answer["ext_err_code"] == "not_same_day" and "只能撤销当日结算" in answer["err_msg"]
    assert drifts(centre.dispatcher.store.db()) == []


ops = st.lists(st.tuples(st.sampled_from(["settle", "settle", "settle", "reverse"]),
                         st.sampled_from([ZHANG_WEI, LI_NA, XIAOYU, GUOQIANG, ZHANG_MIN]),
                         st.sampled_from([None, [], [LI_NA, ZHANG_WEI], [ZHANG_WEI]]),
                         st.booleans(),
                         st.lists(st.tuples(st.sampled_from([A, B, C]), st.sampled_from(["1", "2", "0.5", "1.333"]),
                                            st.integers(0, 120000)), min_size=1, max_size=3)),
               min_size=1, max_size=10)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=ops)
def test_any_sequence_of_settlements_and_reversals_keeps_the_books(centre_where, raw_config, script):
    where = centre_where()
    prepare_db(where, family_lines())
    centre = open_centre(raw_config, where)
    db = centre.dispatcher.store.db()
    start = money_of(db)
    w = Window(centre.call)
    w.sign_in()
    made: list[dict[str, Any]] = []
    for op, psn_no, owners, use_account, items in script:
        if op == "reverse":
            if made:
                w.reverse(made.pop(0))
            continue
        bill = [(code, cnt, str(Decimal(price) / 100)) for code, cnt, price in items]
        owners_ok = owners is None or all(o in {b[1] for b in BINDINGS if b[2] == psn_no} for o in owners)
        if not owners_ok:
            continue
        r = w.bill(psn_no, *bill, acct="1" if use_account else "0", owners=owners)
        made.append(r)
        assert r["medfee_sumamt"] == r["fund_pay_sumamt"] + r["acct_pay"] + r["psn_cash_pay"]
    assert drifts(db) == []
    now = money_of(db)
    assert all(v >= 0 for v in now.values())
    spent = {k: start[k] - now[k] for k in start}          # what the settlements still standing took
    assert sum(spent.values()) == sum(int(r["acct_pay"] * 100) for r in made)
    centre.close()
