"""The window as the centre's client, run as a cashier runs it (`cashier ... --json` subprocesses, real SQLite
files, a real `cashier centre serve` on a free port over real HTTP).

- the demo bill settles through the embedded centre to the fen computed by hand, each account moving by as much;
- `family --psn-no` names the person's insured area (from the window's cache), as the centre requires;
- `settle --json` on the centre is the platform's shape: yuan as exact two-decimal numbers, fen under `_fen`;
- two windows settle at once against one served centre, and 3201 agrees for each;
- a lost 2207 answer is resolved by 2601: nobody is charged, and the next attempt settles once;
- a centre that is down: a clear message, a non-zero exit, nothing written; the family lookup still answers
  from the cache.
"""

from __future__ import annotations

import json
import re
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from centre_http_support import ServedCentre, free_port
from conftest import ROOT
from window_centre_support import DEMO_BILL, Window, balc_fen, fen_of, make_window

AMOUNTS = ("medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc", "fund_pay_sumamt",
           "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")
# The demo bill by hand (shipped config and catalogue): 1000 + 2500 + 2 × 1250 (class A) + 3280 (class B) + 1560
# (class C) = 10840; class C self-paid in full, 1560; class B round(3280 × 0.10) = 328 self-paid first; in scope
# 10840 − 1560 − 328 = 8952.
# - 310 outpatient (张伟, 李娜): deductible ¥1,000.00 a year, none used: min(8952, 100000) = 8952 of it, so the fund
#   pays round(0 × 0.70) = 0; the person's part 10840, all from the own account (李娜's ¥120.00 covers it).
# - 390 outpatient (张小雨, no account): deductible 0, the fund round(8952 × 0.50) = 4476; her part 10840 − 4476 = 6364,
#   all from her father's account by mutual aid.
BILL_FEN = {"medfee_sumamt": 10840, "fulamt_ownpay_amt": 1560, "preselfpay_amt": 328, "inscp_scp_amt": 8952}
EMPLOYEE_FEN = {**BILL_FEN, "act_pay_dedc": 8952, "fund_pay_sumamt": 0, "psn_part_amt": 10840, "acct_pay": 10840,
                "acct_mulaid_pay": 0, "psn_cash_pay": 0}
RESIDENT_FEN = {**BILL_FEN, "act_pay_dedc": 0, "fund_pay_sumamt": 4476, "psn_part_amt": 6364, "acct_pay": 6364,
                "acct_mulaid_pay": 6364, "psn_cash_pay": 0}
# 张伟 (own account), 李娜 (a small account, ¥120.00), 张小雨 (no account: her father's pays), in this order: the fen
# each settles to, and the patient's own balance after it (None: no account).
PATIENTS = (("zhang_wei", EMPLOYEE_FEN, [], 326000 - 10840),
            ("li_na", EMPLOYEE_FEN, [], 12000 - 10840),
            ("zhang_xiaoyu", RESIDENT_FEN, [("P10000001", 6364)], None))


def _served(tmp_path: Path, *extra: str) -> ServedCentre:
    """A centre served over HTTP with the demo data (loaded by an embedded window on the same database)."""
    seed = make_window(tmp_path / "seed", centre_db=tmp_path / "centre.db")
    return ServedCentre(seed.config, tmp_path / "centre.db", *extra)


def test_the_demo_bill_settles_to_the_hand_computed_fen_through_the_embedded_centre(tmp_path):
    centre = make_window(tmp_path / "centre")
    # 张伟 starts at ¥3,260.00: the demo centre moved ¥300.00 of his ¥3,560.00 into his sister 张敏's insurance wallet
    assert balc_fen(centre, "A10000001") == 326000
    for profile, expected, mulaid, own_after in PATIENTS:
        b = centre.settle(profile)
        assert {f: fen_of(b, f) for f in AMOUNTS} == expected, profile
        assert [(m["owner_psn_no"], m["amount_fen"]) for m in b["mulaid"]] == mulaid, profile
        assert b.get("balc_fen") == own_after, profile
    # the owner paid for himself and for his daughter
    assert balc_fen(centre, "A10000001") == 326000 - 10840 - 6364
    # the centre's own record agrees: the window's log holds the settlements as answered, and 3201 agrees
    rec = centre.json("reconcile")
    assert rec["ok"] is True and sum(r["count"] for r in rec["insutypes"]) == len(PATIENTS)


