"""The worked examples of docs/mutual-aid-2025.md, each computed by hand there and asserted here through the
centre's interface (centre.api, one envelope at a time, the centre's clock set by the test): the insurance
wallet and its limits, a regional cap, a prior-year-only area, an out-of-province patient settled with the
insured place's policy, class C where accounts may not pay it, a province that joined later, the quota model.
The books are checked after each (every balance, wallet, transfer and accumulator against its history)."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
from centre_flow import His
from centre_http_support import CATALOGUE, prepare_db
from centre_support import load_lines

from centre.api import open_centre
from centre.importer import import_file
from centre.rules.regional import bundled
from centre.store.engine import Database
from centre.store.migrate import migrate
from centre.store.money import drifts
from drivers.certno import check_digit

D = Decimal
ROOT = Path(__file__).resolve().parent.parent
REGIONS = [{"kind": "region", "admdvs": "410100", "name": "郑州市", "province": "河南省", "cross_province": True},
           {"kind": "region", "admdvs": "510100", "name": "成都市", "province": "四川省", "cross_province": True}]


def person(psn_no: str, name: str, sex: str, born: str, admdvs: str, insutype: str, seq: int) -> dict[str, Any]:
    """A person line with a real ID number (area, birth date, sequence, sex digit, MOD 11-2 check digit)."""
    first17 = admdvs + born.replace("-", "") + f"{seq:02d}" + ("1" if sex == "1" else "2")
    return {"kind": "person", "psn_no": psn_no, "certno": first17 + check_digit(first17), "psn_name": name,
            "gend": sex, "naty": "01", "brdy": born, "card_no": "T" + psn_no, "card_sn": f"{seq:032X}",
            "insuplc_admdvs": admdvs, "insutype": insutype, "psn_insu_stas": "1"}


def account(psn_no: str, balc: int, prior: int | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"kind": "account", "psn_no": psn_no, "balc": balc, "year": 2026}
    if prior is not None:
        line["prior_balc"] = prior
    return line


class Office(His):
    """A window that is also the insurance office: people are found by their card number (X105)."""

    def identify(self, psn_no: str) -> dict[str, Any]:
        out = self.ok("X105", {"data": {"card_no": "T" + psn_no}})
        self.insuplc = out["insuinfo"][0]["insuplc_admdvs"]
        return out

    def as_(self, psn_no: str, infno: str, data: dict[str, Any], msgid: str | None = None) -> dict[str, Any]:
        """infno for this person (their card read first): the whole answer."""
        self.identify(psn_no)
        return self.call(infno, {"data": data}, msgid)

    def ok_as(self, psn_no: str, infno: str, data: dict[str, Any]) -> dict[str, Any]:
        answer = self.as_(psn_no, infno, data)
        assert answer["infcode"] == 0, (infno, answer.get("err_msg"))
        return answer["output"]

    def transfer(self, owner: str, user: str, amount: str) -> dict[str, Any]:
        return self.as_(owner, "X111", {"owner_psn_no": owner, "user": {"psn_no": user}, "amount": D(amount)})

    def bind(self, owner: str, user: str, relation: str, scope: str = "local", **more: Any) -> dict[str, Any]:
        return self.as_(owner, "X102", {"owner_psn_no": owner, "user": {"psn_no": user}, "relation": relation,
                                        "scope": scope, **more})


class World:
    """A centre on its own SQLite file with these export lines and this config, its clock in the test's hand."""

    def __init__(self, tmp: Path, lines: list[dict[str, Any]], start: dt.datetime,
                 config: Callable[[dict[str, Any]], None] | None = None) -> None:
        raw = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
        if config is not None:
            config(raw)
        prepare_db(tmp / "centre.db", REGIONS + lines + CATALOGUE)
        self.now = start
        self.centre = open_centre(raw, tmp / "centre.db", clock=lambda: self.now)
        self.office = Office(self.centre.call, now=lambda: self.now)
        self.office.sign_in()

    def at(self, when: str) -> None:
        """Move the clock ("2026-03-02 09:00"); a new day needs a new sign-in."""
        later = dt.datetime.strptime(when, "%Y-%m-%d %H:%M")
        new_day = later.date() != self.now.date()
        self.now = later
        if new_day:
            self.office.sign_in()

    def db(self) -> Any:
        return self.centre.dispatcher.store.db()

    def balc(self, psn_no: str) -> tuple[int, int]:
        """(balance, prior-year part) in fen, as stored."""
        row = self.db().one("SELECT balc, prior_balc FROM accounts WHERE psn_no = ?", [psn_no])
        return int(row[0]), int(row[1])

    def wallet(self, psn_no: str) -> int:
        row = self.db().one("SELECT balc FROM wallets WHERE psn_no = ?", [psn_no])
        return 0 if row is None else int(row[0])

    def counts(self) -> tuple[int, ...]:
        return tuple(int(self.db().one(f"SELECT count(*) FROM {t}")[0])
                     for t in ("wallet_transfers", "movements", "bindings", "settlements", "ledger"))

    def close(self) -> None:
        assert drifts(self.db()) == []
        self.centre.close()


