"""Settlement at the window through its ledger (`open_ledger(cfg)`) on the embedded centre, with the in-process
emulator's cards: the centre's database (`[centre] db`, a real SQLite file) holds settle_data's family, the
window's database its cache and its record (docs/data-and-rules.md).

The rule-level figures of the same family (deductible across visits, every binding in order, the cross-province
quota, the caps, reversal restoring every accumulator, any sequence keeping the books, the same-day reversal,
the configured mutual-aid rules) are the centre's own tests: tests/test_centre_settlement.py. Here: what the
window does with them (the card, the PIN, the request id, the slip, what it refuses before asking the centre).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from centre_flow import CARDS, counts_of, family_lines, money_of
from centre_http_support import prepare_db

from centre.store.engine import open_store
from drivers.errors import CardError
from terminal.card_session import CardSession
from terminal.domain.bill import parse_bill
from terminal.errors import BadInput, CashierError, RuleRefused
from terminal.services.ledger import open_ledger
from terminal.services.views import mulaid_json

# the catalogue's items by class (the centre reads the class from its catalogue, 就医地目录)
CODES = {"A": ("XA01", "阿莫西林胶囊"), "B": ("XB02", "复方甘草片"), "C": ("XC01", "进口维生素")}


def family() -> list[dict]:
    """settle_data's family, each card's card_sn the emulator's (1101 checks it)."""
    return [({**d, "card_sn": CARDS[d["psn_no"]][1]} if d["kind"] == "person" else d) for d in family_lines()]


@pytest.fixture
def where(cfg):
    """The embedded centre's database, holding the family."""
    path = cfg.resolve(cfg.centre.db)
    path.parent.mkdir(parents=True, exist_ok=True)
    prepare_db(path, family())
    return path


@pytest.fixture
def ledger(cfg, where):
    led = open_ledger(cfg)
    assert led.kind == "centre"
    yield led
    led.close()


@pytest.fixture
def card(cfg):
    """card(profile) -> a CardSession on the in-process emulator with that card inserted."""
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    sessions = []

    def make(profile: str, cls=CardSession) -> CardSession:
        s = cls(InProcessReader(load_card(profile, cfg.state_dir)), cfg)
        sessions.append(s)
        return s
    yield make
    for s in sessions:
        s.reader.close()


def centre(where, sql: str, args=()) -> list[tuple]:
    store = open_store(where)
    try:
        return [tuple(r) for r in store.db().all(sql, list(args))]
    finally:
        store.close()


def edit(where, sql: str) -> None:
    """A hand edit, straight into the centre's database."""
    store = open_store(where)
    try:
        with store.db().write() as db:
            db.execute(sql)
    finally:
        store.close()


def balances(where) -> dict[str, int]:
    """Every account balance and binding quota at the centre, in fen."""
    store = open_store(where)
    try:
        return money_of(store.db())
    finally:
        store.close()


def counts(where) -> dict[str, int]:
    store = open_store(where)
    try:
        return counts_of(store.db())
    finally:
        store.close()


def sent(cfg, infno: str) -> int:
    """How many messages of this kind the window sent (its log)."""
    with sqlite3.connect(cfg.db_path) as db:
        return db.execute("SELECT count(*) FROM centre_log WHERE infno = ?", [infno]).fetchone()[0]


def bill(*items, med_type="11"):
    return parse_bill({"med_type": med_type, "items": [
        {"code": CODES[c][0], "name": CODES[c][1], "category": "drug", "class": c, "qty": q, "price": p}
        for c, q, p in items]})


