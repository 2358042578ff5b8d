"""The settlement formula (docs/data-and-rules.md) step by step, against amounts worked out by hand; then invariants.

The centre's rules: each item divided by `centre.rules.charges.charge` (the 2204 step), the rule picked by
`centre.rules.policy.Policy.rule_for`, the amounts by `centre.rules.presettle.presettle`. The bill file itself is
still the window's (`terminal.domain.bill`), tested at the end.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centre.errors import ConfigProblem, Refused
from centre.interface.amounts import fen_to_yuan
from centre.interface.codes import ChrgitmLv
from centre.rules import presettle as rules
from centre.rules.charges import ChargedItem, charge
from centre.rules.policy import Policy, parse_policy
from centre.rules.presettle import PreSettlement, YearToDate
from terminal.domain.bill import parse_bill
from terminal.errors import BadInput

POLICY = parse_policy({
    "b_selfpay_ratio": "0.10",
    "rule": [
        {"insutype": "310", "med_type": "11", "hosp_lv": "*", "deductible": 100000, "deductible_scope": "year",
         "ratio": "0.70", "annual_cap": 50000000},
        {"insutype": "310", "med_type": "21", "hosp_lv": "3", "deductible": 80000, "deductible_scope": "visit",
         "ratio": "0.85", "annual_cap": 50000000},
        {"insutype": "390", "med_type": "11", "hosp_lv": "*", "deductible": 0, "deductible_scope": "year",
         "ratio": "0.50", "annual_cap": 40000},
        {"insutype": "*", "med_type": "*", "hosp_lv": "*", "deductible": 60000, "deductible_scope": "visit",
         "ratio": "0.60", "annual_cap": 30000000},
    ],
})


def bill(med_type: str, *items: tuple[str, object, int]) -> tuple[str, tuple[tuple[str, Decimal, int], ...]]:
    """A visit's items as (class letter, qty, unit price in fen)."""
    return med_type, tuple((c, Decimal(str(q)), p) for c, q, p in items)


def charged(b, policy: Policy = POLICY) -> tuple[ChargedItem, ...]:
    """Each item divided as the centre's 2204 does it (no catalogue price limit, the policy's class B ratio)."""
    return tuple(charge(qty, fen_to_yuan(price), ChrgitmLv.of_letter(c), policy.b_selfpay_ratio)
                 for c, qty, price in b[1])


def relative(owner_psn_no: str, binding_id: int, scope: str, available: int) -> rules.RelativeSource:
    """A binding that may pay (the owner's name only shows on the centre's answer)."""
    return rules.RelativeSource(owner_psn_no, f"owner {owner_psn_no}", binding_id, scope, available)


def presettle(b, policy: Policy, *, insutype: str, hosp_lv: str, **accounts) -> PreSettlement:
    """The rule for the patient's insurance, the visit and the hospital's level, then the formula."""
    rule = policy.rule_for(insutype, b[0], hosp_lv)
    return rules.presettle(charged(b, policy), rule, **accounts)


def test_year_deductible_not_yet_met_then_partly_then_met():
    b = bill("11", ("A", 2, 1250))                       # 2 × 12.50 = 25.00
    r = presettle(b, POLICY, insutype="310", hosp_lv="3", ytd=YearToDate(0, 0))
    assert (r.medfee_sumamt, r.inscp_scp_amt, r.act_pay_dedc, r.fund_pay_sumamt, r.psn_part_amt) == \
        (2500, 2500, 2500, 0, 2500)
    # 990.00 of the 1000.00 year deductible already used: 10.00 left; (25.00 − 10.00) × 0.70 = 10.50
    r = presettle(b, POLICY, insutype="310", hosp_lv="3", ytd=YearToDate(99000, 0))
    assert (r.act_pay_dedc, r.fund_pay_sumamt, r.psn_part_amt) == (1000, 1050, 1450)
    assert r.ytd_after == YearToDate(100000, 1050)
    r = presettle(b, POLICY, insutype="310", hosp_lv="3", ytd=YearToDate(150000, 0))
    assert (r.act_pay_dedc, r.fund_pay_sumamt, r.psn_part_amt) == (0, 1750, 750)


