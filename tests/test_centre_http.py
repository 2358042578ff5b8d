"""The centre as an HIS meets it, through a real `cashier centre serve` over HTTP (httpx, a plain client) and
the same tests in-process (`centre.api`): the outpatient sequence with amounts worked out by hand, a lost
answer and 2601, 3201, every refusal, the fields and types the platform answers with.

Amounts below are in yuan as the platform writes them; the formula (policy in config.toml):
- item amount = cnt × pric rounded half-up to the fen; class C self-paid in full; the part of a unit price
  above the catalogue's limit self-paid; class B: the catalogue's ratio (else 0.10) self-paid first;
- 310 outpatient: yearly deductible 1000.00, then 70 % from the fund; 390 outpatient: no deductible, 50 %,
  capped at 400.00 a year;
- the personal account (own, then relatives by the order of their bindings) pays the rest, then cash.
"""

from __future__ import annotations

import re
import time
import tomllib
from decimal import Decimal
from typing import Any

import pytest
from centre_flow import D, His, counts_of, demo_with_catalogue, his, money_of, refusing_centre
from centre_http_support import open_transport
from pg_stack import TRANSPORTS, Databases, split_transport

from centre.api import AnswerLost, CentreDown
from centre.store.money import drifts

ZHANG_WEI, LI_NA, XIAOYU, ZHANG_MIN = "P10000001", "P10000002", "P10000003", "P20000005"


@pytest.fixture
def raw_config(config_file) -> dict[str, Any]:
    return tomllib.loads(config_file.read_text(encoding="utf-8"))


@pytest.fixture(params=TRANSPORTS)
def centre(request, tmp_path, config_file, raw_config):
    """centre(*faults) -> a fresh Transport on the demo export plus a small catalogue."""
    made = []
    transport, store = split_transport(request.param)
    databases = Databases(request, store, tmp_path)

    def make(*faults: str, lines: list[dict] | None = None):
        t = open_transport(transport, config_file, raw_config, databases.new(f"centre{len(made)}"),
                           lines if lines is not None else demo_with_catalogue(), faults)
        made.append(t)
        return t
    yield make
    for t in made:
        t.close()
        if t.server is not None:       # whatever the test sent, the server never showed a traceback
            err = t.server.stderr()
            assert "Traceback" not in err and "centre_internal" not in err, err
    databases.close()


@pytest.fixture(scope="module", params=TRANSPORTS)
def shared_centre(request, tmp_path_factory):
    """One centre for the tests that only need it to refuse (each checks that nothing changed)."""
    yield from refusing_centre(request, tmp_path_factory, "shared-centre")


# ---------------------------------------------------------------- what every answer must look like
SETLINFO = ("mdtrt_id setl_id psn_no psn_name psn_cert_type certno gend naty brdy age insutype psn_type cvlserv_flag "
            "setl_time mdtrt_cert_type med_type medfee_sumamt fulamt_ownpay_amt overlmt_selfpay preselfpay_amt "
            "inscp_scp_amt act_pay_dedc hifp_pay pool_prop_selfpay cvlserv_pay hifes_pay hifmi_pay hifob_pay maf_pay "
            "oth_pay fund_pay_sumamt psn_part_amt acct_pay psn_cash_pay hosp_part_amt balc acct_mulaid_pay "
            "medins_setl_id clr_optins clr_way clr_type").split()
SETL_AMOUNTS = ("medfee_sumamt fulamt_ownpay_amt overlmt_selfpay preselfpay_amt inscp_scp_amt act_pay_dedc hifp_pay "
                "cvlserv_pay hifes_pay hifmi_pay hifob_pay maf_pay oth_pay fund_pay_sumamt psn_part_amt acct_pay "
                "psn_cash_pay hosp_part_amt balc acct_mulaid_pay").split()
