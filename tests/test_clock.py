"""One clock for the window's timestamps: local time with its UTC offset (docs/operations.md, "Time").

The clock is injected (`now=` on settle and reverse), never slept on: a settlement at 23:59:50 and the
minutes after local midnight, on a machine in Asia/Shanghai (UTC+8, so UTC is still the previous day's
afternoon), on a real SQLite file with the in-process emulator's cards.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from settle_data import seed

from terminal import clock
from terminal.card_session import CardSession
from terminal.domain.bill import parse_bill
from terminal.errors import RuleRefused
from terminal.services.reconcile import reconcile
from terminal.services.reversal import reverse
from terminal.services.settlement import settle
from terminal.store.db import open_from_config


@pytest.fixture
def shanghai(monkeypatch):
    """The process's local time zone is Asia/Shanghai for the test, restored after."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def db(cfg, shanghai):
    db = open_from_config(cfg, create=True)
    seed(db)
    yield db
    db.close()


@pytest.fixture
def card(cfg):
    from emulator.inprocess import InProcessReader
    from emulator.profiles import load_card
    sessions = []

    def make(profile: str) -> CardSession:
        s = CardSession(InProcessReader(load_card(profile, cfg.state_dir)), cfg)
        sessions.append(s)
        return s
    yield make
    for s in sessions:
        s.reader.close()


def bill(price: int):
    return parse_bill({"med_type": "11", "items": [
        {"code": "X1", "name": "药品", "category": "drug", "class": "A", "qty": 1, "price": price}]})


def audit_at(db, setl_id: str) -> list[str]:
    return [at for at, detail in db.execute("SELECT at, detail FROM audit WHERE action IN ('settle', 'reverse')")
            if json.loads(detail)["setl_id"] == setl_id]


def test_the_stamp_is_local_time_with_its_offset(shanghai):
    utc_afternoon = datetime(2026, 12, 2, 16, 0, 10, tzinfo=UTC)      # 00:00:10 on the 3rd in Shanghai
    assert clock.stamp(utc_afternoon) == "2026-12-03T00:00:10+08:00"
    assert clock.day(utc_afternoon) == "2026-12-03"
    assert clock.stamp(datetime(2026, 12, 2, 23, 59, 50)) == "2026-12-02T23:59:50+08:00"   # naive: local
    assert clock.shown("2026-12-02T23:59:50+08:00") == "2026-12-02 23:59:50"
    assert clock.now().utcoffset() is not None and clock.stamp().endswith("+08:00")


def test_settlement_reversal_and_day_end_across_local_midnight(db, cfg, card):
    before = datetime(2026, 12, 2, 23, 59, 50)
    late = settle(db, cfg, card("zhang_wei"), bill(2500), pin="123456", now=before)
    assert (late.created_at, late.setl_date) == ("2026-12-02T23:59:50+08:00", "2026-12-02")
    # the settlement, its ledger entries and its audit row name the same instant (the audit was in UTC once)
    assert audit_at(db, late.setl_id) == [late.created_at]
    assert {at for (at,) in db.execute("SELECT at FROM ledger WHERE setl_id = ?", [late.setl_id])} == {late.created_at}

    after = datetime(2026, 12, 3, 0, 0, 5)
    with pytest.raises(RuleRefused, match="only same-day"):     # ten seconds later, but the next day
        reverse(db, cfg, late.setl_id, now=after)
    early = settle(db, cfg, card("zhang_wei"), bill(1200), pin="123456", now=datetime(2026, 12, 3, 0, 0, 10))
    assert (early.created_at, early.setl_date) == ("2026-12-03T00:00:10+08:00", "2026-12-03")
    undone = reverse(db, cfg, early.setl_id, now=datetime(2026, 12, 3, 0, 0, 20))
    assert (undone.created_at, undone.setl_date) == ("2026-12-03T00:00:20+08:00", "2026-12-03")
    assert audit_at(db, undone.setl_id) == [undone.created_at]

    day1, day2 = reconcile(db, cfg, date="2026-12-02"), reconcile(db, cfg, date="2026-12-03")
    assert (day1.ok, day1.count, day1.settled, day1.reversals, day1.sums["medfee_sumamt"]) == (True, 1, 1, 0, 2500)
    assert (day2.ok, day2.count, day2.settled, day2.reversals, day2.sums["medfee_sumamt"]) == (True, 0, 1, 1, 0)
    slip = Path(late.slip_path).read_text(encoding="utf-8")
    assert "结算时间 setl_time: 2026-12-02 23:59:50" in slip and "+08:00" not in slip


def test_binding_and_its_moves_are_stamped_on_the_same_clock(db, cfg, card):
    from terminal.services.bindings import bind_at_window
    binding = bind_at_window(db, cfg, card("zhang_wei"), "123456", "41010519800923682X", "12")
    assert binding.created_at is not None and binding.created_at.endswith("+08:00")
    assert binding.created_at[:10] == clock.day()
    (at,) = db.execute("SELECT at FROM audit WHERE action = 'bind'").fetchone()
    assert at.endswith("+08:00")