def test_visit_deductible_ignores_what_was_used_this_year():
    b = bill("21", ("A", 1, 300000))                     # 3000.00 inpatient at a level-3 hospital
    for used in (0, 80000, 500000):
        r = presettle(b, POLICY, insutype="310", hosp_lv="3", ytd=YearToDate(used, 0))
        # deductible 800.00 each visit; (3000 − 800) × 0.85 = 1870.00
        assert (r.act_pay_dedc, r.fund_pay_sumamt, r.psn_part_amt) == (80000, 187000, 113000)
    small = presettle(bill("21", ("A", 1, 50000)), POLICY, insutype="310", hosp_lv="3")
    assert (small.act_pay_dedc, small.fund_pay_sumamt) == (50000, 0)   # min(in scope, deductible)


def test_first_match_with_wildcards():
    b = bill("21", ("A", 1, 100000))
    assert presettle(b, POLICY, insutype="310", hosp_lv="2", ytd=YearToDate()).rule.ratio == Decimal("0.60")
    assert presettle(b, POLICY, insutype="310", hosp_lv="3").rule.ratio == Decimal("0.85")


def test_class_b_self_pay_rounds_half_up_per_item_and_qty_rounds_half_up():
    # qty 1.5 × 3.33 = 4.995 yuan -> 499.5 fen -> 500 fen; B self-pay 10% of 1005 = 100.5 -> 101
    b = bill("11", ("A", "1.5", 333), ("B", 1, 1005), ("B", 3, 5))    # B: 1005 and 15 (1.5 -> 2)
    r = presettle(b, POLICY, insutype="390", hosp_lv="1")
    assert tuple(i.amount for i in charged(b)) == (500, 1005, 15)
    assert r.medfee_sumamt == 1520
    assert r.preselfpay_amt == 101 + 2
    assert r.inscp_scp_amt == 1520 - 103
    # resident outpatient: no deductible, 50%: 1417 × 0.5 = 708.5 -> 709
    assert (r.act_pay_dedc, r.fund_pay_sumamt, r.psn_part_amt) == (0, 709, 811)


def test_class_c_fully_self_paid():
    b = bill("11", ("C", 2, 4000), ("A", 1, 10000))
    r = presettle(b, POLICY, insutype="390", hosp_lv="1")
    assert (r.fulamt_ownpay_amt, r.preselfpay_amt, r.inscp_scp_amt) == (8000, 0, 10000)
    assert (r.fund_pay_sumamt, r.psn_part_amt) == (5000, 13000)
    only_c = presettle(bill("11", ("C", 1, 999)), POLICY, insutype="390", hosp_lv="1")
    assert (only_c.inscp_scp_amt, only_c.fund_pay_sumamt, only_c.psn_part_amt) == (0, 0, 999)


def test_annual_cap_reached_mid_bill():
    b = bill("11", ("A", 1, 20000))                      # resident: 50% of 200.00 = 100.00 uncapped
    r = presettle(b, POLICY, insutype="390", hosp_lv="1", ytd=YearToDate(0, 35000))
    assert r.fund_pay_sumamt == 5000                     # only 50.00 of the 400.00 cap left
    assert r.psn_part_amt == 15000
    assert r.ytd_after.fund_paid == 40000
    over = presettle(b, POLICY, insutype="390", hosp_lv="1", ytd=YearToDate(0, 45000))
    assert (over.fund_pay_sumamt, over.psn_part_amt) == (0, 20000)


def test_own_account_then_relatives_in_order_then_cash():
    b = bill("11", ("A", 1, 10000), ("C", 1, 5000))
    rels = [relative("P1", 1, "local", 3000), relative("P2", 2, "cross_province", 100000)]
    r = presettle(b, POLICY, insutype="310", hosp_lv="3", own_balc=2000, relatives=rels)
    assert r.psn_part_amt == 15000                       # deductible not met: all individual-borne
    assert (r.own_acct_pay, r.acct_mulaid_pay, r.acct_pay, r.psn_cash_pay, r.balc) == (2000, 13000, 15000, 0, 0)
    assert [(m.owner_psn_no, m.amount) for m in r.mulaid] == [("P1", 3000), ("P2", 10000)]
    small = presettle(b, POLICY, insutype="310", hosp_lv="3", own_balc=0,
                      relatives=[relative("P1", 1, "local", 4000)])
    assert (small.acct_pay, small.acct_mulaid_pay, small.psn_cash_pay) == (4000, 4000, 11000)
    no_acct = presettle(b, POLICY, insutype="310", hosp_lv="3", own_balc=99999, relatives=rels,
                        acct_used_flag=False)
    assert (no_acct.acct_pay, no_acct.psn_cash_pay, no_acct.balc, no_acct.mulaid) == (0, 15000, 99999, ())
    nothing = presettle(b, POLICY, insutype="390", hosp_lv="3")
    assert (nothing.acct_pay, nothing.psn_cash_pay, nothing.balc) == (0, nothing.psn_part_amt, None)


