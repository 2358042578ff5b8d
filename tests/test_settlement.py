"""Settlement services on a real SQLite file with the in-process emulator's cards (docs/data-and-rules.md)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.errors import CardError
from settle_data import balances, counts, seed
from terminal.card_session import CardSession
from terminal.domain.bill import parse_bill
from terminal.errors import BadInput, RuleRefused
from terminal.services.reconcile import reconcile
from terminal.services.reversal import reverse
from terminal.services.settlement import find_by_request, presettle_for, settle
from terminal.services.views import Split, mulaid_json
from terminal.store.db import open_from_config


@pytest.fixture
def db(cfg):
    db = open_from_config(cfg, create=True)
    seed(db)
    yield db
    db.conn.close()


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


def bill(*items, med_type="11"):
    return parse_bill({"med_type": med_type, "items": [
        {"code": f"X{i}", "name": "药品", "category": "drug", "class": c, "qty": q, "price": p}
        for i, (c, q, p) in enumerate(items, 1)]})


def ledger(db, setl_id):
    return db.execute("SELECT account, source, psn_no, binding_id, amount, balc_after FROM ledger "
                      "WHERE setl_id = ? ORDER BY id", [setl_id]).fetchall()


def test_own_account_only(db, cfg, card):
    r = settle(db, cfg, card("zhang_wei"), bill(("A", 2, 1250)), pin="123456")
    # 310 outpatient, year deductible 1000.00 not met: everything individual-borne, from his account
    assert (r.split.medfee_sumamt, r.split.act_pay_dedc, r.split.fund_pay_sumamt, r.split.psn_part_amt) == (2500, 2500, 0, 2500)
    assert (r.split.acct_pay, r.split.acct_mulaid_pay, r.split.psn_cash_pay, r.balc, r.mulaid) == (2500, 0, 0, 197500, ())
    assert balances(db)["P10000001"] == 197500
    assert ledger(db, r.setl_id) == [("own", "balc", "P10000001", None, 2500, 197500),
                                     ("fund", None, "P10000001", None, 0, None),
                                     ("cash", None, "P10000001", None, 0, None)]
    year = datetime.now().year
    assert db.execute("SELECT deductible_used, fund_paid FROM accumulators WHERE psn_no = 'P10000001' AND year = ?",
                      [year]).fetchone() == (2500, 0)
    audit = db.execute("SELECT operator, \"window\", action, subject, detail FROM audit").fetchall()
    assert [a[:4] for a in audit] == [("cashier01", "W01", "settle", "P10000001")]
    assert json.loads(audit[0][4])["setl_id"] == r.setl_id
    slip = open(r.slip_path, encoding="utf-8").read()
    assert "410102********6716" in slip and "410102197805126716" not in slip
    assert "郑州市第一人民医院" in slip and "W01" in slip and "cashier01" in slip
    for needle in ("medfee_sumamt", "25.00", "balc", "1975.00", r.setl_id):
        assert needle in slip


def test_second_visit_crosses_the_year_deductible(db, cfg, card):
    """Accumulators carry the deductible across visits: 1000.00 first, then 70% above it."""
    session = card("zhang_wei")
    first = settle(db, cfg, session, bill(("A", 1, 90000)), pin="123456")
    assert (first.split.act_pay_dedc, first.split.fund_pay_sumamt) == (90000, 0)
    second = settle(db, cfg, session, bill(("A", 1, 30000)), pin="123456")
    # 100.00 deductible left; (300 − 100) × 0.70 = 140.00 from the fund; 160.00 individual
    assert (second.split.act_pay_dedc, second.split.fund_pay_sumamt, second.split.psn_part_amt, second.split.acct_pay) == \
        (10000, 14000, 16000, 16000)
    assert second.balc == 200000 - 90000 - 16000


def test_the_split_shown_before_is_the_split_made(db, cfg, card):
    """The screens read a pre-settlement and the settlement it became as one shape (`Split`): the same amounts
    and the same per-owner mutual-aid parts, in the order drawn on."""
    b = bill(("C", 1, 8000))
    order = ["P10000002", "P10000001"]
    shown = Split.of_preview(presettle_for(db, cfg, "P10000003", b, relatives=order))
    made = settle(db, cfg, card("zhang_xiaoyu"), b, pin="123456", relatives=order).split
    assert made == replace(shown, item_amounts=())
    assert [(m.owner_psn_no, m.amount) for m in made.mulaid] == [("P10000002", 5000), ("P10000001", 3000)]
    assert (made.paid_by("P10000002"), made.paid_by("P10000001"), made.psn_cash_pay) == (5000, 3000, 0)


def test_relatives_in_the_chosen_order(db, cfg, card):
    b = bill(("C", 1, 8000))                               # class C: 80.00 fully self-paid
    r = settle(db, cfg, card("zhang_xiaoyu"), b, pin="123456", relatives=["P10000002", "P10000001"])
    assert (r.split.psn_part_amt, r.split.acct_pay, r.split.acct_mulaid_pay, r.split.psn_cash_pay, r.balc) == (8000, 8000, 8000, 0, None)
    assert [(m.owner_psn_no, m.amount) for m in r.mulaid] == [("P10000002", 5000), ("P10000001", 3000)]
    assert balances(db)["P10000002"] == 0 and balances(db)["P10000001"] == 197000
    r2 = settle(db, cfg, card("zhang_xiaoyu"), b, pin="123456", relatives=["P10000001", "P10000002"])
    assert [(m.owner_psn_no, m.amount) for m in r2.mulaid] == [("P10000001", 8000)]
    assert [e[:5] for e in ledger(db, r.setl_id)] == [
        ("binding", "balc", "P10000002", 2, 5000), ("binding", "balc", "P10000001", 1, 3000),
        ("fund", None, "P10000003", None, 0), ("cash", None, "P10000003", None, 0)]
    with pytest.raises(RuleRefused, match="P40000008 has no active mutual-aid binding"):
        settle(db, cfg, card("zhang_xiaoyu"), b, pin="123456", relatives=["P40000008"])


def test_relatives_auto_uses_every_binding(db, cfg, card):
    r = settle(db, cfg, card("zhang_xiaoyu"), bill(("C", 1, 206000)), pin="123456")
    assert r.split.acct_mulaid_pay == 205000 and r.split.psn_cash_pay == 1000
    assert sorted(m.owner_psn_no for m in r.mulaid) == ["P10000001", "P10000002"]


def test_cross_province_quota_then_cash(db, cfg, card):
    r = settle(db, cfg, card("zhang_min"), bill(("C", 1, 40000)), pin="123456")
    assert (r.split.acct_mulaid_pay, r.split.psn_cash_pay) == (30000, 10000)
    assert mulaid_json(r.mulaid) == [{"owner_psn_no": "P10000001", "binding_id": 4, "scope": "cross_province", "amount": 30000}]
    after = balances(db)
    assert after["q4"] == 0 and after["P10000001"] == 200000      # the quota pays, not his balance
    assert ledger(db, r.setl_id)[0] == ("binding", "quota", "P10000001", 4, 30000, 0)


@pytest.mark.parametrize("profile,change", [
    ("zhang_min", "UPDATE bindings SET begin_date = '2025-01-01' WHERE id = 4"),   # before cross-province began
    ("zhang_min", "UPDATE persons SET insuplc_admdvs = '410100' WHERE psn_no = 'P20000005'"),  # one province
    ("zhang_xiaoyu", "UPDATE persons SET gend = '1' WHERE psn_no = 'P10000003'"),  # a 'daughter' recorded male
    ("zhang_guoqiang", "UPDATE persons SET insuplc_admdvs = '510100' WHERE psn_no = 'P10000004'"),  # local across
])
def test_a_binding_the_rules_refuse_is_never_drawn_on(db, cfg, card, profile, change):
    """However a binding against the mutual-aid rules got into the database, settlement draws nothing from it: cash."""
    with db.conn:
        db.execute(change)
    before = balances(db)
    r = settle(db, cfg, card(profile), bill(("C", 1, 4000)), pin="123456")
    assert (r.split.acct_mulaid_pay, r.mulaid, r.split.psn_cash_pay) == (0, (), 4000)
    assert balances(db) == before


def test_nothing_in_any_account_is_all_cash_without_a_pin(db, cfg, card):
    before = balances(db)
    r = settle(db, cfg, card("zhang_guoqiang"), bill(("A", 1, 3000)), pin=None, relatives="none")
    assert (r.split.acct_pay, r.split.psn_cash_pay, r.balc) == (0, r.split.psn_part_amt, None)
    r2 = settle(db, cfg, card("zhang_wei"), bill(("A", 1, 3000)), pin=None, acct_used_flag=False)
    assert (r2.split.acct_pay, r2.split.psn_cash_pay, r2.acct_used_flag, r2.balc) == (0, 3000, "0", 200000)
    assert balances(db) == before


def test_inactive_insurance_refused_nothing_written(db, cfg, card):
    before = (balances(db), counts(db))
    with pytest.raises(RuleRefused) as info:
        settle(db, cfg, card("zhao_lan"), bill(("A", 1, 3000)), pin="123456")
    assert info.value.code == "insurance_inactive" and "suspended" in info.value.message
    assert (balances(db), counts(db)) == before


@pytest.mark.parametrize("profile, pin, code", [("zhang_wei", "654321", "pin_wrong"),
                                               ("wang_fang", "123456", "pin_blocked")])
def test_wrong_or_blocked_pin_nothing_written(db, cfg, card, profile, pin, code):
    before = (balances(db), counts(db))
    with pytest.raises(CardError) as info:
        settle(db, cfg, card(profile), bill(("A", 1, 3000)), pin=pin)
    assert info.value.code == code
    assert (balances(db), counts(db)) == before
    (action, detail), = db.execute("SELECT action, detail FROM audit").fetchall()
    assert action == "pin_failed" and pin not in detail


def test_a_blocked_card_may_still_pay_cash_without_its_account(db, cfg, card):
    r = settle(db, cfg, card("wang_fang"), bill(("A", 1, 3000)), pin=None, acct_used_flag=False)
    assert (r.split.acct_pay, r.split.psn_cash_pay, r.balc) == (0, 3000, 80000)


def test_card_removed_before_commit_nothing_written(db, cfg, card):
    class PulledAfterPin(CardSession):
        def verify_pin(self, pin):
            super().verify_pin(pin)
            self.reader.remove()                 # the patient takes the card back before the commit

    before = (balances(db), counts(db))
    with pytest.raises(CardError) as info:
        settle(db, cfg, card("zhang_wei", PulledAfterPin), bill(("A", 1, 3000)), pin="123456")
    assert info.value.code == "card_removed"
    assert (balances(db), counts(db)) == before
    assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == 0


def test_retry_with_the_same_request_id_charges_once(db, cfg, card):
    b = bill(("A", 1, 3000))
    first = settle(db, cfg, card("zhang_wei"), b, pin="123456", request_id="req-1")
    again = settle(db, cfg, card("zhang_wei"), b, pin="123456", request_id="req-1")
    assert again.replayed and again.setl_id == first.setl_id and again.split.acct_pay == first.split.acct_pay == 3000
    assert balances(db)["P10000001"] == 197000
    assert counts(db)["settlements"] == 1
    assert find_by_request(db, "req-1").setl_id == first.setl_id
    with pytest.raises(RuleRefused, match="another patient"):
        settle(db, cfg, card("li_na"), b, pin="123456", request_id="req-1")


def test_presettle_writes_nothing(db, cfg):
    before = (balances(db), counts(db))
    pre = presettle_for(db, cfg, "P10000003", bill(("B", 1, 10005), ("C", 1, 100)), relatives="auto")
    assert pre.preselfpay_amt == 1001 and pre.fulamt_ownpay_amt == 100
    assert (balances(db), counts(db)) == before


def test_reversal_restores_everything(db, cfg, card):
    start = balances(db)
    year = datetime.now().year
    made = [settle(db, cfg, card("zhang_wei"), bill(("A", 1, 150000)), pin="123456"),
            settle(db, cfg, card("zhang_xiaoyu"), bill(("C", 1, 9000)), pin="123456",
                   relatives=["P10000002", "P10000001"]),
            settle(db, cfg, card("zhang_min"), bill(("C", 1, 40000)), pin="123456")]
    acc = db.execute("SELECT deductible_used, fund_paid FROM accumulators WHERE psn_no='P10000001'").fetchone()
    assert acc == (100000, 35000)                        # (1500 − 1000) × 0.70
    assert balances(db) != start
    for r in reversed(made):
        rev = reverse(db, cfg, r.setl_id)
        assert rev.status == "reversal" and rev.reversal_of == r.setl_id
        assert rev.split.medfee_sumamt == -r.split.medfee_sumamt and rev.split.acct_pay == -r.split.acct_pay
    assert balances(db) == start
    assert db.execute("SELECT DISTINCT deductible_used, fund_paid FROM accumulators").fetchall() == [(0, 0)]
    assert db.execute("SELECT count(*) FROM settlements WHERE status = 'reversed'").fetchone()[0] == 3
    for psn_no, total in db.execute("SELECT psn_no, sum(amount) FROM ledger WHERE account != 'cash' "
                                    "AND account != 'fund' GROUP BY psn_no"):
        assert total == 0, psn_no
    with pytest.raises(RuleRefused, match="already reversed"):
        reverse(db, cfg, made[0].setl_id)
    with pytest.raises(BadInput, match="no settlement"):
        reverse(db, cfg, "S-nope")
    assert reconcile(db, cfg).ok


def test_reversal_only_same_day(db, cfg, card):
    yesterday = datetime.now() - timedelta(days=1)
    r = settle(db, cfg, card("zhang_wei"), bill(("A", 1, 100)), pin="123456", now=yesterday)
    with pytest.raises(RuleRefused, match="only same-day"):
        reverse(db, cfg, r.setl_id)


def test_ledger_and_settlements_are_append_only(db, cfg, card):
    r = settle(db, cfg, card("zhang_wei"), bill(("A", 1, 100)), pin="123456")
    for sql in ("UPDATE ledger SET amount = 1", "DELETE FROM ledger", "DELETE FROM settlements",
                "UPDATE settlements SET acct_pay = 0, psn_cash_pay = 100",
                "UPDATE settlements SET status = 'reversed', acct_pay = 0, psn_cash_pay = 100"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.conn.execute(sql)
    assert ledger(db, r.setl_id)[0][4] == 100


def test_reconciliation_passes_then_fails_loudly_after_a_hand_edit(db, cfg, card):
    settle(db, cfg, card("zhang_wei"), bill(("A", 1, 150000)), pin="123456")
    r = settle(db, cfg, card("zhang_xiaoyu"), bill(("C", 1, 9000)), pin="123456")
    rep = reconcile(db, cfg)
    assert rep.ok and rep.count == 2 and rep.mismatches == []
    assert rep.sums == {"medfee_sumamt": 159000, "fund_pay_sumamt": 35000, "acct_pay": 124000,
                        "acct_mulaid_pay": 9000, "psn_cash_pay": 0}
    assert rep.sums == rep.ledger
    assert reconcile(db, cfg, window="W99").count == 0
    # someone edits a ledger row by hand (after getting rid of the guard)
    db.conn.execute("DROP TRIGGER ledger_no_update")
    db.conn.execute("UPDATE ledger SET amount = amount - 100 WHERE setl_id = ? AND account = 'binding'", [r.setl_id])
    bad = reconcile(db, cfg)
    assert not bad.ok
    assert {(m.field, m.setl_id) for m in bad.mismatches} >= {("acct_mulaid_pay", r.setl_id), ("acct_pay", r.setl_id)}
    assert any(m.window == "W01" and m.field == "acct_pay" and m.settlements - m.ledger == 100
               for m in bad.mismatches)
    assert "MISMATCH" in bad.text() and r.setl_id in bad.text()


ops = st.lists(st.tuples(st.sampled_from(["settle", "settle", "settle", "reverse"]),
                         st.sampled_from(["P10000001", "P10000002", "P10000003", "P10000004", "P20000005"]),
                         st.sampled_from(["auto", "none", ("P10000002", "P10000001"), ("P10000001",)]),
                         st.booleans(),
                         st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from([1, 2, "0.5", "1.333"]),
                                            st.integers(0, 120000)), min_size=1, max_size=3)),
               min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=ops)
def test_any_sequence_of_settlements_and_reversals_keeps_the_books(cfg, script):
    """Random settlements and reversals on a fresh database: balances, quotas, accumulators, reconciliation."""
    import tempfile
    from dataclasses import replace
    from pathlib import Path

    from settle_data import check_money_invariants
    from terminal.services.settlement import commit_settlement
    from terminal.store.db import open_db
    with tempfile.TemporaryDirectory() as d:
        local = cfg.with_overrides(terminal=replace(cfg.terminal, slips_dir=str(Path(d) / "slips")))
        db = open_db(Path(d) / "t.db", create=True)
        seed(db)
        start = balances(db)
        made: list[str] = []
        for op, psn_no, relatives, use_account, items in script:
            if op == "reverse":
                if made:
                    reverse(db, local, made.pop(0), save_slip=False)
                continue
            rels = relatives if isinstance(relatives, str) else list(relatives)
            try:
                r = commit_settlement(db, local, psn_no, bill(*items), relatives=rels, acct_used_flag=use_account)
            except RuleRefused as exc:
                assert exc.code == "no_binding"
                continue
            made.append(r.setl_id)
            assert r.split.medfee_sumamt == r.split.fund_pay_sumamt + r.split.acct_pay + r.split.psn_cash_pay
        check_money_invariants(db, start)
        assert reconcile(db, local).ok
        db.conn.close()


def test_an_expired_card_cannot_settle_nothing_written(db, cfg, card):
    """刘洋's 1.0 card expired on 2024-05-31: refused like bind and the kiosk do (card_expired)."""
    before = (balances(db), counts(db))
    for flag in (True, False):
        with pytest.raises(CardError) as info:
            settle(db, cfg, card("liu_yang"), bill(("A", 1, 3000)), pin="123456", acct_used_flag=flag)
        assert info.value.code == "card_expired" and "2024-05-31" in info.value.detail
    assert (balances(db), counts(db)) == before
    assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == 0
    # the day before it expired, the same card settled
    r = settle(db, cfg, card("liu_yang"), bill(("A", 1, 3000)), pin="123456", now=datetime(2024, 5, 31, 10, 0))
    assert r.split.acct_pay == 3000