@pytest.fixture
def world(tmp_path: Path):
    made: list[World] = []

    def make(*args: Any, **kw: Any) -> World:
        folder = tmp_path / f"w{len(made)}"
        folder.mkdir()
        made.append(World(folder, *args, **kw))
        return made[-1]
    yield make
    for w in made:
        w.close()


def refused(answer: dict[str, Any], code: str) -> str:
    assert answer["infcode"] == -1 and answer["ext_err_code"] == code, answer
    return answer["err_msg"]


SETL = ("medfee_sumamt", "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "acct_mulaid_pay",
        "psn_cash_pay", "ext_own_acct_pay", "ext_wallet_pay")


def figures(s: dict[str, Any]) -> tuple[Decimal, ...]:
    return tuple(s[f] for f in SETL)


# ------------------------------------------------------------------ example 1: the wallet, its limits, the return

WANG = [person("W1", "王建国", "1", "1962-05-01", "410100", "310", 1), account("W1", 1_000_000),
        person("W2", "王小梅", "2", "1990-08-08", "510100", "390", 2),
        person("W3", "王强", "1", "1988-02-03", "410100", "310", 3), account("W3", 2000)]


def test_example_1_a_wallet_transfer_its_limits_and_the_0600_return(world):
    w = world(WANG, dt.datetime(2026, 3, 2, 8, 50))
    o = w.office
    # the daughter in Chengdu is bound across provinces: no quota under the wallet model
    assert o.bind("W1", "W2", "30", "cross_province")["output"]["binding"]["quota"] == D("0.00")
    assert refused(o.bind("W1", "W3", "20", "cross_province", quota=D("100.00")), "not_cross_province")
    o.bind("W1", "W3", "20")
    # 09:00 ¥500.00: the owner's account pays at once, the money waits for her until 06:00 tomorrow
    w.at("2026-03-02 09:00")
    out = o.transfer("W1", "W2", "500.00")["output"]
    assert out["transfer"]["state"] == "pending" and out["transfer"]["due_at"] == "2026-03-03 06:00:00"
    assert (out["owner_balc"], out["transfers_left_today"]) == (D("9500.00"), 2)
    assert "每天最多转账3笔" in out["limits"]["zh"]
    # 09:05 ¥2,000.01: one fen above the limit of one transfer; nothing moves and it does not count
    w.at("2026-03-02 09:05")
    before = w.counts()
    assert refused(o.transfer("W1", "W2", "2000.01"), "wallet_transfer_too_large") == \
        "单笔转账不能超过¥2,000.00(本次¥2,000.01)"
    assert w.counts()[:2] == before[:2] and w.balc("W1")[0] == 950_000
    w.at("2026-03-02 09:10")
    assert o.transfer("W1", "W2", "2000.00")["output"]["owner_balc"] == D("7500.00")
    w.at("2026-03-02 09:20")
    assert o.transfer("W1", "W2", "300.00")["output"]["transfers_left_today"] == 0
    # 09:30 the fourth of the day
    w.at("2026-03-02 09:30")
    assert refused(o.transfer("W1", "W2", "100.00"), "wallet_daily_limit") == "每天最多转账3笔,今天已转3笔,请明天再试"
    assert w.balc("W1")[0] == 720_000
    # she accepts the first two: ¥2,500.00 is hers; the third she leaves
    assert o.ok_as("W2", "X112", {"user_psn_no": "W2", "transfer_id": 1})["wallet_balc"] == D("500.00")
    assert o.ok_as("W2", "X112", {"user_psn_no": "W2", "transfer_id": 2})["wallet_balc"] == D("2500.00")
    # 05:59 the next morning it still waits; at 06:00 it goes back to her father
    w.at("2026-03-03 05:59")
    seen = o.ok_as("W2", "X113", {"psn_no": "W2"})
    assert [(t["transfer_id"], t["state"]) for t in seen["received"]] == [(1, "accepted"), (2, "accepted"), (3, "pending")]
    assert not seen["transfer_open_now"]
    w.at("2026-03-03 06:00")
    seen = o.ok_as("W2", "X113", {"psn_no": "W2"})
    assert seen["returned_now"] == [3] and seen["received"][2]["state_name"] == "已退回"
    assert seen["wallet_balc"] == D("2500.00") and w.balc("W1")[0] == 750_000
    assert refused(o.as_("W2", "X112", {"user_psn_no": "W2", "transfer_id": 3}), "transfer_returned") == \
        "转账3未在规定时间内接收,已于2026-03-03 06:00:00退回授权人个人账户"
    # 09:00 the son (same province, local binding) gets ¥30.00 and takes it
    w.at("2026-03-03 09:00")
    assert o.transfer("W1", "W3", "30.00")["output"]["owner_balc"] == D("7470.00")
    o.ok_as("W3", "X112", {"user_psn_no": "W3", "transfer_id": 4})
    # 09:10 the daughter's visit in Zhengzhou: resident outpatient 50 % of ¥300.00; her wallet pays her ¥150.00
    w.at("2026-03-03 09:10")
    s = o.visit("W2", "390", [("XA02", "1", "300.00")])
    assert figures(s) == (D("300.00"), D("0.00"), D("150.00"), D("150.00"), D("150.00"), D("0.00"), D("0.00"),
                          D("0.00"), D("150.00"))
    assert s["ext_wallet_balc"] == D("2350.00") and s["ext_mulaid"] == []
    assert [e["zh"] for e in s["ext_explain"]] == ["医保钱包支付¥150.00:亲属此前转入、已属本人的资金,计入个人账户支出,不计入共济支付"]
    # 09:20 the son: own account ¥20.00 first, then his wallet ¥30.00, then his father's account, then cash
    w.at("2026-03-03 09:20")
    o.identify("W3")
    mdtrt_id = o.register("W3", "310")
    o.upload(mdtrt_id, "W3", [("XA02", "1", "200.00")])
    data = o.settle_data(mdtrt_id, "W3", "310", D("200.00"))
    pre = o.ok("2206", {"data": data})["setlinfo"]
    lost_msgid = o.msgid()
    s3 = o.call("2207", {"data": o.with_presettle(data, pre)}, lost_msgid)["output"]["setlinfo"]
    assert figures(s3) == (D("200.00"), D("200.00"), D("0.00"), D("200.00"), D("200.00"), D("150.00"), D("0.00"),
                           D("20.00"), D("30.00"))
    assert [(m["owner_psn_no"], m["amount"]) for m in s3["ext_mulaid"]] == [("W1", D("150.00"))]
    assert (w.balc("W1")[0], w.balc("W3")[0], w.wallet("W3")) == (732_000, 0, 0)
    # a 2207 whose answer the window never saw: 2601 undoes it, the wallet gets its ¥30.00 back
    w.at("2026-03-03 09:30")
    undone = o.ok_as("W3", "2601", {"psn_no": "W3", "omsgid": lost_msgid, "oinfno": "2207"})
    assert undone["data"]["ext_took_effect"] is True
    assert (w.balc("W1")[0], w.balc("W3")[0], w.wallet("W3")) == (747_000, 2000, 3000)
    # the daughter's settlement reversed the same day (2208): ¥150.00 back into her wallet
    rev = o.ok_as("W2", "2208", {"setl_id": s["setl_id"], "mdtrt_id": s["mdtrt_id"], "psn_no": "W2"})["setlinfo"]
    assert (rev["acct_pay"], rev["ext_wallet_pay"], rev["ext_wallet_balc"]) == (D("-150.00"), D("-150.00"),
                                                                               D("2500.00"))
    # 22:30: no transfers until 06:00
    w.at("2026-03-03 22:30")
    assert refused(o.transfer("W1", "W2", "100.00"), "wallet_closed_hours") == \
        "22:00至次日06:00不能转账(现在22:30),请于06:00后再试"
    # the family lookup explains who pays how
    fam = o.ok_as("W2", "X101", {"psn_no": "W2"})
    assert fam["own"]["wallet_balc"] == D("2500.00")
    assert [(r["owner_psn_no"], r["pays_by"], r["available"]) for r in fam["relatives"]] == [("W1", "wallet", D("0.00"))]