def test_no_rule_matching_is_refused():
    narrow = parse_policy({"b_selfpay_ratio": "0.1", "rule": [
        {"insutype": "310", "med_type": "11", "hosp_lv": "3", "deductible": 0, "deductible_scope": "year",
         "ratio": "0.5", "annual_cap": 1}]})
    with pytest.raises(Refused, match="no \\[\\[policy.rule\\]\\] matches insutype 390") as info:
        presettle(bill("11", ("A", 1, 1)), narrow, insutype="390", hosp_lv="3")
    assert info.value.code == "no_policy_rule"


@pytest.mark.parametrize("section, message", [
    ({}, "missing"),
    ({"b_selfpay_ratio": "zero point one", "rule": []}, "decimal string"),
    ({"b_selfpay_ratio": 1.5, "rule": []}, 'must be a decimal string: quote it, b_selfpay_ratio = "1.5"'),
    ({"b_selfpay_ratio": "1.5", "rule": []}, "between 0 and 1"),
    ({"b_selfpay_ratio": "0.1", "rule": []}, "at least one"),
    ({"b_selfpay_ratio": "0.1", "rule": [{"insutype": "320", "med_type": "11", "hosp_lv": "*", "deductible": 0,
                                          "deductible_scope": "year", "ratio": "0.5", "annual_cap": 0}]},
     "#1: insutype must be one of 310, 390"),
    ({"b_selfpay_ratio": "0.1", "rule": [{"insutype": "310", "med_type": "11", "hosp_lv": "*", "deductible": -1,
                                          "deductible_scope": "year", "ratio": "0.5", "annual_cap": 0}]},
     "deductible must be a whole number of fen"),
    ({"b_selfpay_ratio": "0.1", "rule": [{"insutype": "310", "med_type": "11", "hosp_lv": "*", "deductible": 0,
                                          "deductible_scope": "month", "ratio": "0.5", "annual_cap": 0}]},
     "deductible_scope must be"),
    ({"b_selfpay_ratio": "0.1", "rule": [{"insutype": "310", "med_type": "11", "hosp_lv": "*", "deductible": 0,
                                          "deductible_scope": "year", "ratio": "0.5", "anual_cap": 0}]},
     "unknown key\\(s\\) anual_cap"),
])
def test_policy_problems_are_named(section, message):
    with pytest.raises(ConfigProblem, match=message):
        parse_policy(section)


def _one_rule(**changes) -> dict:
    rule = {"insutype": "*", "med_type": "*", "hosp_lv": "*", "deductible": 0, "deductible_scope": "year",
            "ratio": "0.7", "annual_cap": 100}
    return {"b_selfpay_ratio": "0.1", "rule": [{**rule, **changes}]}


@pytest.mark.parametrize("section, message", [
    (_one_rule(ratio=0.75), r'ratio must be a decimal string: quote it, ratio = "0.75" \(floats are never used for money\)'),
    ({**_one_rule(), "b_selfpay_ratio": 0.1}, 'b_selfpay_ratio = "0.1"'),
    (_one_rule(ratio=1), 'ratio = "1"'),
    (_one_rule(ratio=True), "decimal string"),
    (_one_rule(hosp_lv="7"), 'hosp_lv must be one of 1, 2, 3 or "\\*"'),
    (_one_rule(hosp_lv=3), 'hosp_lv must be one of 1, 2, 3 or "\\*"'),
])
def test_a_float_ratio_or_a_bad_level_is_refused(section, message):
    with pytest.raises(ConfigProblem, match=message):
        parse_policy(section)
    assert parse_policy(_one_rule(ratio="0.75")).rules[0].ratio == Decimal("0.75")