def test_a_reused_request_id_with_another_request_is_refused(db, cfg, card):
    """A retry is the same request; another bill, patient, relatives choice or flag under the id is a conflict."""
    from terminal.services.settlement import commit_settlement
    first = settle(db, cfg, card("zhang_xiaoyu"), bill(("A", 1, 3000)), pin="123456", request_id="S2")
    before = (balances(db), counts(db))
    again = settle(db, cfg, card("zhang_xiaoyu"), bill(("A", "1.000", 3000)), pin="123456", request_id="S2")
    assert again.replayed and again.setl_id == first.setl_id        # the same request, written differently
    for other in (dict(b=bill(("A", 1, 3001))), dict(b=bill(("A", 1, 3000), med_type="14")),
                  dict(b=bill(("A", 1, 3000)), relatives="none"), dict(b=bill(("A", 1, 3000)), relatives=["P10000002"]),
                  dict(b=bill(("A", 1, 3000)), acct_used_flag=False)):
        b = other.pop("b")
        with pytest.raises(RuleRefused) as info:
            settle(db, cfg, card("zhang_xiaoyu"), b, pin="123456", request_id="S2", **other)
        assert info.value.code == "request_id_conflict" and "S2" in info.value.message
        with pytest.raises(RuleRefused) as info:     # the same check inside the transaction
            commit_settlement(db, cfg, "P10000003", b, request_id="S2", **other)
        assert info.value.code == "request_id_conflict"
    with pytest.raises(RuleRefused) as info:
        settle(db, cfg, card("zhang_wei"), bill(("A", 1, 3000)), pin="123456", request_id="S2")
    assert info.value.code == "request_id_conflict" and "another patient" in info.value.message
    assert (balances(db), counts(db)) == before