def test_example_1_the_return_also_at_x114_and_before_a_settlement(world):
    w = world(WANG, dt.datetime(2026, 3, 2, 9, 0))
    o = w.office
    o.bind("W1", "W3", "20")
    o.transfer("W1", "W3", "40.00")
    o.transfer("W1", "W3", "60.00")
    w.at("2026-03-03 07:00")
    # the son's 2207 the next morning: the transfers went back at 06:00, so no wallet pays, his father's
    # account (back to ¥10,000.00) does
    s = o.visit("W3", "310", [("XA01", "1", "50.00")])
    assert (s["ext_own_acct_pay"], s["ext_wallet_pay"], s["acct_mulaid_pay"]) == (D("20.00"), D("0.00"), D("30.00"))
    assert w.balc("W1")[0] == 1_000_000 - 3000
    o.transfer("W1", "W3", "10.00")
    w.at("2026-03-04 06:00")
    out = o.ok("X114", {"data": {}})
    assert [(t["transfer_id"], t["state"], t["closed_at"]) for t in out["returned"]] == \
        [(3, "returned", "2026-03-04 06:00:00")]
    assert o.ok("X114", {"data": {}})["returned"] == []
    assert w.balc("W1")[0] == 1_000_000 - 3000


def test_example_1_a_province_that_joined_later_and_the_quota_model(world):
    later = {"kind": "region_rule", "admdvs": "510000", "name": "四川省", "cross_province_since": "2026-06-01"}
    w = world(WANG + [later], dt.datetime(2026, 3, 2, 9, 0))
    o = w.office
    before = w.counts()
    assert refused(o.bind("W1", "W2", "30", "cross_province"), "cross_province_not_yet") == \
        "四川省(510000)自2026-06-01起开通跨省共济,王小梅于2026-03-02尚不能跨省共济"
    assert w.counts() == before
    assert refused(o.bind("W1", "W2", "30", "cross_province", quota=D("100.00")), "cross_province_not_yet")
    w.at("2026-06-01 09:00")
    assert refused(o.bind("W1", "W2", "30", "cross_province", quota=D("100.00")), "quota_model_off")
    o.bind("W1", "W2", "30", "cross_province")
    # the same family under the quota model ([mutual_aid.options] cross_province_model = "quota")
    q = world(WANG, dt.datetime(2026, 3, 2, 9, 0), config=lambda raw: raw["mutual_aid"]["options"].update(
        cross_province_model="quota"))
    assert refused(q.office.bind("W1", "W2", "30", "cross_province"), "quota_required")
    assert q.office.bind("W1", "W2", "30", "cross_province", quota=D("100.00"))["output"]["owner_balc"] == \
        D("9900.00")
    q.office.bind("W1", "W3", "20")
    assert refused(q.office.transfer("W1", "W3", "10.00"), "wallet_off")