@pytest.mark.parametrize("level, ok", [("1", True), ("2", True), ("3", True), ("7", False), ("*", False),
                                       (3, False), ("", False)])
def test_the_hospital_level_of_the_terminal_is_checked(config_file, level, ok):
    """[terminal] hosp_lv picks the policy rule (the centre's level of a hospital it has no `medins` line for): a
    level the rules cannot mean is refused, not matched by "*"."""
    import tomllib
    from centre.settings import CentreSettings
    raw = tomllib.loads(config_file.read_text(encoding="utf-8"))
    raw["terminal"]["hosp_lv"] = level
    if ok:
        centre = CentreSettings.from_config(raw)
        assert centre.default_hosp_lv == level and centre.policy.rules
    else:
        with pytest.raises(ConfigProblem, match='\\[terminal\\] hosp_lv must be "1", "2" or "3"'):
            CentreSettings.from_config(raw)


def test_absurd_amount_limits_come_from_the_policy():
    from centre.rules.policy import BillLimits
    limits = parse_policy({**_one_rule(), "max_item_price": 300_000_000, "max_bill_total": 2_000_000_000}).bill_limits
    assert limits == BillLimits(max_item_price=300_000_000, max_bill_total=2_000_000_000)
    assert parse_policy(_one_rule()).bill_limits == BillLimits() == BillLimits(100_000_000, 1_000_000_000)
    for key, value in (("max_item_price", -1), ("max_item_price", "100"), ("max_bill_total", 1.5),
                       ("max_bill_total", 10**12)):
        with pytest.raises(ConfigProblem, match=f"\\[policy\\]: {key} must be a whole number of fen"):
            parse_policy({**_one_rule(), key: value})


def test_shipped_config_policy_parses(cfg):
    policy = parse_policy(cfg.section("policy"))
    assert policy.b_selfpay_ratio == Decimal("0.10") and len(policy.rules) >= 1


@pytest.mark.parametrize("obj, message", [
    ({"med_type": "12", "items": []}, "med_type must be 11"),
    ({"med_type": "11", "items": []}, "no items"),
    ({"med_type": "11", "items": [{"code": "X1", "class": "D", "qty": 1, "price": 1}]}, "item 1 \\(X1\\): class"),
    ({"med_type": "11", "items": [{"code": "X1", "class": "A", "qty": 1, "price": 1},
                                  {"code": "X2", "class": "A", "qty": 0, "price": 1}]}, "item 2 \\(X2\\): qty must be > 0"),
    ({"med_type": "11", "items": [{"code": "X1", "class": "A", "qty": "1.2345", "price": 1}]}, "at most 3 decimals"),
    ({"med_type": "11", "items": [{"code": "X1", "class": "A", "qty": 1, "price": -5}]}, "must not be negative"),
    ({"med_type": "11", "items": [{"code": "X1", "class": "A", "qty": 1, "price": 12.5}]}, "whole number of fen"),
    ({"med_type": "11", "items": [{"code": "X1", "class": "A", "qty": 1, "price": 10**12}]}, "absurd"),
    ({"med_type": "11", "items": [{"code": "X1", "class": "A", "qty": 1}]}, "price is missing"),
])
def test_bill_problems_are_named(obj, message):
    with pytest.raises(BadInput, match=message):
        parse_bill(obj)


@pytest.mark.parametrize("text, message", [
    ('{"med_type":"11","items":[{"code":"X1","class":"A","qty":"1.5","price":100}]}',
     "item 1 \\(X1\\): qty must be a JSON number, not the string '1.5' \\(write 1.5 without quotes\\)"),
    ('{"med_type":"11","items":[{"code":"X1","class":"A","qty":1,"price":100},{"code":"X2","class":"A","qty":1,'
     '"price":"100"}]}', "item 2 \\(X2\\): price must be a JSON number, not the string '100'"),
])
def test_a_bill_file_has_numbers_not_strings_for_qty_and_price(text, message):
    from terminal.domain.bill import bill_from_text
    with pytest.raises(BadInput, match=message):
        bill_from_text(text)
    assert bill_from_text(text.replace('"1.5"', "1.5").replace('"100"', "100")).items[0].price == 100