def test_own_account_only(ledger, cfg, card, where):
    r = ledger.settle(card("zhang_wei"), bill(("A", 2, 1250)), pin="123456")
    # 310 outpatient, year deductible 1000.00 not met: everything individual-borne, from his account
    assert (r.split.medfee_sumamt, r.split.act_pay_dedc, r.split.fund_pay_sumamt, r.split.psn_part_amt) == (2500, 2500, 0, 2500)
    assert (r.split.acct_pay, r.split.acct_mulaid_pay, r.split.psn_cash_pay, r.balc, r.mulaid) == (2500, 0, 0, 197500, ())
    assert balances(where)["P10000001"] == 197500 and ledger.family(card_no="A10000001").own == 197500
    assert centre(where, "SELECT account, source, psn_no, binding_id, amount FROM ledger WHERE setl_id = ? "
                  "ORDER BY id", [r.setl_id]) == [("own", "balc", "P10000001", None, 2500),
                                                   ("fund", None, "P10000001", None, 0),
                                                   ("cash", None, "P10000001", None, 0)]
    year = int(r.created_at[:4])
    assert centre(where, "SELECT deductible_used, fund_paid FROM accumulators WHERE psn_no = 'P10000001' AND year = ?",
                  [year]) == [(2500, 0)]
    with sqlite3.connect(cfg.db_path) as db:     # the window's record: who settled, at which window
        assert db.execute("SELECT psn_no, \"window\", operator, medfee_sumamt FROM window_settlements "
                          "WHERE setl_id = ?", [r.setl_id]).fetchall() == [("P10000001", "W01", "cashier01", 2500)]
    slip = Path(r.slip_path).read_text(encoding="utf-8")
    assert "410102********6716" in slip and "410102197805126716" not in slip
    assert "郑州市第一人民医院" in slip and "W01" in slip and "cashier01" in slip
    for needle in ("medfee_sumamt", "25.00", "balc", "1975.00", r.setl_id):
        assert needle in slip


def test_the_split_shown_before_is_the_split_made(ledger, card):
    """The screens read a pre-settlement and the settlement it became as one shape (`Split`): the same amounts
    and the same per-owner mutual-aid parts, in the order drawn on."""
    b = bill(("C", 1, 8000))
    order = ["P10000002", "P10000001"]
    session = card("zhang_xiaoyu")
    patient = ledger.patient_for_card(session.read())
    shown = ledger.presettle(patient.psn_no, b, relatives=order)
    made = ledger.settle(session, b, pin="123456", relatives=order).split
    assert made == replace(shown, item_amounts=())
    assert [(m.owner_psn_no, m.amount) for m in made.mulaid] == [("P10000002", 5000), ("P10000001", 3000)]
    assert (made.paid_by("P10000002"), made.paid_by("P10000001"), made.psn_cash_pay) == (5000, 3000, 0)


def test_relatives_in_the_chosen_order(ledger, card, where):
    b = bill(("C", 1, 8000))                               # class C: 80.00 fully self-paid
    r = ledger.settle(card("zhang_xiaoyu"), b, pin="123456", relatives=["P10000002", "P10000001"])
    assert (r.split.psn_part_amt, r.split.acct_pay, r.split.acct_mulaid_pay, r.split.psn_cash_pay) == (8000, 8000, 8000, 0)
    assert r.balc in (None, 0)                             # she has no account of her own
    assert [(m.owner_psn_no, m.amount) for m in r.mulaid] == [("P10000002", 5000), ("P10000001", 3000)]
    assert ledger.family(card_no="A10000002").own == 0 and ledger.family(card_no="A10000001").own == 197000
    r2 = ledger.settle(card("zhang_xiaoyu"), b, pin="123456", relatives=["P10000001", "P10000002"])
    assert [(m.owner_psn_no, m.amount) for m in r2.mulaid] == [("P10000001", 8000)]
    before = (balances(where), counts(where))
    with pytest.raises(CashierError) as info:              # 刘洋 is bound to nobody: refused, nothing written
        ledger.settle(card("zhang_xiaoyu"), b, pin="123456", relatives=["P40000008"])
    assert info.value.code == "no_binding" and "P40000008" in info.value.message
    assert (balances(where), counts(where)) == before


def test_cross_province_quota_then_cash(ledger, card, where):
    r = ledger.settle(card("zhang_min"), bill(("C", 1, 40000)), pin="123456")
    assert (r.split.acct_mulaid_pay, r.split.psn_cash_pay) == (30000, 10000)
    assert mulaid_json(r.mulaid) == [{"owner_psn_no": "P10000001", "binding_id": 4, "scope": "cross_province",
                                      "amount": 30000}]
    after = balances(where)
    assert after["q4"] == 0 and after["P10000001"] == 200000      # the quota pays, not his balance