# ------------------------------------------------------------------ example 2: a regional cap on users per owner

FAMILY_OF_SIX = [person("W1", "王建国", "1", "1962-05-01", "410100", "310", 1), account("W1", 100_000),
                 person("F1", "李秀英", "2", "1964-03-03", "410100", "390", 11),       # wife 12
                 person("F2", "王磊", "1", "1988-02-03", "410100", "390", 12),         # son 20
                 person("F3", "王芳", "2", "1990-08-08", "410100", "390", 13),         # daughter 30
                 person("F4", "王德", "1", "1935-01-01", "410100", "390", 14),         # father 51
                 person("F5", "张桂兰", "2", "1938-09-09", "410100", "390", 15),       # mother 52
                 person("F6", "王建民", "1", "1965-07-07", "410100", "390", 16)]       # brother 70
RELATIONS = (("F1", "12"), ("F2", "20"), ("F3", "30"), ("F4", "51"), ("F5", "52"))


def test_example_2_the_sixth_user_where_the_cap_is_five(world):
    rules = [{"kind": "region_rule", "admdvs": "410100", "name": "郑州市", "max_users_per_owner": 5},
             {"kind": "region_rule", "admdvs": "410000", "name": "河南省", "max_users_per_owner": 8}]
    w = world(FAMILY_OF_SIX + rules, dt.datetime(2026, 3, 2, 9, 0))
    o = w.office
    for user, relation in RELATIONS:
        assert o.bind("W1", user, relation)["infcode"] == 0
    before = w.counts()
    answer = o.bind("W1", "F6", "70")
    assert refused(answer, "owner_user_cap") == "郑州市(410100)规定每位授权人最多绑定5名使用人,王建国已绑定5名,请先解绑一位"
    assert answer["ext_err_msg_en"] == ("郑州市 (410100) allows one owner to bind at most 5 users "
                                        "(max_users_per_owner): 王建国 already binds 5; unbind one first")
    assert w.counts() == before
    # the area's own line wins over its province's; an area without one follows the province
    said = {r["rule"]: r for r in o.ok("X121", {"data": {"admdvs": "410100"}})["rules"]}
    assert (said["max_users_per_owner"]["value"], said["max_users_per_owner"]["region_admdvs"]) == (5, "410100")
    said = {r["rule"]: r for r in o.ok("X121", {"data": {"admdvs": "410200"}})["rules"]}
    assert said["max_users_per_owner"]["zh"] == "河南省(410000):每位授权人最多绑定8名使用人"
    assert said["one_owner_per_user"]["zh"] == "全国默认规则:使用人可被多位授权人绑定"
    # unbind the father, then the brother fits
    o.as_("W1", "X103", {"owner_psn_no": "W1", "user": {"psn_no": "F4"}})
    assert o.bind("W1", "F6", "70")["infcode"] == 0