def test_the_absurd_amount_limits_are_generous_and_configurable():
    from terminal.domain.bill import BillLimits, bill_from_text, check_limits
    implant = {"med_type": "21", "items": [{"code": "H1", "class": "A", "qty": 1, "price": 35_000_000}]}  # ¥350,000
    assert parse_bill(implant).total == 35_000_000                  # once refused above ¥100,000 a unit
    with pytest.raises(BadInput, match="item 1 \\(H1\\): the unit price ¥350,000.00 is above the limit of ¥300,000.00"):
        parse_bill(implant, limits=BillLimits(max_item_price=30_000_000))
    car_t = {"med_type": "21", "items": [{"code": "T1", "class": "C", "qty": 1, "price": 120_000_000}]}
    with pytest.raises(BadInput, match="¥1,200,000.00 is above the limit of ¥1,000,000.00: an absurd amount") as info:
        parse_bill(car_t)
    assert info.value.details["limit"] == "max_item_price" and "max_item_price" not in info.value.message
    assert parse_bill(car_t, limits=BillLimits(max_item_price=200_000_000)).total == 120_000_000
    many = {"med_type": "21", "items": [{"code": f"H{i}", "class": "A", "qty": 1, "price": 90_000_000}
                                        for i in range(12)]}
    with pytest.raises(BadInput, match="the bill total ¥10,800,000.00 is above the limit of ¥10,000,000.00"):
        parse_bill(many)
    with pytest.raises(BadInput, match="the bill total ¥350,000.00 is above the limit of ¥300,000.00"):
        check_limits(parse_bill(implant), BillLimits(max_bill_total=30_000_000))
    text = '{"med_type":"21","items":[{"code":"T1","class":"C","qty":1,"price":120000000}]}'
    assert bill_from_text(text, limits=BillLimits(max_item_price=200_000_000)).total == 120_000_000


def _bill_error(items: list[dict], limits=None) -> BadInput:
    with pytest.raises(BadInput) as info:
        parse_bill({"med_type": "11", "items": items}, limits=limits)
    assert info.value.code == "bad_bill"
    return info.value


def test_bill_messages_speak_the_cashiers_language_in_yuan():
    """What the window shows (Chinese by default, or English): the item named in that language, money in
    yuan with 2 decimals, no config key (that is in details, for the log)."""
    ok = {"code": "X1", "class": "A", "qty": 1, "price": 100}
    zero = _bill_error([ok, ok, ok, {"code": "Y1", "class": "A", "qty": 0, "price": 100}])
    assert zero.localized("zh") == "第4项(Y1):数量必须大于0"
    assert zero.localized("en") == "item 4 (Y1): qty must be > 0 (got 0)"
    price = _bill_error([{"code": "Y1", "class": "A", "qty": 1, "price": 200_000_000}])
    assert price.localized("zh") == "第1项(Y1):单价¥2,000,000.00超过上限¥1,000,000.00,金额不合理,未收费(请核对单价)"
    assert price.localized("en") == ("item 1 (Y1): the unit price ¥2,000,000.00 is above the limit of ¥1,000,000.00: "
                                     "an absurd amount, not charged (check the price)")
    total = _bill_error([{"code": "Y1", "class": "A", "qty": 10000, "price": 18_000_000},
                         {"code": "Y2", "class": "A", "qty": 1, "price": 1250}])
    assert total.localized("en") == ("the bill total ¥1,800,000,012.50 is above the limit of ¥10,000,000.00: an absurd "
                                     "amount, not charged (check the quantities and prices)")
    assert total.localized("zh").startswith("账单总额¥1,800,000,012.50超过上限¥10,000,000.00")
    assert total.details == {"limit": "max_bill_total", "config": "[policy] max_bill_total in config.toml",
                             "total_fen": 180_000_001_250, "limit_fen": 1_000_000_000}
    assert price.details["limit"] == "max_item_price" and price.details["price_fen"] == 200_000_000
    for err in (zero, price, total):
        for text in (err.localized("en"), err.localized("zh")):
            assert "max_" not in text and "config" not in text and "[policy]" not in text
        assert " fen" not in err.localized("en") and "分" not in err.localized("zh")


