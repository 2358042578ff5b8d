"""Many windows against one served centre, and a centre killed mid-burst (SIGKILL): never an overdraft, every
balance equal to its opening plus its ledger, every acknowledged settlement kept, and after a restart 2601 and
5203 tell the truth about every msgid that was sent."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pytest

from centre.store.engine import open_store
from centre.store.money import drifts
from centre_flow import His, family_lines, money_of
from centre_http_support import HttpCaller, ServedCentre, prepare_db
from centre_http_worker import PATIENTS

WORKER = Path(__file__).with_name("centre_http_worker.py")
FATHER = "P10000001"


def spawn(url: str, index: int, count: int, seed: int) -> subprocess.Popen[str]:
    """A window process; its stderr goes to a file, so reading stdout line by line can never block it."""
    err = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen([sys.executable, str(WORKER), url, str(index), str(count), str(seed)],
                         stdout=subprocess.PIPE, stderr=err, text=True)
    p.err_file = err  # type: ignore[attr-defined]
    return p


def finish(p: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The rest of its stdout (through the same buffered reader a `readline` used: nothing lost) and its stderr."""
    out = p.stdout.read()
    p.wait(timeout)
    p.err_file.seek(0)  # type: ignore[attr-defined]
    return out, p.err_file.read()  # type: ignore[attr-defined]


def parse(out: str) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, Decimal]]]:
    """(sent: msgid -> (psn_no, mdtrt_id), acked: msgid -> (setl_id, acct_pay))."""
    sent, acked = {}, {}
    for line in out.splitlines():
        parts = line.split()
        if parts[:1] == ["sent"]:
            sent[parts[1]] = (parts[2], parts[3])
        elif parts[:1] == ["ack"]:
            acked[parts[1]] = (parts[2], Decimal(parts[3]))
    assert set(acked) <= set(sent), "an answer to a message the window never sent"
    return sent, acked


def check_books(db_path: Path | str, start: dict[str, int]) -> dict[str, int]:
    store = open_store(db_path)
    try:
        db = store.db()
        assert drifts(db) == []                                   # every balance = opening + movements − ledger
        now = money_of(db)
        assert all(v >= 0 for v in now.values()), now             # no overdraft
        if db.dialect == "sqlite":
            assert db.one("PRAGMA integrity_check")[0] == "ok"
        return now
    finally:
        store.close()


@pytest.fixture
def family_db(centre_where):
    """The family's centre database (SQLite or PostgreSQL) and every balance at the start."""
    db = centre_where()
    prepare_db(db, family_lines())
    store = open_store(db)
    start = money_of(store.db())
    store.close()
    return db, start


def test_eight_windows_draw_on_the_fathers_account_without_an_overdraft(family_db, config_file):
    db, start = family_db
    with ServedCentre(config_file, db, "--workers", "2") as server:
        _eight_windows_drain_the_father(db, start, [server.url])
    assert "Traceback" not in server.stderr()


def test_two_centres_on_different_ports_share_one_postgresql_without_double_spending(pg_server, config_file):
    """Two `cashier centre serve` processes, behind nothing, on one PostgreSQL database: the windows split between
    them still draw the father's account down to exactly nothing, never below."""
    db = pg_server.new_database()
    try:
        prepare_db(db, family_lines())
        store = open_store(db)
        start = money_of(store.db())
        store.close()
        with ServedCentre(config_file, db) as one, ServedCentre(config_file, db) as two:
            _eight_windows_drain_the_father(db, start, [one.url, two.url])
        assert "Traceback" not in one.stderr() + two.stderr()
        assert one.stderr().count("infno=2207") > 0 and two.stderr().count("infno=2207") > 0
    finally:
        pg_server.drop(db)