def test_one_owner_per_user_as_a_regional_rule(world):
    lines = FAMILY_OF_SIX + [person("W9", "李华", "2", "1966-06-06", "410100", "310", 19), account("W9", 1000),
                             {"kind": "region_rule", "admdvs": "410100", "name": "郑州市", "one_owner_per_user": True}]
    w = world(lines, dt.datetime(2026, 3, 2, 9, 0))
    w.office.bind("W1", "F2", "20")
    assert refused(w.office.bind("W9", "F2", "20"), "user_has_owner") == \
        "郑州市(410100)规定每位使用人只能被一位授权人绑定,王磊已被其他授权人绑定"


# ------------------------------------------------------------------ example 3: only the prior-year balance is shared

LI = [person("L1", "李明", "1", "1970-04-04", "410100", "310", 21), account("L1", 300_000, prior=80_000),
      person("L2", "赵丽", "2", "1972-12-12", "410100", "390", 22),
      {"kind": "region_rule", "admdvs": "410100", "name": "郑州市", "share_prior_year_only": True}]


def test_example_3_a_prior_year_only_area(world):
    w = world(LI, dt.datetime(2026, 3, 2, 9, 0))
    o = w.office
    o.bind("L1", "L2", "12")
    fam = o.ok_as("L2", "X101", {"psn_no": "L2"})
    assert [(r["pays_by"], r["available"]) for r in fam["relatives"]] == [("prior_year", D("800.00"))]
    # resident outpatient ¥1,500.00: 50 % is 750.00 but the year's cap is 400.00; her part 1,100.00,
    # of which her husband's prior-year ¥800.00, and cash ¥300.00
    s = o.visit("L2", "390", [("XA02", "1", "1500.00")])
    assert figures(s) == (D("1500.00"), D("0.00"), D("400.00"), D("1100.00"), D("800.00"), D("800.00"), D("300.00"),
                          D("0.00"), D("0.00"))
    assert w.balc("L1") == (220_000, 0)
    assert [e["en"] for e in s["ext_explain"]] == ["李明's area shares only the prior-year balance: ¥800.00 from it"]
    # this year's money is not shared, not even through the wallet
    assert refused(o.transfer("L1", "L2", "100.00"), "prior_year_only") == \
        "郑州市(410100)规定只有历年结余可以共济,李明的历年结余为¥0.00,不足¥100.00"
    # his own visit: employee outpatient, the year's deductible ¥1,000.00 not met; this year's part pays first
    own = o.visit("L1", "310", [("XA02", "1", "500.00")])
    assert (own["ext_own_acct_pay"], own["psn_cash_pay"], own["balc"]) == (D("500.00"), D("0.00"), D("1700.00"))
    assert w.balc("L1") == (170_000, 0)
    # her settlement reversed: the ¥800.00 goes back to his prior-year balance
    o.ok_as("L2", "2208", {"setl_id": s["setl_id"], "mdtrt_id": s["mdtrt_id"], "psn_no": "L2"})
    assert w.balc("L1") == (250_000, 80_000)
    # on 1 January this year's part becomes prior-year: all ¥2,500.00 may be shared
    w.at("2027-01-04 09:00")
    fam = o.ok_as("L2", "X101", {"psn_no": "L2"})
    assert fam["relatives"][0]["available"] == D("2500.00")
    assert o.ok_as("L1", "X101", {"psn_no": "L1"})["own"]["prior_balc"] == D("2500.00")