@pytest.mark.parametrize("item, zh", [
    ({"class": "A", "qty": 1, "price": 1}, "第1项:缺少项目编码"),
    ({"code": "Z", "class": "A", "qty": 1}, "第1项(Z):缺少单价"),
    ({"code": "Z", "class": "D", "qty": 1, "price": 1}, "第1项(Z):类别必须是甲(A)、乙(B)或丙(C)"),
    ({"code": "Z", "class": "A", "qty": "两", "price": 1}, "第1项(Z):数量必须是数字"),
    ({"code": "Z", "class": "A", "qty": "1.2345", "price": 1}, "第1项(Z):数量最多3位小数"),
    ({"code": "Z", "class": "A", "qty": 10001, "price": 1}, "第1项(Z):数量10001不合理"),
    ({"code": "Z", "class": "A", "qty": 1, "price": -500}, "第1项(Z):单价不能为负(收到 -¥5.00)"),
    ({"code": "Z", "class": "A", "qty": 1, "price": 12.5}, "第1项(Z):单价必须是整数"),
    ({"code": "Z", "class": "A", "qty": 1, "price": 1, "name": 5}, "第1项(Z):项目名称必须是文字"),
    ("X", "第1项:格式错误"),
])
def test_every_item_problem_is_named_in_chinese(item, zh):
    err = _bill_error([item])
    assert err.localized("zh").startswith(zh), err.localized("zh")
    assert not err.localized("zh").startswith("item") and err.localized("en").startswith("item 1")
    assert err.details["item"] == 1


def test_bill_file_reads_decimals_exactly(tmp_path):
    from terminal.domain.bill import load_bill
    path = tmp_path / "bill.json"
    path.write_text('{"med_type":"11","items":[{"code":"X1","name":"药","class":"A","qty":0.335,"price":1000}]}',
                    encoding="utf-8")
    assert load_bill(path).items[0].amount == 335
    with pytest.raises(BadInput, match="not found"):
        load_bill(tmp_path / "missing.json")


items_st = st.lists(st.tuples(st.sampled_from("ABC"),
                              st.decimals(min_value=Decimal("0.001"), max_value=Decimal(50), places=3),
                              st.integers(min_value=0, max_value=500000)), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(items=items_st, insutype=st.sampled_from(["310", "390"]), med_type=st.sampled_from(["11", "14", "21"]),
       hosp_lv=st.sampled_from(["1", "2", "3"]), used=st.integers(0, 200000), paid=st.integers(0, 60000000),
       own=st.none() | st.integers(0, 10**7), rels=st.lists(st.integers(0, 10**6), max_size=3),
       flag=st.booleans())
def test_invariants_hold_for_any_bill(items, insutype, med_type, hosp_lv, used, paid, own, rels, flag):
    b = bill(med_type, *items)
    sources = [relative(f"P{i}", i, "local", a) for i, a in enumerate(rels)]
    r = presettle(b, POLICY, insutype=insutype, hosp_lv=hosp_lv, ytd=YearToDate(used, paid), own_balc=own,
                  relatives=sources, acct_used_flag=flag)
    assert r.medfee_sumamt == r.fund_pay_sumamt + r.acct_pay + r.psn_cash_pay
    assert r.psn_part_amt == r.acct_pay + r.psn_cash_pay
    assert r.acct_pay == r.own_acct_pay + r.acct_mulaid_pay
    assert r.inscp_scp_amt == r.medfee_sumamt - r.fulamt_ownpay_amt - r.preselfpay_amt
    assert min(r.fund_pay_sumamt, r.own_acct_pay, r.acct_mulaid_pay, r.psn_cash_pay, r.act_pay_dedc) >= 0
    assert r.fund_pay_sumamt <= max(0, r.rule.annual_cap - paid)
    if own is not None:
        assert r.balc == own - r.own_acct_pay >= 0
    if flag and r.psn_cash_pay > 0:   # cash only when every account is exhausted
        assert (own or 0) == r.own_acct_pay and r.acct_mulaid_pay == sum(rels)