def _eight_windows_drain_the_father(db: Path | str, start: dict[str, int], urls: list[str]) -> None:
    """Eight window processes (spread over `urls`), 15 visits each, the father's account paying for them all."""
    procs = [spawn(urls[i % len(urls)], i, 15, 100 + i) for i in range(8)]
    sent: dict[str, tuple[str, str]] = {}
    acked: dict[str, tuple[str, Decimal]] = {}
    for p in procs:
        out, err = finish(p, 300)
        assert p.returncode == 0, err
        assert "refused" not in out and "lost" not in out, out
        s, a = parse(out)
        sent |= s
        acked |= a
    assert len(acked) == len(sent) == 120
    now = check_books(db, start)
    assert now[FATHER] == 0                                       # his account was drawn down to nothing ...
    store = open_store(db)
    try:
        rows = store.db().all("SELECT msgid, setl_id, acct_pay FROM settlements WHERE status = 'settled'")
        assert {r[0]: (r[1], Decimal(r[2]) / 100) for r in rows} == acked     # ... and every answer is what was kept
        drawn = store.db().one("SELECT coalesce(sum(amount), 0) FROM ledger WHERE psn_no = ? AND source = 'balc'",
                               [FATHER])[0]
        assert drawn == start[FATHER]                             # ... by exactly what he had
        cash = store.db().one("SELECT count(*) FROM settlements WHERE psn_cash_pay > 0")[0]
        assert cash > 0                                           # after which patients paid cash
    finally:
        store.close()


def test_a_centre_killed_mid_burst_tells_the_truth_after_a_restart(family_db, config_file):
    db, start = family_db
    rng = random.Random(13)
    for round_no in range(2):
        server = ServedCentre(config_file, db).start()
        procs = [spawn(server.url, round_no * 3 + k, 10_000, round_no * 10 + k) for k in range(3)]
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.3, 1.0))
        server.kill()                                             # SIGKILL, mid-burst
        sent: dict[str, tuple[str, str]] = {}
        acked: dict[str, tuple[str, Decimal]] = {}
        for p in procs:
            out, err = finish(p, 60)
            assert p.returncode == 0, err
            s, a = parse(out)
            sent |= s
            acked |= a
        assert acked, "the burst was killed before any settlement"
        check_books(db, start)
        with ServedCentre(config_file, db) as again:
            _every_msgid_tells_the_truth(again.url, db, sent, acked)
        assert "Traceback" not in again.stderr()
        check_books(db, start)


def _every_msgid_tells_the_truth(url: str, db: Path | str, sent: dict[str, tuple[str, str]],
                                 acked: dict[str, tuple[str, Decimal]]) -> None:
    caller = HttpCaller(url)
    window = His(caller)
    window.sign_in()
    store = open_store(db)
    try:
        for msgid, (psn_no, mdtrt_id) in sent.items():
            window.insuplc = window.ok("X105", {"data": {"card_no": PATIENTS[psn_no][1]}})["insuinfo"][0][
                "insuplc_admdvs"]
            row = store.db().one("SELECT setl_id, acct_pay FROM settlements WHERE msgid = ?", [msgid])
            if msgid in acked:                                     # acknowledged: kept, and 5203 says so
                setl_id, acct_pay = acked[msgid]
                assert row is not None and row[0] == setl_id, msgid
                q = window.ok("5203", {"data": {"psn_no": psn_no, "setl_id": setl_id, "mdtrt_id": mdtrt_id}})
                assert q["setlinfo"]["acct_pay"] == acct_pay and q["setlinfo"]["medins_setl_id"] == msgid
                assert q["setlinfo"]["ext_status"] == "settled"
            else:                                                  # in flight: 2601 says whether it took effect
                undo = window.ok("2601", {"data": {"psn_no": psn_no, "omsgid": msgid, "oinfno": "2207"}})["data"]
                assert undo["ext_took_effect"] is (row is not None), (msgid, undo)
                if row is not None:
                    status = store.db().one("SELECT status FROM settlements WHERE setl_id = ?", [row[0]])[0]
                    assert status == "reversed"
    finally:
        store.close()
        caller.close()