def test_example_3_elsewhere_the_whole_balance_is_shared(world):
    w = world(LI[:3], dt.datetime(2026, 3, 2, 9, 0))
    w.office.bind("L1", "L2", "12")
    s = w.office.visit("L2", "390", [("XA02", "1", "1500.00")])
    assert (s["acct_mulaid_pay"], s["psn_cash_pay"]) == (D("1100.00"), D("0.00"))
    assert w.balc("L1") == (190_000, 80_000)     # this year's ¥2,200.00 paid first: the prior ¥800.00 stays


# ------------------------------------------------------------------ example 4: the insured place's policy

def chengdu_policy(raw: dict[str, Any]) -> None:
    """Example figures for an area's own rules (not any area's real ones): its outpatient and inpatient
    accumulators kept apart."""
    raw["policy"]["rule"] += [
        {"admdvs": "510100", "insutype": "310", "med_type": "11", "hosp_lv": "*", "deductible": 50_000,
         "deductible_scope": "year", "ratio": "0.75", "annual_cap": 4_000_000, "pool": "outpatient"},
        {"admdvs": "510100", "insutype": "310", "med_type": "21", "hosp_lv": "*", "deductible": 120_000,
         "deductible_scope": "year", "ratio": "0.85", "annual_cap": 40_000_000, "pool": "inpatient"}]


CHEN = [person("C1", "陈静", "2", "1980-10-10", "510100", "310", 31), account("C1", 10_000),
        person("Z1", "周强", "1", "1981-11-11", "410100", "310", 32), account("Z1", 20_000)]