SETLDETAIL = "fund_pay_type inscp_scp_amt crt_payb_lmt_amt fund_payamt fund_pay_type_name setl_proc_info".split()
FEE_RESULT = ("feedetl_sn det_item_fee_sumamt cnt pric pric_uplmt_amt selfpay_prop fulamt_ownpay_amt overlmt_amt "
              "preselfpay_amt inscp_scp_amt chrgitm_lv med_chrgitm_type lmt_used_flag memo").split()
BASEINFO = "psn_no psn_cert_type certno psn_name gend naty brdy age".split()
INSUINFO = ("balc insutype psn_type psn_insu_stas psn_insu_date paus_insu_date cvlserv_flag insuplc_admdvs "
            "emp_name").split()
ENVELOPE = "infcode inf_refmsgid refmsg_time respond_time err_msg output".split()
SETL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def is_amount(value: Any) -> bool:
    """A JSON number (Decimal as the exact reader gives it, never a string or a float) with at most 2 decimals."""
    return isinstance(value, Decimal) and value.as_tuple().exponent >= -2


def check_envelope(answer: dict[str, Any]) -> None:
    assert set(ENVELOPE) <= set(answer)
    assert answer["infcode"] in (0, -1)
    assert re.fullmatch(r"\d{6}\d{14}\d{10}", answer["inf_refmsgid"])
    assert re.fullmatch(r"\d{17}", answer["refmsg_time"]) and re.fullmatch(r"\d{17}", answer["respond_time"])


def check_setl(out: dict[str, Any], msgid: str) -> dict[str, Any]:
    s = out["setlinfo"]
    missing = [f for f in SETLINFO if f not in s]
    assert not missing, missing
    bad = {f: s[f] for f in SETL_AMOUNTS if not is_amount(s[f])}
    assert not bad, bad
    assert isinstance(s["pool_prop_selfpay"], Decimal)
    assert s["setl_time"] is None or SETL_TIME.fullmatch(s["setl_time"])
    assert s["medins_setl_id"] == msgid
    assert 0 <= abs(s["acct_mulaid_pay"]) <= abs(s["acct_pay"])
    assert s["medfee_sumamt"] == s["fund_pay_sumamt"] + s["acct_pay"] + s["psn_cash_pay"]
    assert s["psn_part_amt"] == s["acct_pay"] + s["psn_cash_pay"]
    assert re.fullmatch(r"\d{17}[\dX]", s["certno"])          # the full ID number: masking is the window's job
    for detail in out["setldetail"]:
        assert set(SETLDETAIL) <= set(detail)
        assert all(is_amount(detail[f]) for f in ("inscp_scp_amt", "crt_payb_lmt_amt", "fund_payamt"))
    return s


def refused(answer: dict[str, Any], code: str, zh: str = "") -> dict[str, Any]:
    """A refusal as the platform gives it: infcode -1, a Chinese err_msg a cashier can read out, no output."""
    check_envelope(answer)
    assert answer["infcode"] == -1, answer
    assert answer["ext_err_code"] == code, (answer["ext_err_code"], answer["err_msg"], answer.get("ext_err_msg_en"))
    assert re.search(r"[\u4e00-\u9fff]", answer["err_msg"]), answer["err_msg"]
    assert zh in answer["err_msg"], answer["err_msg"]
    assert answer["output"] is None
    return answer


def standing(t) -> tuple[dict[str, int], dict[str, int]]:
    return money_of(t.db()), counts_of(t.db())