@pytest.mark.parametrize("profile,change", [
    ("zhang_min", "UPDATE bindings SET begin_date = '2025-01-01' WHERE id = 4"),   # before cross-province began
    ("zhang_min", "UPDATE persons SET insuplc_admdvs = '410100' WHERE psn_no = 'P20000005'"),  # one province
    ("zhang_xiaoyu", "UPDATE persons SET gend = '1' WHERE psn_no = 'P10000003'"),  # a 'daughter' recorded male
    ("zhang_guoqiang", "UPDATE persons SET insuplc_admdvs = '510100' WHERE psn_no = 'P10000004'"),  # local across
])
def test_a_binding_the_rules_refuse_is_never_drawn_on(ledger, card, where, profile, change):
    """However a binding against the mutual-aid rules got into the centre's database, settlement draws nothing
    from it: cash."""
    edit(where, change)
    before = balances(where)
    r = ledger.settle(card(profile), bill(("C", 1, 4000)), pin="123456")
    assert (r.split.acct_mulaid_pay, r.mulaid, r.split.psn_cash_pay) == (0, (), 4000)
    assert balances(where) == before


def test_nothing_in_any_account_is_all_cash_without_a_pin(ledger, card, where):
    before = balances(where)
    r = ledger.settle(card("zhang_guoqiang"), bill(("A", 1, 3000)), pin=None, relatives="none")
    assert (r.split.acct_pay, r.split.psn_cash_pay) == (0, r.split.psn_part_amt) and r.balc in (None, 0)
    r2 = ledger.settle(card("zhang_wei"), bill(("A", 1, 3000)), pin=None, acct_used_flag=False)
    assert (r2.split.acct_pay, r2.split.psn_cash_pay, r2.acct_used_flag, r2.balc) == (0, 3000, "0", 200000)
    assert balances(where) == before


def test_inactive_insurance_refused_nothing_written(ledger, card, where):
    before = (balances(where), counts(where))
    with pytest.raises(RuleRefused) as info:
        ledger.settle(card("zhao_lan"), bill(("A", 1, 3000)), pin="123456")
    assert info.value.code == "insurance_inactive" and "suspended" in info.value.message
    assert (balances(where), counts(where)) == before


@pytest.mark.parametrize("profile, pin, code", [("zhang_wei", "654321", "pin_wrong"),
                                               ("wang_fang", "123456", "pin_blocked")])
def test_wrong_or_blocked_pin_nothing_written(ledger, cfg, card, where, profile, pin, code):
    before = (balances(where), counts(where))
    with pytest.raises(CardError) as info:
        ledger.settle(card(profile), bill(("A", 1, 3000)), pin=pin)
    assert info.value.code == code
    assert (balances(where), counts(where)) == before
    assert sent(cfg, "2207") == 0
    with sqlite3.connect(cfg.db_path) as db:     # the PIN is in no message the window logged
        assert not [r for r in db.execute("SELECT * FROM centre_log") if any(pin in str(v) for v in r)]


def test_a_blocked_card_may_still_pay_cash_without_its_account(ledger, card):
    r = ledger.settle(card("wang_fang"), bill(("A", 1, 3000)), pin=None, acct_used_flag=False)
    assert (r.split.acct_pay, r.split.psn_cash_pay, r.balc) == (0, 3000, 80000)


def test_card_removed_before_commit_nothing_written(ledger, cfg, card, where):
    class PulledAfterPin(CardSession):
        def verify_pin(self, pin):
            super().verify_pin(pin)
            self.reader.remove()                 # the patient takes the card back before the commit

    before = (balances(where), counts(where))
    with pytest.raises(CardError) as info:
        ledger.settle(card("zhang_wei", PulledAfterPin), bill(("A", 1, 3000)), pin="123456")
    assert info.value.code == "card_removed"
    assert (balances(where), counts(where)) == before
    assert sent(cfg, "2207") == 0


def test_retry_with_the_same_request_id_charges_once(ledger, card, where):
    b = bill(("A", 1, 3000))
    first = ledger.settle(card("zhang_wei"), b, pin="123456", request_id="req-1")
    again = ledger.settle(card("zhang_wei"), b, pin="123456", request_id="req-1")
    assert again.replayed and again.setl_id == first.setl_id and again.split.acct_pay == first.split.acct_pay == 3000
    assert balances(where)["P10000001"] == 197000
    assert counts(where)["settlements"] == 1
    assert ledger.find_by_request("req-1").setl_id == first.setl_id
    with pytest.raises(RuleRefused, match="another patient"):
        ledger.settle(card("li_na"), b, pin="123456", request_id="req-1")