def test_example_4_an_out_of_province_patient_settled_with_the_insured_places_policy(world):
    w = world(CHEN, dt.datetime(2026, 3, 2, 9, 0), config=chengdu_policy)
    o = w.office
    # the local patient: the centre's own rule (deductible ¥1,000.00 a year, 70 %)
    z = o.visit("Z1", "310", [("XA02", "1", "800.00")])
    assert (z["act_pay_dedc"], z["fund_pay_sumamt"], z["ext_policy_admdvs"], z["ext_pool"]) == \
        (D("800.00"), D("0.00"), None, "shared")
    # insured in Chengdu, treated in Zhengzhou: Chengdu's outpatient rule (¥500.00, 75 %)
    c = o.visit("C1", "310", [("XA02", "1", "800.00")])
    assert figures(c) == (D("800.00"), D("500.00"), D("225.00"), D("575.00"), D("100.00"), D("0.00"), D("475.00"),
                          D("100.00"), D("0.00"))
    assert (c["ext_policy_admdvs"], c["ext_pool"]) == ("510100", "outpatient")
    assert [e["zh"] for e in c["ext_explain"]] == [
        "按参保地(510100)政策结算:起付线、支付比例、年度限额按参保地规定,目录按就医地",
        "该政策门诊、住院分别累计起付线和年度限额,本次计入门诊累计"]
    assert z["ext_explain"] == []
    assert c["pool_prop_selfpay"] == D("0.75")
    detail = o.ok_as("C1", "5203", {"psn_no": "C1", "setl_id": c["setl_id"], "mdtrt_id": c["mdtrt_id"]})
    assert detail["setlinfo"]["ext_policy_admdvs"] == "510100"
    # an inpatient stay: its own accumulators, so its own deductible (¥1,200.00) in full, 85 % above it
    i = o.visit("C1", "310", [("XA02", "1", "2000.00")], med_type="21")
    assert (i["act_pay_dedc"], i["fund_pay_sumamt"], i["psn_part_amt"], i["psn_cash_pay"]) == \
        (D("1200.00"), D("680.00"), D("1320.00"), D("1320.00"))
    assert i["ext_pool"] == "inpatient"
    # back to outpatient: that deductible was met, 75 % of ¥100.00
    again = o.visit("C1", "310", [("XA02", "1", "100.00")])
    assert (again["act_pay_dedc"], again["fund_pay_sumamt"], again["psn_cash_pay"]) == \
        (D("0.00"), D("75.00"), D("25.00"))
    assert sorted(w.db().all("SELECT pool, deductible_used, fund_paid FROM accumulators WHERE psn_no = 'C1'")) == \
        [("inpatient", 120_000, 68_000), ("outpatient", 50_000, 30_000)]


def test_one_shared_pool_counts_the_outpatient_deductible(world):
    def shared(raw: dict[str, Any]) -> None:
        chengdu_policy(raw)
        for rule in raw["policy"]["rule"]:
            rule.pop("pool", None)
    w = world(CHEN, dt.datetime(2026, 3, 2, 9, 0), config=shared)
    w.office.visit("C1", "310", [("XA02", "1", "800.00")])
    i = w.office.visit("C1", "310", [("XA02", "1", "2000.00")], med_type="21")
    assert (i["act_pay_dedc"], i["fund_pay_sumamt"], i["ext_pool"]) == (D("700.00"), D("1105.00"), "shared")


def test_the_process_text_names_whose_policy_applied(world):
    w = world(CHEN, dt.datetime(2026, 3, 2, 9, 0), config=chengdu_policy)
    o = w.office
    o.identify("C1")
    mdtrt_id = o.register("C1", "310")
    o.upload(mdtrt_id, "C1", [("XA02", "1", "800.00")])
    pre = o.ok("2206", {"data": o.settle_data(mdtrt_id, "C1", "310", D("800.00"))})
    assert pre["setldetail"][0]["setl_proc_info"].startswith("参保地(510100)政策:起付线¥500.00(年度(门诊累计))")


# ------------------------------------------------------------------ example 5: class C where no account may pay it

