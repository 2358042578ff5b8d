"""One clock for the window's timestamps: local time with its UTC offset (docs/operations.md, "Time").

The window's clock is injected (`now=`), never slept on; on the centre, the centre's clock is (the embedded
centre's `clock=`, in its `[centre] timezone`): a settlement at 23:59:50 and the minutes after local midnight,
on a machine in Asia/Shanghai (UTC+8, so UTC is still the previous day's afternoon), through the window's
ledger on the embedded centre, real SQLite files and the in-process emulator's cards.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terminal import clock
from terminal.card_session import CardSession
from terminal.domain.bill import parse_bill
from terminal.errors import CashierError


@pytest.fixture
def shanghai(monkeypatch):
    """The process's local time zone is Asia/Shanghai for the test, restored after."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def at(shanghai):
    """The centre's clock (naive, in its time zone, Asia/Shanghai): set `at[0]`."""
    return [datetime(2026, 12, 2, 10, 0, 0)]


@pytest.fixture
def ledger(cfg, at):
    """The window's ledger on the embedded centre (the demo data), the centre and the window's log on `at`."""
    from centre.api import open_centre
    from terminal.insurance.client import CentreClient
    from terminal.insurance.connect import identity
    from terminal.insurance.transport import EmbeddedTransport
    from terminal.services.centre_ledger import CentreLedger
    from terminal.services.demo_db import ensure_demo_db
    from terminal.store.db import open_from_config
    ensure_demo_db(cfg)
    centre = open_centre(cfg.raw, cfg.resolve(cfg.centre.db), clock=lambda: at[0])
    client = CentreClient(EmbeddedTransport(centre), identity(cfg), lambda: open_from_config(cfg, create=True),
                          clock=lambda: at[0])
    led = CentreLedger(cfg, client)
    yield led
    led.close()


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
        {"code": "X001", "name": "阿莫西林胶囊", "category": "drug", "class": "A", "qty": 1, "price": price}]})


def centre_all(cfg, sql: str, args=()) -> list[tuple]:
    from centre.store.engine import open_store
    store = open_store(cfg.resolve(cfg.centre.db))
    try:
        return [tuple(r) for r in store.db().all(sql, list(args))]
    finally:
        store.close()


def window_record(cfg, setl_id: str) -> tuple:
    with sqlite3.connect(cfg.db_path) as db:
        return db.execute("SELECT setl_time, setl_date FROM window_settlements WHERE setl_id = ?",
                          [setl_id]).fetchone()


def test_the_stamp_is_local_time_with_its_offset(shanghai):
    utc_afternoon = datetime(2026, 12, 2, 16, 0, 10, tzinfo=UTC)      # 00:00:10 on the 3rd in Shanghai
    assert clock.stamp(utc_afternoon) == "2026-12-03T00:00:10+08:00"
    assert clock.day(utc_afternoon) == "2026-12-03"
    assert clock.stamp(datetime(2026, 12, 2, 23, 59, 50)) == "2026-12-02T23:59:50+08:00"   # naive: local
    assert clock.shown("2026-12-02T23:59:50+08:00") == "2026-12-02 23:59:50"
    assert clock.now().utcoffset() is not None and clock.stamp().endswith("+08:00")


def test_settlement_reversal_and_day_end_across_local_midnight(ledger, cfg, card, at):
    at[0] = datetime(2026, 12, 2, 23, 59, 50)
    late = ledger.settle(card("zhang_wei"), bill(2500), pin="123456")
    # the centre's setl_time, kept by the window as every stamp it writes: local, with its offset
    assert (late.created_at, late.setl_date) == ("2026-12-02T23:59:50+08:00", "2026-12-02")
    # the window's record, the centre's settlement and its ledger entries name the same instant
    assert window_record(cfg, late.setl_id) == (late.created_at, "2026-12-02")
    assert centre_all(cfg, "SELECT setl_time, setl_date FROM settlements WHERE setl_id = ?", [late.setl_id]) == \
        [("2026-12-02 23:59:50", "2026-12-02")]
    assert {a[:19].replace("T", " ") for (a,) in centre_all(cfg, "SELECT at FROM ledger WHERE setl_id = ?",
                                                           [late.setl_id])} == {"2026-12-02 23:59:50"}

    at[0] = datetime(2026, 12, 3, 0, 0, 5)
    with pytest.raises(CashierError) as refused:               # ten seconds later, but the next day
        ledger.reverse(late.setl_id)
    assert refused.value.code == "not_same_day" and "只能撤销当日结算" in refused.value.localized("zh")
    at[0] = datetime(2026, 12, 3, 0, 0, 10)
    early = ledger.settle(card("zhang_wei"), bill(1200), pin="123456")
    assert (early.created_at, early.setl_date) == ("2026-12-03T00:00:10+08:00", "2026-12-03")
    at[0] = datetime(2026, 12, 3, 0, 0, 20)
    undone = ledger.reverse(early.setl_id)
    assert (undone.created_at, undone.setl_date) == ("2026-12-03T00:00:20+08:00", "2026-12-03")
    assert window_record(cfg, undone.setl_id) == (undone.created_at, "2026-12-03")

    day1, day2 = ledger.reconcile("2026-12-02"), ledger.reconcile("2026-12-03")
    assert (day1.ok, day1.count, day1.settled, day1.reversals, day1.sums["medfee_sumamt"]) == (True, 1, 1, 0, 2500)
    assert (day2.ok, day2.count, day2.settled, day2.reversals, day2.sums["medfee_sumamt"]) == (True, 0, 1, 1, 0)
    slip = Path(late.slip_path).read_text(encoding="utf-8")
    assert "结算时间 setl_time: 2026-12-02 23:59:50" in slip and "+08:00" not in slip


def test_binding_is_dated_on_the_centres_clock(ledger, cfg, card, at):
    """李娜 bound by her husband 张伟 at 23:59:50: the binding begins that day, on the centre's clock."""
    at[0] = datetime(2026, 12, 2, 23, 59, 50)
    binding = ledger.bind(card("zhang_wei"), "123456", "41010519800923682X", "10")
    assert binding.begin_date == "2026-12-02"
    (created,) = centre_all(cfg, "SELECT created_at FROM bindings WHERE id = ?", [binding.id])[0]
    assert created[:19].replace("T", " ") == "2026-12-02 23:59:50"