def test_presettle_writes_nothing(ledger, card, where):
    patient = ledger.patient_for_card(card("zhang_xiaoyu").read())
    before = (balances(where), counts(where))
    pre = ledger.presettle(patient.psn_no, bill(("B", 1, 10005), ("C", 1, 100)), relatives="auto")
    assert pre.preselfpay_amt == 1001 and pre.fulamt_ownpay_amt == 100     # 10005 × 0.10 = 1000.5 -> 1001
    assert (balances(where), counts(where)) == before


def test_reversal_restores_everything(ledger, card, where):
    start = balances(where)
    made = [ledger.settle(card("zhang_wei"), bill(("A", 1, 150000)), pin="123456"),
            ledger.settle(card("zhang_xiaoyu"), bill(("C", 1, 9000)), pin="123456",
                          relatives=["P10000002", "P10000001"]),
            ledger.settle(card("zhang_min"), bill(("C", 1, 40000)), pin="123456")]
    assert centre(where, "SELECT deductible_used, fund_paid FROM accumulators WHERE psn_no = 'P10000001'") == \
        [(100000, 35000)]                                  # (1500 − 1000) × 0.70
    assert balances(where) != start
    for r in reversed(made):
        rev = ledger.reverse(r.setl_id)
        assert rev.status == "reversal" and rev.reversal_of == r.setl_id
        assert rev.split.medfee_sumamt == -r.split.medfee_sumamt and rev.split.acct_pay == -r.split.acct_pay
    assert balances(where) == start
    assert ledger.family(card_no="A10000001").own == 200000 and ledger.family(card_no="A10000002").own == 5000
    assert centre(where, "SELECT DISTINCT deductible_used, fund_paid FROM accumulators") == [(0, 0)]
    assert centre(where, "SELECT count(*) FROM settlements WHERE status = 'reversed'") == [(3,)]
    with pytest.raises(RuleRefused, match="already reversed"):
        ledger.reverse(made[0].setl_id)
    with pytest.raises(BadInput, match="no settlement"):
        ledger.reverse("S-nope")
    assert ledger.reconcile().ok