def test_example_5_class_c_in_cash_where_the_insured_place_says_so(world):
    no_c = {"kind": "region_rule", "admdvs": "510100", "name": "成都市", "account_pays_class_c": False}
    w = world(CHEN + [no_c], dt.datetime(2026, 3, 2, 9, 0))
    o = w.office
    o.identify("C1")
    mdtrt_id = o.register("C1", "310")
    o.upload(mdtrt_id, "C1", [("XC01", "1", "60.00"), ("XA01", "1", "20.00")])
    data = o.settle_data(mdtrt_id, "C1", "310", D("80.00"))
    pre = o.ok("2206", {"data": data})
    assert pre["setldetail"][0]["setl_proc_info"].endswith("成都市(510100)规定丙类费用¥60.00不得使用个人账户,须现金支付")
    c = o.ok("2207", {"data": o.with_presettle(data, pre["setlinfo"])})["setlinfo"]
    assert (c["fulamt_ownpay_amt"], c["act_pay_dedc"], c["fund_pay_sumamt"], c["psn_part_amt"]) == \
        (D("60.00"), D("20.00"), D("0.00"), D("80.00"))
    assert (c["acct_pay"], c["psn_cash_pay"], c["ext_class_c_from_account"]) == (D("20.00"), D("60.00"), False)
    assert c["ext_explain"][-1]["zh"] == "成都市(510100)规定丙类(全自费)费用不得使用个人账户,¥60.00须现金支付"
    # the local patient's area says nothing: the national default lets the account pay class C
    z = o.visit("Z1", "310", [("XC01", "1", "60.00"), ("XA01", "1", "20.00")])
    assert (z["acct_pay"], z["psn_cash_pay"], z["ext_class_c_from_account"]) == (D("80.00"), D("0.00"), True)
    pre_text = o.visit("C1", "310", [("XC01", "1", "10.00")], settle=False)
    assert pre_text["psn_cash_pay"] == D("10.00")


# ------------------------------------------------------------------ the rules as shipped data

def test_the_bundled_region_rules_import_and_name_each_province(tmp_path):
    db = Database(tmp_path / "c.db")
    migrate(db)
    report = import_file(db, ROOT / "centre" / "data" / "region_rules.jsonl")
    assert report.imported and report.kinds["region_rule"].inserted == len(bundled()) == 9
    assert db.one("SELECT name, cross_province_since FROM region_rules WHERE admdvs = '410000'") == ("河南省", "2026-01-09")
    db.close()


@pytest.mark.parametrize("line, message", [
    ({"admdvs": "41", "name": "河南省"}, "admdvs must be a 6-digit area code"),
    ({"admdvs": "410000", "name": "河南省", "max_users_per_owner": -1}, "max_users_per_owner must be a whole number"),
    ({"admdvs": "410000", "name": "河南省", "share_prior_year_only": "yes"}, "share_prior_year_only must be true or false"),
    ({"admdvs": "410000", "name": "河南省", "cross_province_since": "2026-02-30"}, "cross_province_since must be a date"),
    ({"admdvs": "410000"}, "name"),
])
def test_a_bad_region_rule_line_is_refused_by_number(tmp_path, line, message):
    path = tmp_path / "rules.jsonl"
    path.write_text(json.dumps({"kind": "region_rule", **line}, ensure_ascii=False) + "\n", encoding="utf-8")
    db = Database(tmp_path / "c.db")
    migrate(db)
    report = import_file(db, path)
    assert not report.imported and message in str(report.errors[0]) and "line 1" in str(report.errors[0])
    assert db.one("SELECT count(*) FROM region_rules")[0] == 0
    db.close()


def test_an_account_line_with_a_prior_year_part_above_its_balance_is_refused(tmp_path):
    db = Database(tmp_path / "c.db")
    migrate(db)
    with pytest.raises(AssertionError, match="prior_balc 500 .* cannot exceed it"):
        load_lines(db, REGIONS + [LI[0], account("L1", 400, prior=500)])
    db.close()