# ---------------------------------------------------------------- the outpatient sequence
def logged_transactions(server, expected: int, wait_s: float = 5.0) -> list[str]:
    """The server's transaction log lines: it writes each line just after the answer has left, so the last one
    may still be on its way when the client has its answer; wait (a short while) for `expected` lines."""
    deadline = time.monotonic() + wait_s
    while True:
        lines = [ln for ln in server.stderr().splitlines() if "infno=" in ln]
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def test_outpatient_sequence_with_amounts_by_hand(centre):
    t = centre()
    h = his(t.call)                                                              # 9001
    person = h.identify(ZHANG_WEI)                                               # 1101
    assert person["baseinfo"]["certno"] == "410102197805126716"
    assert person["insuinfo"][0]["balc"] == D("3560.00") and is_amount(person["insuinfo"][0]["balc"])
    assert set(BASEINFO) <= set(person["baseinfo"]) and set(INSUINFO) <= set(person["insuinfo"][0])
    mdtrt_id = h.register(ZHANG_WEI, "310")                                      # 2201
    result = h.upload(mdtrt_id, ZHANG_WEI, [
        ("XA01", "2", "12.50"),          # A: 25.00
        ("XB01", "1", "100.03"),         # B, its own ratio 0.20: 100.03 × 0.20 = 20.006 -> 20.01 self-paid first
        ("XC01", "3", "8.00"),           # C: 24.00 self-paid in full
        ("XA03", "1.5", "12.00"),        # A, limit 10.00: 18.00, of which (12 − 10) × 1.5 = 3.00 over the limit
        ("XA02", "1", "1200.00"),        # A: 1200.00
    ])                                                                           # 2204
    for r in result:
        assert set(FEE_RESULT) <= set(r)
    rows = {r["feedetl_sn"]: (r["chrgitm_lv"], r["det_item_fee_sumamt"], r["fulamt_ownpay_amt"], r["overlmt_amt"],
                              r["preselfpay_amt"], r["inscp_scp_amt"]) for r in result}
    assert rows == {
        "B1-001": ("01", D("25.00"), D("0.00"), D("0.00"), D("0.00"), D("25.00")),
        "B1-002": ("02", D("100.03"), D("0.00"), D("0.00"), D("20.01"), D("80.02")),
        "B1-003": ("03", D("24.00"), D("24.00"), D("0.00"), D("0.00"), D("0.00")),
        "B1-004": ("01", D("18.00"), D("0.00"), D("3.00"), D("0.00"), D("15.00")),
        "B1-005": ("01", D("1200.00"), D("0.00"), D("0.00"), D("0.00"), D("1200.00")),
    }
    assert [r["selfpay_prop"] for r in result][1] == D("0.20") and result[3]["pric_uplmt_amt"] == D("10.00")
    data = h.settle_data(mdtrt_id, ZHANG_WEI, "310", D("1367.03"))
    pre_msgid = h.msgid()
    pre_answer = h.call("2206", {"data": data}, msgid=pre_msgid)                 # 2206
    check_envelope(pre_answer)
    pre = check_setl(pre_answer["output"], pre_msgid)
    # in scope 1367.03 − 24.00 − 3.00 − 20.01 = 1320.02; deductible 1000.00 (none used this year);
    # fund (1320.02 − 1000.00) × 0.70 = 224.014 -> 224.01; the person 1143.02, all from the account
    expected = {"medfee_sumamt": D("1367.03"), "fulamt_ownpay_amt": D("24.00"), "overlmt_selfpay": D("3.00"),
                "preselfpay_amt": D("20.01"), "inscp_scp_amt": D("1320.02"), "act_pay_dedc": D("1000.00"),
                "fund_pay_sumamt": D("224.01"), "hifp_pay": D("224.01"), "psn_part_amt": D("1143.02"),
                "acct_pay": D("1143.02"), "acct_mulaid_pay": D("0.00"), "psn_cash_pay": D("0.00"),
                "balc": D("2416.98")}
    assert {k: pre[k] for k in expected} == expected
    assert pre["setl_id"] is None and pre["setl_time"] is None
    assert money_of(t.db())[ZHANG_WEI] == 356000                                   # 2206 writes nothing
    settle_msgid = h.msgid()
    answer = h.call("2207", {"data": h.with_presettle(data, pre)}, msgid=settle_msgid)   # 2207
    check_envelope(answer)
    s = check_setl(answer["output"], settle_msgid)
    assert {k: s[k] for k in expected} == expected
    assert SETL_TIME.fullmatch(s["setl_time"]) and s["setl_id"] and s["mdtrt_id"] == mdtrt_id
    assert answer["output"]["setldetail"][0]["fund_payamt"] == D("224.01")
    assert answer["output"]["setldetail"][0]["crt_payb_lmt_amt"] == D("500000.00")
    assert money_of(t.db())[ZHANG_WEI] == 241698
    query = h.ok("5203", {"data": {"psn_no": ZHANG_WEI, "setl_id": s["setl_id"], "mdtrt_id": mdtrt_id}})   # 5203
    q = check_setl(query, settle_msgid)
    assert {k: q[k] for k in expected} == expected and q["setl_time"] == s["setl_time"]
    rev_msgid = h.msgid()
    rev = h.call("2208", {"data": {"setl_id": s["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": ZHANG_WEI}},
                 msgid=rev_msgid)                                                 # 2208
    r = check_setl(rev["output"], rev_msgid)
    negated = {k: -v for k, v in expected.items() if k != "balc"}
    assert {k: r[k] for k in negated} == negated and r["balc"] == D("3560.00")
    assert money_of(t.db())[ZHANG_WEI] == 356000
    again = h.ok("5203", {"data": {"psn_no": ZHANG_WEI, "setl_id": s["setl_id"], "mdtrt_id": mdtrt_id}})
    assert again["setlinfo"]["ext_status"] == "reversed"
    assert drifts(t.db()) == []
    if t.server is not None:    # one log line per transaction, and never an ID number in the log
        lines = logged_transactions(t.server, 9)
        assert [re.search(r"infno=(\S+)", ln).group(1) for ln in lines] == \
            ["9001", "1101", "2201", "2204", "2206", "2207", "5203", "2208", "5203"]
        assert all(re.search(r" msgid=\S{30} infcode=0 ms=\d+\.\d$", ln) for ln in lines), lines
        assert "410102197805126716" not in t.server.stderr()


def test_mutual_aid_inside_acct_pay_balc_zero_without_an_account(centre):
    """张小雨 (resident, no account) draws on her father 张伟's account: balc 0, acct_mulaid_pay inside acct_pay."""
    t = centre()
    h = his(t.call)
    # 2 × 40.00 class C (self-paid) + 100.00 class A: in scope 100.00 × 0.50 = 50.00 from the fund;
    # the person's 130.00 all from her father's account (the only binding, 张伟 -> 张小雨)
    s = h.visit(XIAOYU, "390", [("XC01", "2", "40.00"), ("XA01", "1", "100.00")])
    assert (s["medfee_sumamt"], s["fulamt_ownpay_amt"], s["inscp_scp_amt"], s["fund_pay_sumamt"]) == \
        (D("180.00"), D("80.00"), D("100.00"), D("50.00"))
    assert (s["psn_part_amt"], s["acct_pay"], s["acct_mulaid_pay"], s["psn_cash_pay"], s["balc"]) == \
        (D("130.00"), D("130.00"), D("130.00"), D("0.00"), D("0.00"))
    assert is_amount(s["balc"]) and s["ext_has_account"] is False
    assert [(m["owner_psn_no"], m["amount"]) for m in s["ext_mulaid"]] == [(ZHANG_WEI, D("130.00"))]
    assert s["certno"] == "410105201206016927"
    assert money_of(t.db())[ZHANG_WEI] == 356000 - 13000


# ---------------------------------------------------------------- a lost answer, then 2601
def test_a_lost_answer_then_2601_leaves_every_balance_as_before(centre):
    t = centre("lost-answer:2207")
    h = his(t.call)
    before = money_of(t.db())
    h.identify(ZHANG_WEI)
    mdtrt_id = h.register(ZHANG_WEI, "310")
    h.upload(mdtrt_id, ZHANG_WEI, [("XA01", "2", "12.50")])
    data = h.settle_data(mdtrt_id, ZHANG_WEI, "310", D("25.00"))
    pre = h.ok("2206", {"data": data})["setlinfo"]
    lost = h.msgid()
    with pytest.raises(AnswerLost):
        h.call("2207", {"data": h.with_presettle(data, pre)}, msgid=lost)
    assert money_of(t.db())[ZHANG_WEI] == 356000 - 2500          # it did commit: the answer is what got lost
    undo = h.ok("2601", {"data": {"psn_no": ZHANG_WEI, "omsgid": lost, "oinfno": "2207"}})["data"]
    assert undo["ext_took_effect"] is True and undo["ext_setl_id"] and undo["ext_reversal_setl_id"]
    assert money_of(t.db()) == before and drifts(t.db()) == []
    assert h.ok("2601", {"data": {"psn_no": ZHANG_WEI, "omsgid": lost, "oinfno": "2207"}})["data"][
        "ext_took_effect"] is True                                  # asking twice is harmless
    assert money_of(t.db()) == before
    refused(h.call("2207", {"data": h.with_presettle(data, pre)}, msgid=lost), "msgid_used", "报文ID")
    assert money_of(t.db()) == before
    q = h.ok("5203", {"data": {"psn_no": ZHANG_WEI, "setl_id": undo["ext_setl_id"], "mdtrt_id": mdtrt_id}})
    assert q["setlinfo"]["ext_status"] == "reversed" and q["setlinfo"]["medins_setl_id"] == lost
    # the cashier tries again with a new msgid: charged once
    again = h.ok("2207", {"data": h.with_presettle(data, pre)})["setlinfo"]
    assert again["acct_pay"] == D("25.00") and money_of(t.db())[ZHANG_WEI] == 356000 - 2500
    # a message that never arrived: 2601 says so, and its msgid can never take effect afterwards
    never = h.msgid()
    gone = h.ok("2601", {"data": {"psn_no": ZHANG_WEI, "omsgid": never, "oinfno": "2207"}})["data"]
    assert gone["ext_took_effect"] is False
    refused(h.call("2207", {"data": h.with_presettle(data, pre)}, msgid=never), "msgid_used")
    assert drifts(t.db()) == []


# ---------------------------------------------------------------- 3201
def test_3201_agrees_and_disagrees_naming_what_differs(centre):
    t = centre()
    h = his(t.call)
    a = h.visit(ZHANG_WEI, "310", [("XA02", "1", "1500.00")])      # deductible 1000.00, fund 500.00 × 0.70 = 350.00
    b = h.visit(LI_NA, "310", [("XA01", "1", "30.00")])            # all deductible: 30.00 from her account
    assert (a["fund_pay_sumamt"], a["acct_pay"], b["fund_pay_sumamt"], b["acct_pay"]) == \
        (D("350.00"), D("1150.00"), D("0.00"), D("30.00"))
    day = a["setl_time"][:10]
    mine = {"insutype": "310", "clr_type": "11", "setl_optins": "", "stmt_begndate": day, "stmt_enddate": day,
            "medfee_sumamt": D("1530.00"), "fund_pay_sumamt": D("350.00"), "acct_pay": D("1180.00"),
            "fixmedins_setl_cnt": 2}
    agree = h.ok("3201", {"data": mine})["stmtinfo"]
    assert agree["stmt_rslt"] == "0"
    differ = h.ok("3201", {"data": {**mine, "acct_pay": D("1180.01"), "fixmedins_setl_cnt": 3}})["stmtinfo"]
    assert differ["stmt_rslt"] == "1"
    text = differ["stmt_rslt_dscr"]
    assert "结算笔数" in text and "3笔" in text and "2笔" in text
    assert "acct_pay" in text and "1180.01" in text and "1180.00" in text
    assert "medfee_sumamt" not in text and "fund_pay_sumamt" not in text
    assert differ["ext_centre"]["acct_pay"] == D("1180.00")


# ---------------------------------------------------------------- refusals
def _base_3201(h) -> dict[str, Any]:
    return {"data": {"insutype": "310", "clr_type": "11", "stmt_begndate": "2026-01-01", "stmt_enddate": "2026-12-31",
                     "medfee_sumamt": D("0.00"), "fund_pay_sumamt": D("0.00"), "acct_pay": D("0.00"),
                     "fixmedins_setl_cnt": 0}}


def _card_query(_h) -> dict[str, Any]:
    return {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A10000001",
                     "card_sn": "410100D156000005C38275EEFC9B1001"}}