def test_settle_json_on_the_centre_is_the_platforms_shape(tmp_path):
    centre = make_window(tmp_path / "w")
    done = centre.run("settle", "--reader", "emulator:zhang_wei", "--bill", str(DEMO_BILL), "--json", pin="123456")
    assert done.returncode == 0, done.stderr
    # yuan under the national names, written as exact two-decimal numbers (not strings, not floats' digits)
    assert re.search(r'"medfee_sumamt":108\.40[,}]', done.stdout)
    assert re.search(r'"acct_pay":108\.40[,}]', done.stdout)
    out = json.loads(done.stdout, parse_float=Decimal)
    info = out["setlinfo"]
    assert info["medfee_sumamt"] == Decimal("108.40") and out["medfee_sumamt_fen"] == 10840
    assert info["acct_pay"] * 100 == out["acct_pay_fen"] and info["psn_cash_pay"] * 100 == out["psn_cash_pay_fen"]
    assert info["certno"] == "410102********6716"                     # masked, as everywhere the project prints
    assert info["medins_setl_id"].startswith("H41010000001")          # the 2207's msgid
    assert out["setldetail"] and out["slip"] and Path(out["slip"]).is_file() and out["replayed"] is False
    assert not [k for k, v in out.items() if isinstance(v, int) and not isinstance(v, bool)
                and not k.endswith("_fen")], "a figure in fen without a name that says so"
    pre = centre.json("settle", "--reader", "emulator:zhang_xiaoyu", "--bill", str(DEMO_BILL), "--pre")
    assert pre["medfee_sumamt"] == Decimal("108.40") and pre["acct_mulaid_pay_fen"] == 6364
    assert pre["mulaid"] == [{"owner_psn_no": "P10000001", "binding_id": 1, "scope": "local",
                              "amount": Decimal("63.64"), "amount_fen": 6364}]
    # the same --request-id again is a replay: nothing charged twice
    balc = balc_fen(centre, "A10000001")
    first = centre.settle("zhang_wei", "--request-id", "R-1")
    again = centre.settle("zhang_wei", "--request-id", "R-1")
    assert again["replayed"] is True and again["setlinfo"]["setl_id"] == first["setlinfo"]["setl_id"]
    assert balc_fen(centre, "A10000001") == balc - 10840
    other = centre.settle("zhang_wei", "--request-id", "R-1", "--no-account", ok=False)   # another request, same id
    assert other["error"]["code"] == "request_id_conflict"
    slip = centre.json("slip", first["setlinfo"]["setl_id"])
    assert "医保结算单" in slip["slip"] and "108.40" in slip["slip"]
    # reversal through 2208: negative amounts, the account credited back
    setl_id = first["setlinfo"]["setl_id"]
    rev = centre.json("reverse", setl_id)
    assert rev["setlinfo"]["medfee_sumamt"] == Decimal("-108.40") and rev["medfee_sumamt_fen"] == -10840
    assert balc_fen(centre, "A10000001") == balc
    assert centre.json("reconcile")["ok"] is True


def test_family_json_on_the_centre_is_1101_style(tmp_path):
    centre = make_window(tmp_path / "w")
    out = centre.json("family", "--card-no", "A10000003")
    assert out["baseinfo"]["psn_no"] == "P10000003" and out["baseinfo"]["certno"].count("*") == 8
    assert out["insuinfo"][0]["insutype"] == "390" and out["own"] is None
    owners = [(r["owner_psn_no"], r["relation"]) for r in out["relatives"]]
    assert owners == [("P10000001", "30")]
    assert out["relatives"][0]["available_fen"] == 326000 and out["cached"] is False   # ¥300.00 in 张敏's wallet


def test_family_by_psn_no_names_the_insured_area_from_the_cache(tmp_path):
    """X105 by psn_no: the centre requires the person's insured area (insuplc_admdvs) in the envelope whenever an
    input names a psn_no; the window takes it from its cache (it refused with `insuplc_required` before)."""
    w = make_window(tmp_path / "w")
    out = w.json("family", "--psn-no", "P10000001")
    assert out["baseinfo"]["psn_name"] == "张伟" and out["own"]["balc_fen"] == 326000
    with w.db() as db:
        [request] = [json.loads(r[0]) for r in db.execute("SELECT request FROM centre_log WHERE infno = 'X105'")]
    assert request["insuplc_admdvs"] == "410100" and request["input"]["data"] == {"psn_no": "P10000001"}