def test_the_centres_ledger_and_settlements_are_append_only(ledger, card, where):
    r = ledger.settle(card("zhang_wei"), bill(("A", 1, 100)), pin="123456")
    store = open_store(where)
    try:
        for sql in ("UPDATE ledger SET amount = 1", "DELETE FROM ledger", "DELETE FROM settlements",
                    "UPDATE settlements SET acct_pay = 0, own_acct_pay = 0, psn_cash_pay = 100",
                    "UPDATE settlements SET status = 'reversed', acct_pay = 0, own_acct_pay = 0, psn_cash_pay = 100"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.db().write() as db:
                db.execute(sql)
    finally:
        store.close()
    assert centre(where, "SELECT amount FROM ledger WHERE setl_id = ? AND account = 'own'", [r.setl_id]) == [(100,)]


def test_reconciliation_passes_then_fails_loudly_after_a_hand_edit(ledger, cfg, card, where, config_file, capsys):
    from terminal.cli.main import main
    ledger.settle(card("zhang_wei"), bill(("A", 1, 150000)), pin="123456")
    r = ledger.settle(card("zhang_xiaoyu"), bill(("C", 1, 9000)), pin="123456")
    rep = ledger.reconcile()
    assert rep.ok and rep.count == 2
    assert {k: rep.sums[k] for k in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")} == \
        {"medfee_sumamt": 159000, "fund_pay_sumamt": 35000, "acct_pay": 124000}
    assert rep.sums == rep.ledger                          # the window's totals are the centre's (3201)
    assert ledger.reconcile(window="W99").count == 0
    # someone edits the centre's record of 张小雨's settlement by hand (after getting rid of the guard)
    store = open_store(where)
    try:
        with store.db().write() as db:
            for (name,) in db.all("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'settlements'"):
                db.execute(f"DROP TRIGGER {name}")
            db.execute("UPDATE settlements SET acct_pay = acct_pay - 100, acct_mulaid_pay = acct_mulaid_pay - 100, "
                       "psn_cash_pay = psn_cash_pay + 100 "
                       "WHERE setl_id = ?", [r.setl_id])
    finally:
        store.close()
    bad = ledger.reconcile()
    assert not bad.ok and [row.insutype for row in bad.rows if not row.agrees] == ["390"]
    assert bad.sums["acct_pay"] - bad.ledger["acct_pay"] == 100
    assert "MISMATCH" in bad.text() and "DIFFERS" in bad.text()
    code = main(["--config", str(config_file), "--lang", "en", "reconcile"])
    out = capsys.readouterr()
    assert code == 1 and "390" in out.out + out.err


def test_an_expired_card_cannot_settle_nothing_written(ledger, cfg, card, where):
    """刘洋's 1.0 card expired on 2024-05-31: refused like bind and the kiosk do (card_expired)."""
    before = (balances(where), counts(where))
    for flag in (True, False):
        with pytest.raises(CardError) as info:
            ledger.settle(card("liu_yang"), bill(("A", 1, 3000)), pin="123456", acct_used_flag=flag)
        assert info.value.code == "card_expired" and "2024-05-31" in info.value.detail
    assert (balances(where), counts(where)) == before
    assert sent(cfg, "2206") == 0
    # the day before it expired, the same card settled
    r = ledger.settle(card("liu_yang"), bill(("A", 1, 3000)), pin="123456", now=datetime(2024, 5, 31, 10, 0))
    assert r.split.acct_pay == 3000


def test_a_reused_request_id_with_another_request_is_refused(ledger, card, where):
    """A retry is the same request; another bill, patient, relatives choice or flag under the id is a conflict."""
    first = ledger.settle(card("zhang_xiaoyu"), bill(("A", 1, 3000)), pin="123456", request_id="S2")
    before = (balances(where), counts(where))
    again = ledger.settle(card("zhang_xiaoyu"), bill(("A", "1.000", 3000)), pin="123456", request_id="S2")
    assert again.replayed and again.setl_id == first.setl_id        # the same request, written differently
    for other in (dict(b=bill(("A", 1, 3001))), dict(b=bill(("A", 1, 3000), med_type="14")),
                  dict(b=bill(("A", 1, 3000)), relatives="none"), dict(b=bill(("A", 1, 3000)), relatives=["P10000002"]),
                  dict(b=bill(("A", 1, 3000)), acct_used_flag=False)):
        b = other.pop("b")
        with pytest.raises(RuleRefused) as info:
            ledger.settle(card("zhang_xiaoyu"), b, pin="123456", request_id="S2", **other)
        assert info.value.code == "request_id_conflict" and "S2" in info.value.message
    with pytest.raises(RuleRefused) as info:
        ledger.settle(card("zhang_wei"), bill(("A", 1, 3000)), pin="123456", request_id="S2")
    assert info.value.code == "request_id_conflict" and "another patient" in info.value.message
    assert (balances(where), counts(where)) == before


def test_the_request_fingerprint_is_kept(ledger, cfg, card):
    r = ledger.settle(card("zhang_wei"), bill(("A", 2, 1250)), pin="123456", request_id="fp-1")
    with sqlite3.connect(cfg.db_path) as db:
        fp, setl_id = db.execute("SELECT fingerprint, setl_id FROM request_ids WHERE request_id = 'fp-1'").fetchone()
    assert setl_id == r.setl_id and len(fp) == 64
    canonical = json.dumps({"psn_no": "P10000001", "med_type": "11", "items": [
        {"code": "XA01", "name": "阿莫西林胶囊", "category": "drug", "class": "A", "qty": "2", "price": 1250}],
        "acct_used_flag": True, "relatives": "auto"}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert fp == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_configs_absurd_amount_limits_hold_for_any_bill(where, card, config_file):
    """A bill parsed with the defaults (as the window's bill screen does) still meets the config's limits."""
    from terminal.config import load_config
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace("max_item_price = 100000000", "max_item_price = 5000", 1), encoding="utf-8")
    strict = open_ledger(load_config(config_file))
    try:
        before = (balances(where), counts(where))
        session = card("zhang_wei")
        patient = strict.patient_for_card(session.read())
        for attempt in (lambda: strict.presettle(patient.psn_no, bill(("A", 1, 5001))),
                        lambda: strict.settle(session, bill(("A", 1, 5001)), pin="123456")):
            with pytest.raises(CashierError) as info:      # the centre reads the same limits: refused there
                attempt()
            assert info.value.code == "price_absurd" and "50.01" in info.value.message
            assert "above ¥50.00" in info.value.message
        assert (balances(where), counts(where)) == before
        assert strict.settle(session, bill(("A", 1, 5000)), pin="123456").split.medfee_sumamt == 5000
    finally:
        strict.close()