def _set(path: str, value: Any):
    """A change to one field of the envelope (dots into `input`); the value DELETE removes it."""
    def change(env: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = env
        for p in parents:
            node = node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return change


DELETE = object()
MALFORMED = [  # (what, infno, input, change, ext_err_code, a part of err_msg)
    ("a string where a number is due", "3201", _base_3201, _set("input.data.medfee_sumamt", "25.00"),
     "bad_request", "medfee_sumamt应为数字"),
    ("a number where text is due", "1101", _card_query, _set("input.data.mdtrt_cert_no", 10000001),
     "bad_request", "mdtrt_cert_no"),
    ("input not an object", "1101", _card_query, _set("input", ["data"]), "bad_request", "input"),
    ("an amount with three decimals", "3201", _base_3201, _set("input.data.acct_pay", D("25.001")),
     "bad_request", "acct_pay小数位数过多"),
    ("a negative count", "3201", _base_3201, _set("input.data.fixmedins_setl_cnt", -1), "bad_request",
     "fixmedins_setl_cnt"),
    ("a required envelope field missing", "1101", _card_query, _set("opter_type", DELETE), "bad_request",
     "opter_type缺少"),
    ("a required input field missing", "1101", _card_query, _set("input.data.mdtrt_cert_no", DELETE),
     "bad_request", "mdtrt_cert_no"),
    ("the card_sn a card needs missing", "1101", _card_query, _set("input.data.card_sn", ""), "bad_request",
     "card_sn"),
    ("a msgid too short", "1101", _card_query, _set("msgid", "H41010000001202612011200"), "bad_request", "msgid"),
    ("a msgid of another hospital", "1101", _card_query, _set("msgid", "H41010000099202612011200000001"),
     "bad_request", "msgid"),
    ("a msgid whose time is not a time", "1101", _card_query, _set("msgid", "H41010000001202613011200000001"),
     "bad_request", "msgid"),
    ("an unknown infno", "9999", _card_query, None, "infno_unknown", "9999"),
    ("an infno of the wrong shape", "21", _card_query, None, "bad_request", "infno"),
    ("no sign-in", "1101", _card_query, _set("sign_no", ""), "sign_required", "签到"),
    ("a sign_no nobody issued", "1101", _card_query, _set("sign_no", "20260101000000ABCDEF"), "sign_required", "签到"),
    ("an insuplc_admdvs of the wrong shape", "1101", _card_query, _set("insuplc_admdvs", "4101"), "bad_request",
     "insuplc_admdvs"),
]


@pytest.mark.parametrize("what, infno, make_input, change, code, zh", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_every_malformed_message_is_a_clear_refusal_that_changes_nothing(shared_centre, what, infno, make_input,
                                                                         change, code, zh):
    t = shared_centre
    h = his(t.call)
    before = standing(t)
    env = h.envelope(infno, make_input(h))
    if change is not None:
        change(env)
    answer = t.call(env)
    refused(answer, code, zh)
    assert not re.search(r"[\u4e00-\u9fff]", answer["ext_err_msg_en"]), answer["ext_err_msg_en"]   # English only
    assert "Value error" not in answer["err_msg"]
    if t.kind == "http":
        assert t.call.last.status_code == 200
    assert standing(t) == before


def test_a_msgid_seen_before_is_refused_whatever_it_carries(shared_centre):
    t = shared_centre
    h = his(t.call)
    msgid = h.msgid()
    assert h.call("1101", _card_query(h), msgid=msgid)["infcode"] == 0
    refused(h.call("1101", _card_query(h), msgid=msgid), "msgid_used", f"报文ID{msgid}重复")
    refused(h.call("3201", _base_3201(h), msgid=msgid), "msgid_used")
    bad = h.msgid()                                     # a refused message's msgid is used too
    refused(h.call("1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "NOPE", "card_sn": "X"}}, msgid=bad),
            "card_unknown", "社会保障卡")
    refused(h.call("1101", _card_query(h), msgid=bad), "msgid_used")


def test_an_unknown_catalogue_code_is_refused_with_the_code_named(shared_centre):
    t = shared_centre
    h = his(t.call)
    h.identify(ZHANG_WEI)
    mdtrt_id = h.register(ZHANG_WEI, "310")
    before = standing(t)
    answer = h.call("2204", {"feedetail": [{"feedetl_sn": "1", "mdtrt_id": mdtrt_id, "psn_no": ZHANG_WEI,
                                            "chrg_bchno": "B1", "fee_ocur_time": "2026-12-01 10:00:00",
                                            "med_list_codg": "ZZ9999", "det_item_fee_sumamt": D("1.00"),
                                            "cnt": D("1"), "pric": D("1.00")}]})
    refused(answer, "item_unknown", "ZZ9999")
    assert standing(t) == before


def test_an_expired_sign_in_is_refused_until_the_window_signs_in_again(centre):
    t = centre("expire-sign")
    h = his(t.call)
    refused(h.call("1101", _card_query(h)), "sign_expired", "重新签到")
    h.sign_in()
    assert h.call("1101", _card_query(h))["infcode"] == 0


def test_the_error_fault_refuses_the_next_one_with_a_realistic_message_and_does_nothing(centre):
    t = centre("error:2207")
    h = his(t.call)
    h.identify(ZHANG_WEI)
    mdtrt_id = h.register(ZHANG_WEI, "310")
    h.upload(mdtrt_id, ZHANG_WEI, [("XA01", "1", "30.00")])
    data = h.settle_data(mdtrt_id, ZHANG_WEI, "310", D("30.00"))
    pre = h.ok("2206", {"data": data})["setlinfo"]
    before = standing(t)
    refused(h.call("2207", {"data": h.with_presettle(data, pre)}), "fault_error", "结算失败")
    assert standing(t) == before
    assert h.ok("2207", {"data": h.with_presettle(data, pre)})["setlinfo"]["acct_pay"] == D("30.00")


def test_a_centre_that_is_down_refuses_every_call(centre):
    t = centre("down")
    h = His(t.call)                                    # it cannot even sign in
    for infno, inp in (("9001", {"signIn": {"opter_no": "c1"}}), ("1101", _card_query(h))):
        with pytest.raises(CentreDown):
            h.call(infno, inp)
        if t.kind == "http":
            response = t.call.post(b"{}")
            assert response.status_code == 503 and "down" in response.json()["error"]
    assert counts_of(t.db()) == {"settlements": 0, "ledger": 0, "accumulators": 0}
    if t.server is not None:                  # a refused call is still one line in the log
        deadline = time.monotonic() + 5
        while t.server.stderr().count("answer=down") < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert t.server.stderr().count("infcode=-1") == t.server.stderr().count("answer=down") == 4


def test_delay_ms_delays_every_answer(centre):
    t = centre("delay-ms:300")
    h = his(t.call)
    started = time.perf_counter()
    assert h.call("1101", _card_query(h))["infcode"] == 0
    assert time.perf_counter() - started >= 0.3


# ---------------------------------------------------------------- HTTP only: what is not an envelope at all
@pytest.mark.parametrize("body, status, message", [
    (b"not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"infno": NaN}', 400, "NaN"),
    (b"\xff\xfe", 400, "UTF-8"),
    (b"[" * 100 + b"]" * 100, 400, "nested"),
    (b'{"a": "' + b"x" * (1 << 20) + b'"}', 413, "over"),
], ids=["not-json", "array", "nan", "not-utf8", "deep", "too-big"])
@pytest.mark.parametrize("shared_centre", ["http"], indirect=True)     # in-process there is no body
def test_http_bodies_that_are_not_envelopes(shared_centre, body, status, message):
    response = shared_centre.call.post(body)
    assert response.status_code == status and message in response.json()["error"]
    assert shared_centre.call.post(b"{}").json()["infcode"] == -1          # an empty object is an envelope, refused