def test_the_request_fingerprint_is_kept_and_frozen(db, cfg, card):
    import hashlib
    r = settle(db, cfg, card("zhang_wei"), bill(("A", 2, 1250)), pin="123456", request_id="fp-1")
    fp, = db.execute("SELECT request_fp FROM settlements WHERE setl_id = ?", [r.setl_id]).fetchone()
    assert len(fp) == 64 and int(fp, 16) >= 0
    canonical = json.dumps({"psn_no": "P10000001", "med_type": "11", "items": [
        {"code": "X1", "name": "药品", "category": "drug", "class": "A", "qty": "2", "price": 1250}],
        "acct_used_flag": True, "relatives": "auto"}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert fp == hashlib.sha256(canonical.encode()).hexdigest()
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE settlements SET request_fp = 'x' WHERE setl_id = ?", [r.setl_id])


def test_a_database_from_before_the_fingerprint_is_migrated(cfg, card):
    """Step 0002 on a window's database made by step 0001; rows written before it carry no fingerprint."""
    import sqlite_utils
    from terminal.services.settlement import _same_request
    from terminal.store.migrations import MIGRATIONS
    cfg.db_path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite_utils.Database(str(cfg.db_path))
    MIGRATIONS.apply(old, stop_before="settlement_0002_request_fingerprint")
    assert "request_fp" not in old["settlements"].columns_dict
    seed(old)
    old.conn.close()
    db = open_from_config(cfg)                       # migrates
    assert "request_fp" in db["settlements"].columns_dict
    first = settle(db, cfg, card("zhang_wei"), bill(("A", 1, 3000)), pin="123456", request_id="m-1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE settlements SET request_fp = NULL WHERE setl_id = ?", [first.setl_id])
    reversed_ = reverse(db, cfg, first.setl_id)      # the only update allowed still works
    assert db.execute("SELECT status, request_fp FROM settlements WHERE setl_id = ?",
                      [reversed_.setl_id]).fetchone() == ("reversal", None)
    _same_request({"psn_no": "P1", "request_fp": None}, "old-1", "P1", "f" * 64)   # a pre-0002 row: no check
    db.conn.close()


def test_the_configs_absurd_amount_limits_hold_for_any_bill(db, cfg, card, config_file):
    """A bill parsed with the defaults (as the window's bill screen does) still meets the config's limits."""
    from terminal.config import load_config
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace("max_item_price = 100000000", "max_item_price = 5000", 1), encoding="utf-8")
    strict = load_config(config_file)
    before = (balances(db), counts(db))
    with pytest.raises(BadInput, match="item 1 \\(X1\\): the unit price ¥50.01 is above the limit of ¥50.00"):
        presettle_for(db, strict, "P10000001", bill(("A", 1, 5001)))
    with pytest.raises(BadInput, match="above the limit of ¥50.00") as info:
        settle(db, strict, card("zhang_wei"), bill(("A", 1, 5001)), pin="123456")
    assert (info.value.details["limit"], info.value.details["limit_fen"]) == ("max_item_price", 5000)
    assert (balances(db), counts(db)) == before
    assert settle(db, strict, card("zhang_wei"), bill(("A", 1, 5000)), pin="123456").split.medfee_sumamt == 5000


def test_settlement_follows_the_configured_mutual_aid_rules(db, config_file, card):
    """A window whose [mutual_aid] allows only spouses draws on no parent's account."""
    from terminal.config import load_config
    text = config_file.read_text(encoding="utf-8")
    text = text.replace('relations = ["10", "11", "12", "20", "30", "50", "51", "52"]', 'relations = ["10", "11", "12"]')
    text = text.replace('relations = ["10", "11", "12", "20", "30", "40", "50", "51", "52", "60", "70"]',
                        'relations = ["10", "11", "12"]')
    config_file.write_text(text, encoding="utf-8")
    spouses_only = load_config(config_file)
    r = settle(db, spouses_only, card("zhang_xiaoyu"), bill(("C", 1, 8000)), pin="123456", relatives="auto")
    assert (r.split.acct_mulaid_pay, r.split.psn_cash_pay, r.mulaid) == (0, 8000, ())
    assert balances(db)["P10000001"] == 200000 and balances(db)["P10000002"] == 5000
