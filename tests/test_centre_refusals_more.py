"""Refusals a tester found missing, through a real `cashier centre serve` (httpx) and in-process: times and dates
that are not real ones, a visit registered with another person's card or ID number, a 3201 period that ends
before it begins or spans centuries, a msgid refusal that names `msgid`, a number of too many digits refused
in an envelope, and a body with a key twice. Each is refused and changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from centre_flow import CARDS, D, his, refusing_centre
from pg_stack import TRANSPORTS

ZHANG_WEI, XIAOYU = "P10000001", "P10000003"
ZHANG_WEI_CERTNO, XIAOYU_CERTNO = "410102197805126716", "410105201206016927"
TABLES = ("visits", "fee_details", "settlements", "ledger", "accumulators", "accounts")


@pytest.fixture(scope="module", params=TRANSPORTS)
def centre(request, tmp_path_factory):
    """One centre (the demo export and a small catalogue) for tests that only need it to refuse."""
    yield from refusing_centre(request, tmp_path_factory, "refusals")


def standing(t) -> dict[str, Any]:
    """What a refusal must leave as it was: the rows of every table a transaction writes, and the balances."""
    db = t.db()
    out: dict[str, Any] = {table: int(db.one(f"SELECT count(*) FROM {table}")[0]) for table in TABLES}
    out["balances"] = sorted((r[0], int(r[1])) for r in db.all("SELECT psn_no, balc FROM accounts"))
    return out


def refused(answer: dict[str, Any], code: str, *parts: str) -> None:
    """infcode -1 with `code`, every part in err_msg (Chinese) or in ext_err_msg_en, no output."""
    assert answer["infcode"] == -1, answer
    assert answer["ext_err_code"] == code, (answer["ext_err_code"], answer["err_msg"], answer.get("ext_err_msg_en"))
    assert re.search(r"[\u4e00-\u9fff]", answer["err_msg"]), answer["err_msg"]
    for part in parts:
        assert part in answer["err_msg"] or part in answer["ext_err_msg_en"], (part, answer)
    assert answer["output"] is None


def _registration(h, psn_no: str = ZHANG_WEI, **change: Any) -> dict[str, Any]:
    return {"data": {"psn_no": psn_no, "insutype": "310", "begntime": h.now_text(), "mdtrt_cert_type": "03",
                     "mdtrt_cert_no": CARDS[psn_no][0], "ipt_otp_no": "MZ900001", **change}}


def _fee(h, mdtrt_id: str, **change: Any) -> dict[str, Any]:
    return {"feedetail": [{"feedetl_sn": "1", "mdtrt_id": mdtrt_id, "psn_no": ZHANG_WEI, "chrg_bchno": "B1",
                           "fee_ocur_time": h.now_text(), "med_list_codg": "XA01", "det_item_fee_sumamt": D("1.00"),
                           "cnt": D("1"), "pric": D("1.00"), **change}]}


def _reconcile(**change: Any) -> dict[str, Any]:
    return {"data": {"insutype": "310", "clr_type": "11", "stmt_begndate": "2026-01-01",
                     "stmt_enddate": "2026-12-31", "medfee_sumamt": D("0.00"), "fund_pay_sumamt": D("0.00"),
                     "acct_pay": D("0.00"), "fixmedins_setl_cnt": 0, **change}}


# ---------------------------------------------------------------- 1. times and dates that are not ones
@pytest.mark.parametrize("value", ["2026-13-45 99:99:99", "not a time", "2026-02-30 10:00:00", "2026-1-5 9:3:0",
                                   "2026-12-01T10:00:00", "2026-12-01"])
def test_a_fee_time_that_is_not_a_time_is_refused_naming_the_field(centre, value):
    h = his(centre.call)
    h.identify(ZHANG_WEI)
    mdtrt_id = h.register(ZHANG_WEI, "310")
    before = standing(centre)
    refused(h.call("2204", _fee(h, mdtrt_id, fee_ocur_time=value)), "bad_request", "fee_ocur_time",
            "时间格式应为yyyy-MM-dd HH:mm:ss")
    assert standing(centre) == before
    assert h.call("2204", _fee(h, mdtrt_id))["infcode"] == 0          # the same detail with a real time is taken


@pytest.mark.parametrize("infno, make, field", [
    ("2201", lambda h, v: _registration(h, begntime=v), "data.begntime"),
    ("1101", lambda h, v: {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": CARDS[ZHANG_WEI][0],
                                    "card_sn": CARDS[ZHANG_WEI][1], "begntime": v}}, "data.begntime"),
    ("2203", lambda h, v: {"mdtrtinfo": {"mdtrt_id": h.register(ZHANG_WEI, "310"), "psn_no": ZHANG_WEI,
                                         "med_type": "11", "begntime": v}}, "mdtrtinfo.begntime"),
], ids=["2201", "1101", "2203"])
def test_a_begntime_that_is_not_a_time_is_refused_naming_the_field(centre, infno, make, field):
    h = his(centre.call)
    h.identify(ZHANG_WEI)
    inp = make(h, "not a time")
    before = standing(centre)
    refused(h.call(infno, inp), "bad_request", field, "时间格式")
    assert standing(centre) == before
    assert h.call(infno, make(h, ""))["infcode"] == 0             # left empty it is optional (2201: the centre's time)


@pytest.mark.parametrize("infno, inp, field", [
    ("3201", _reconcile(stmt_begndate="2026-02-30"), "stmt_begndate"),
    ("3201", _reconcile(stmt_enddate="2026-W01-1"), "stmt_enddate"),
    ("X101", {"data": {"psn_no": ZHANG_WEI, "ext_on_date": "2026-13-01"}}, "ext_on_date"),
], ids=["3201-feb-30", "3201-week-date", "X101"])
def test_a_date_that_is_not_a_date_is_refused_naming_the_field(centre, infno, inp, field):
    h = his(centre.call)
    h.identify(ZHANG_WEI)
    refused(h.call(infno, inp), "bad_request", field, "日期格式应为yyyy-MM-dd")


# ---------------------------------------------------------------- 2. the credential must be the person's
@pytest.mark.parametrize("cert_type, cert_no, code, zh", [
    ("03", CARDS[XIAOYU][0], "card_not_theirs", f"社会保障卡{CARDS[XIAOYU][0]}不属于人员{ZHANG_WEI}"),
    ("03", "", "card_not_theirs", "不属于"),
    ("02", XIAOYU_CERTNO, "certno_not_theirs", f"证件号码与人员{ZHANG_WEI}不符"),
], ids=["another-card", "no-card", "another-id-number"])
def test_a_visit_with_another_persons_credential_is_refused(centre, cert_type, cert_no, code, zh):
    h = his(centre.call)
    h.identify(ZHANG_WEI)
    before = standing(centre)
    answer = h.call("2201", _registration(h, mdtrt_cert_type=cert_type, mdtrt_cert_no=cert_no))
    refused(answer, code, zh)
    assert XIAOYU_CERTNO not in answer["err_msg"] + answer["ext_err_msg_en"]     # never an ID number in a message
    assert standing(centre) == before
    # the person's own card, and own ID number, are taken
    assert h.call("2201", _registration(h))["infcode"] == 0
    assert h.call("2201", _registration(h, mdtrt_cert_type="02", mdtrt_cert_no=ZHANG_WEI_CERTNO))["infcode"] == 0


def test_a_settlement_with_another_persons_card_is_refused(centre):
    h = his(centre.call)
    h.identify(ZHANG_WEI)
    mdtrt_id = h.register(ZHANG_WEI, "310")
    h.upload(mdtrt_id, ZHANG_WEI, [("XA01", "1", "30.00")])
    data = {**h.settle_data(mdtrt_id, ZHANG_WEI, "310", D("30.00")), "mdtrt_cert_no": CARDS[XIAOYU][0]}
    before = standing(centre)
    refused(h.call("2206", {"data": data}), "card_not_theirs", "不属于")
    refused(h.call("2207", {"data": data}), "card_not_theirs", "不属于")
    assert standing(centre) == before


# ---------------------------------------------------------------- 3. a reconciliation period
@pytest.mark.parametrize("begin, end, parts", [
    ("2026-12-31", "2026-01-01", ("data.stmt_begndate", "晚于结束日期", "is after stmt_enddate 2026-01-01")),
    ("0001-01-01", "9999-12-31", ("data.stmt_enddate", "对账期间过长", "longer than 366 days")),
    ("2024-01-01", "2025-01-01", ("data.stmt_enddate", "对账期间过长")),                  # 366 days + 1
], ids=["ends-before-it-begins", "centuries", "a-year-and-a-day"])
def test_a_reconciliation_period_that_is_not_one_is_refused(centre, begin, end, parts):
    h = his(centre.call)
    refused(h.call("3201", _reconcile(stmt_begndate=begin, stmt_enddate=end)), "bad_request", *parts)


@pytest.mark.parametrize("begin, end", [("2026-12-02", "2026-12-02"), ("2024-01-01", "2024-12-31")],
                         ids=["a-day", "a-leap-year"])
def test_a_reconciliation_period_of_a_day_or_a_year_is_taken(centre, begin, end):
    h = his(centre.call)
    assert h.call("3201", _reconcile(stmt_begndate=begin, stmt_enddate=end))["infcode"] == 0


# ---------------------------------------------------------------- 4. the envelope
@pytest.mark.parametrize("msgid", ["short", "H41010000099202612011200000001", "H41010000001202613011200000001"],
                         ids=["short", "another-hospital", "not-a-time"])
def test_a_msgid_refusal_names_msgid(centre, msgid):
    h = his(centre.call)
    env = h.envelope("3201", _reconcile(), msgid=msgid)
    answer = centre.call(env)
    refused(answer, "bad_request")
    assert answer["err_msg"].startswith("报文字段msgid报文ID格式不正确"), answer["err_msg"]
    assert answer["ext_err_msg_en"].startswith("envelope msgid: msgid"), answer["ext_err_msg_en"]
    assert "envelope envelope" not in answer["ext_err_msg_en"]


@pytest.mark.parametrize("centre", ["http"], indirect=True)         # in-process there is no body to parse
@pytest.mark.parametrize("number, field, zh", [
    ("1" + "0" * 40, "medfee_sumamt", "位数过多"), ("1e400", "medfee_sumamt", "超过允许的最大值"),
    ("1" + "0" * 40, "fixmedins_setl_cnt", "应为整数"),
], ids=["41-digits", "1e400", "41-digits-in-a-count"])
def test_a_number_of_too_many_digits_is_an_envelope_refusal(centre, number, field, zh):
    h = his(centre.call)
    body = _body(h, _reconcile(**{field: "@N@"})).replace('"@N@"', number)
    response = centre.call.post(body.encode("utf-8"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["infcode"] == -1 and answer["ext_err_code"] == "bad_request", answer
    assert f"data.{field}" in answer["err_msg"] and zh in answer["err_msg"], answer["err_msg"]


@pytest.mark.parametrize("centre", ["http"], indirect=True)
def test_a_body_with_a_key_twice_is_not_an_envelope(centre):
    h = his(centre.call)
    body = _body(h, _reconcile())
    twice = body.replace('"infno":"3201"', '"infno":"9001","infno":"3201"', 1)
    assert twice != body
    response = centre.call.post(twice.encode("utf-8"))
    assert response.status_code == 400, response.text
    assert response.json() == {"error": 'not a request envelope: the key "infno" appears twice in one object'}
    inner = body.replace('"acct_pay":0.00', '"acct_pay":0.00,"acct_pay":99.00', 1)
    assert inner != body
    response = centre.call.post(inner.encode("utf-8"))
    assert response.status_code == 400 and "acct_pay" in response.json()["error"]
    assert centre.call.post(body.encode("utf-8")).json()["infcode"] == 0       # once each, it is taken


def _body(h, inp: dict[str, Any]) -> str:
    from centre.interface import jsonio
    return jsonio.dumps(h.envelope("3201", inp))
