"""The visit type (医疗类别 med_type) changed on a bill the window has already registered a visit for: the window
makes the centre's visit match (the open visit, never settled, is cancelled: 2205 its fees, 2202 the visit; a new
one is registered: 2201/2203/2204), so the pre-settlement is the new type's split and the settlement is made as
that type. Through the embedded centre (its real SQLite file) with the in-process emulator's card."""

from __future__ import annotations

import sqlite3

import pytest
from centre_flow import CARDS, family_lines
from centre_http_support import prepare_db

from centre.store.engine import open_store
from terminal.card_session import CardSession
from terminal.domain.bill import parse_bill
from terminal.services.ledger import open_ledger

GUOQIANG = "P10000004"      # 张国强, 390 resident: 11 → no deductible, 50% up to ¥400.00 a year; 14/21 → ¥600.00 per visit, then 60%


@pytest.fixture
def where(cfg):
    path = cfg.resolve(cfg.centre.db)
    path.parent.mkdir(parents=True, exist_ok=True)
    prepare_db(path, [({**d, "card_sn": CARDS[d["psn_no"]][1]} if d["kind"] == "person" else d)
                      for d in family_lines()])
    return path


@pytest.fixture
def open_window(cfg, where):
    """open_window() -> a CentreLedger on the embedded centre and a session with 张国强's card inserted."""
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    opened = []

    def make():
        ledger = open_ledger(cfg)
        session = CardSession(InProcessReader(load_card("zhang_guoqiang", cfg.state_dir)), cfg)
        opened.append((ledger, session))
        return ledger, session
    yield make
    for ledger, session in opened:
        session.reader.close()
        ledger.close()


def bill(med_type: str, code: str = "XA01", price: int = 100000):
    return parse_bill({"med_type": med_type, "items": [
        {"code": code, "name": "阿莫西林胶囊", "category": "drug", "class": "A", "qty": 1, "price": price}]})


def centre(where, sql: str, args=()) -> list[tuple]:
    store = open_store(where)
    try:
        return [tuple(r) for r in store.db().all(sql, list(args))]
    finally:
        store.close()


def sent(cfg) -> list[str]:
    with sqlite3.connect(cfg.db_path) as db:
        return [r[0] for r in db.execute("SELECT infno FROM centre_log WHERE infno LIKE '22%' ORDER BY rowid")]


def test_a_changed_visit_type_reregisters_the_visit_and_settles_as_the_new_type(cfg, where, open_window):
    ledger, session = open_window()
    psn_no = ledger.patient_for_card(session.read()).psn_no
    assert psn_no == GUOQIANG
    outpatient = ledger.presettle(psn_no, bill("11"), acct_used_flag=False)
    assert (outpatient.medfee_sumamt, outpatient.fund_pay_sumamt) == (100000, 40000)     # 50%, capped at ¥400.00 a year
    chronic = ledger.presettle(psn_no, bill("14"), acct_used_flag=False)
    # (1000.00 − 600.00 deductible this visit) × 60% = 240.00 from the fund
    assert (chronic.medfee_sumamt, chronic.act_pay_dedc, chronic.fund_pay_sumamt, chronic.psn_cash_pay) == \
        (100000, 60000, 24000, 76000)
    fresh, fresh_session = open_window()       # the same bill typed as 14 from the start: the same split
    fresh.patient_for_card(fresh_session.read())
    assert fresh.presettle(psn_no, bill("14"), acct_used_flag=False) == chronic
    fresh.close()                              # its visit (never settled) cancelled: 2202
    # the open 11 visit: its fees cancelled (2205), then the visit (2202); a new one registered for 14
    assert sent(cfg)[:10] == ["2201", "2203", "2204", "2206", "2205", "2202", "2201", "2203", "2204", "2206"]
    visits = centre(where, "SELECT med_type, status FROM visits WHERE psn_no = ? ORDER BY created_at, rowid",
                    [psn_no])
    assert visits[:2] == [("11", "cancelled"), ("14", "registered")]
    inpatient = ledger.presettle(psn_no, bill("21", "XA01", 50000), acct_used_flag=False)   # a bill discarded, a new one
    assert (inpatient.medfee_sumamt, inpatient.act_pay_dedc, inpatient.fund_pay_sumamt) == (50000, 50000, 0)
    done = ledger.settle(session, bill("21", "XA01", 50000), acct_used_flag=False)
    assert (done.split.medfee_sumamt, done.split.fund_pay_sumamt, done.split.psn_cash_pay) == (50000, 0, 50000)
    assert centre(where, "SELECT med_type, medfee_sumamt FROM settlements WHERE setl_id = ?", [done.setl_id]) == \
        [("21", 50000)]
    mine = centre(where, "SELECT v.med_type, v.status FROM visits v JOIN settlements s USING (mdtrt_id) "
                  "WHERE s.setl_id = ?", [done.setl_id])
    assert mine == [("21", "registered")]
    # nothing left open but the settled visit; no cancelled visit holds fees still uploaded
    assert centre(where, "SELECT count(*) FROM visits WHERE psn_no = ? AND status = 'registered' AND mdtrt_id NOT IN "
                  "(SELECT mdtrt_id FROM settlements)", [psn_no]) == [(0,)]
    assert centre(where, "SELECT count(*) FROM fee_details f JOIN visits v USING (mdtrt_id) WHERE v.status = "
                  "'cancelled' AND f.status = 'uploaded'") == [(0,)]


def test_the_same_visit_type_keeps_the_visit(cfg, where, open_window):
    """A bill changed without changing its type replaces the fees of the same visit (2205, 2204), no 2202."""
    ledger, session = open_window()
    psn_no = ledger.patient_for_card(session.read()).psn_no
    ledger.presettle(psn_no, bill("14"), acct_used_flag=False)
    again = ledger.presettle(psn_no, bill("14", "XA01", 120000), acct_used_flag=False)
    assert (again.act_pay_dedc, again.fund_pay_sumamt) == (60000, 36000)
    assert sent(cfg) == ["2201", "2203", "2204", "2206", "2205", "2204", "2206"]


def test_a_visit_the_centre_has_cancelled_already_does_not_block_the_new_type(cfg, where, open_window):
    """The open visit gone at the centre (a 2202 whose answer was lost): its 2205 and 2202 are refused as gone, and
    the bill of the new type is registered and pre-settled all the same."""
    ledger, session = open_window()
    psn_no = ledger.patient_for_card(session.read()).psn_no
    ledger.presettle(psn_no, bill("11"), acct_used_flag=False)
    store = open_store(where)
    try:
        with store.db().write() as db:
            db.execute("UPDATE visits SET status = 'cancelled'")
    finally:
        store.close()
    chronic = ledger.presettle(psn_no, bill("14"), acct_used_flag=False)
    assert (chronic.act_pay_dedc, chronic.fund_pay_sumamt) == (60000, 24000)
    assert centre(where, "SELECT med_type, status FROM visits ORDER BY created_at, rowid") == \
        [("11", "cancelled"), ("14", "registered")]