def _settle_many(window: Window, profile: str, times: int, results: list) -> None:
    for _ in range(times):
        results.append(window.settle(profile))


def test_two_windows_settle_at_once_against_a_served_centre_and_3201_agrees_for_each(tmp_path):
    with _served(tmp_path) as served:
        # two hospitals' windows (3201 totals are per hospital: fixmedins_code), each with its own database
        one = make_window(tmp_path / "one", url=served.url, window="W01", hospital_code="H41010000001", demo=False)
        two = make_window(tmp_path / "two", url=served.url, window="W02", hospital_code="H41010000002", demo=False)
        start = balc_fen(one, "A10000001")
        results: dict[str, list] = {"one": [], "two": []}
        threads = [threading.Thread(target=_settle_many, args=(one, "zhang_wei", 3, results["one"])),
                   threading.Thread(target=_settle_many, args=(two, "zhang_xiaoyu", 3, results["two"]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert len(results["one"]) == 3 and len(results["two"]) == 3
        paid = sum(r["acct_pay_fen"] for r in results["one"] + results["two"])
        assert balc_fen(two, "A10000001") == start - paid       # 张伟 paid for himself and for his daughter
        for window, count in ((one, 3), (two, 3)):
            rec = window.json("reconcile")
            assert rec["ok"] is True, rec
            assert sum(r["count"] for r in rec["insutypes"]) == count
            assert all(r["stmt_rslt"] == "0" for r in rec["insutypes"])
        # and the windows' msgids never collide (window number in every msgid)
        ids = {r["setlinfo"]["medins_setl_id"] for r in results["one"] + results["two"]}
        assert len(ids) == 6


def test_a_lost_2207_answer_is_resolved_by_2601_and_the_next_attempt_settles_once(tmp_path):
    with _served(tmp_path, "--fault", "lost-answer:2207") as served:
        window = make_window(tmp_path / "w", url=served.url, demo=False)
        before = balc_fen(window, "A10000001")
        done = window.run("settle", "--reader", "emulator:zhang_wei", "--bill", str(DEMO_BILL), pin="123456")
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert "结算结果未知,已冲正,可重新结算" in done.stderr
        assert balc_fen(window, "A10000001") == before            # the 2601 undid it: nobody was charged
        with window.db() as db:
            states = dict(db.execute("SELECT infno, state FROM centre_log WHERE infno IN ('2207', '2601')"))
            assert states == {"2207": "resolved", "2601": "answered"}
            assert db.execute("SELECT count(*) FROM window_settlements").fetchone()[0] == 0
        again = window.settle("zhang_wei")
        assert balc_fen(window, "A10000001") == before - again["acct_pay_fen"] == before - 10840
        rec = window.json("reconcile")
        assert rec["ok"] is True and sum(r["count"] for r in rec["insutypes"]) == 1


def test_a_centre_that_is_down_is_said_clearly_and_nothing_is_written(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"          # nothing listens there
    window = make_window(tmp_path / "w", url=url, demo=False)
    # the window's cache knows 张伟 (here from the demo export: `cashier db import` loads the window's cache and
    # says that a remote centre imports on its own machine)
    done = window.run("db", "import", str(ROOT / "terminal" / "data" / "demo_export.jsonl"))
    assert done.returncode == 0 and "cashier centre import" in done.stdout
    out = window.run("settle", "--reader", "emulator:zhang_wei", "--bill", str(DEMO_BILL), "--json", pin="123456")
    assert out.returncode == 1
    err = json.loads(out.stdout)["error"]
    assert err["code"] == "centre_unreachable" and "无法连接医保中心" in err["message"] and "未扣费" in err["message"]
    with window.db() as db:
        assert db.execute("SELECT count(*) FROM window_settlements").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM request_ids").fetchone()[0] == 0
    fam = window.json("family", "--card-no", "A10000001")      # the card's person and family from the cache
    assert fam["cached"] is True and fam["baseinfo"]["psn_name"] == "张伟"
    # the whole bill in cash is the way on: recorded at this window only
    cash = window.settle("zhang_wei", "--self-pay")
    assert cash["kind"] == "cash_only" and cash["psn_cash_pay_fen"] == 10840 and cash["acct_pay_fen"] == 0


def test_the_window_opens_the_centres_client(tmp_path):
    from terminal.config import load_config
    from terminal.services.ledger import open_ledger
    w = make_window(tmp_path, demo=False)
    opened = open_ledger(load_config(w.config))
    try:
        assert opened.kind == "centre" and opened.client is not None
    finally:
        opened.close()


def test_when_even_the_2601_gets_no_answer_the_window_will_not_settle_until_it_has_asked_again(tmp_path):
    window = make_window(tmp_path / "w")
    before = balc_fen(window, "A10000001")
    text = window.config.read_text(encoding="utf-8")
    window.config.write_text(text.replace('faults = ""', 'faults = "lost-answer:2207,lost-answer:2601"', 1),
                             encoding="utf-8")
    done = window.run("settle", "--reader", "emulator:zhang_wei", "--bill", str(DEMO_BILL), pin="123456")
    assert done.returncode == 1 and "请勿重新结算" in done.stderr, done.stderr
    with window.db() as db:
        assert db.execute("SELECT state FROM centre_log WHERE infno = '2207'").fetchone()[0] == "uncertain"
    window.config.write_text(text, encoding="utf-8")       # the centre answers again
    again = window.settle("zhang_wei")                      # first the 2601 for the old 2207, then a new 2207
    with window.db() as db:
        rows = db.execute("SELECT infno, state FROM centre_log WHERE infno IN ('2207', '2601') ORDER BY id").fetchall()
    assert rows[0] == ("2207", "resolved") and rows[-1] == ("2207", "answered")
    assert [i for i, _ in rows].count("2601") == 2
    assert balc_fen(window, "A10000001") == before - again["acct_pay_fen"] == before - 10840


@pytest.mark.pcsc
def test_settle_over_pcsc_gives_the_same_amounts_on_the_embedded_and_on_a_served_centre(tmp_path, pcsc_reader_factory):
    reader = pcsc_reader_factory("zhang_xiaoyu")      # her father's account pays what the fund does not
    embedded = make_window(tmp_path / "embedded")
    a = embedded.json("settle", "--reader", f"pcsc:{reader.name}", "--bill", str(DEMO_BILL), pin="123456")
    with _served(tmp_path) as served:
        remote = make_window(tmp_path / "remote", url=served.url, window="W02", demo=False)
        b = remote.json("settle", "--reader", f"pcsc:{reader.name}", "--bill", str(DEMO_BILL), pin="123456")
    assert {f: a[f"{f}_fen"] for f in AMOUNTS} == {f: b[f"{f}_fen"] for f in AMOUNTS}
    assert a["setlinfo"]["medfee_sumamt"] == b["setlinfo"]["medfee_sumamt"] == Decimal("108.40")
    assert a["acct_mulaid_pay_fen"] > 0 and [m["owner_psn_no"] for m in b["mulaid"]] == ["P10000001"]


def test_the_probe_asks_a_served_centre_by_get_health_and_sends_no_transaction(tmp_path):
    """The idle window's probe over HTTP: connected while a centre answers, down once it is gone; no message
    on the interface (the window's log gets no row) and no msgid spent."""
    from terminal.insurance.transport import CentreUnreachable, HttpTransport
    from terminal.config import load_config
    from terminal.services.ledger import close_ledger, ledger_of
    with _served(tmp_path) as served:
        window = make_window(tmp_path / "w", url=served.url, demo=False)
        cfg = load_config(window.config)
        ledger = ledger_of(cfg)
        client = ledger.client
        try:
            client.probe()
            assert client.health.state == "connected"
            assert client.db().execute("SELECT count(*) FROM centre_log").fetchone()[0] == 0
        finally:
            url = served.url
    transport = HttpTransport(url, connect_timeout_s=0.5)
    with pytest.raises(CentreUnreachable):
        transport.probe()
    transport.close()
    client.probe()
    assert client.health.state == "down"
    close_ledger(cfg)
