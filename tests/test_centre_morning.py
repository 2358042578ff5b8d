"""A hospital's busy morning on PostgreSQL: 16 window processes run whole outpatient visits over HTTP against one
centre (`cashier centre serve --dsn ... --workers 2`), the father paying for his relatives from one account,
while a centre worker is SIGKILLed and restarted (uvicorn starts a new one) again and again and each worker
loses its first 2207 answer on purpose (`--fault lost-answer:2207`). A window whose 2207 got no answer sends
2601 for it and only then settles again (centre_morning_window.py).

Afterwards: no overdraft; every balance is its start minus what its ledger says it paid (and `drifts()` finds
nothing); no settlement recorded twice (one standing settlement per visit, each msgid once); every acknowledged
settlement is in the books as it was answered; every 2207 that got no answer is, after its 2601, not standing;
and every window's own 3201 agrees with the centre.

The short run is in the suite (about 15 s of traffic); `pytest -m slow -k morning` runs the long one
(CASHIER_MORNING_S seconds, default 120). The figures are printed as key=value lines (`-s` shows them).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from centre_flow import family_lines, money_of
from centre_http_support import ServedCentre, prepare_db

from centre.store.engine import open_store
from centre.store.money import drifts

WINDOW = Path(__file__).with_name("centre_morning_window.py")
WINDOWS = 16
FATHER = "P10000001"
FATHER_BALC = 1_000_000     # 10,000.00 yuan: it lasts about half the short run, so windows contend for it


def morning_lines() -> list[dict]:
    """The family, the father's account large enough to be drawn on by many windows at once for a while."""
    return [{**d, "balc": FATHER_BALC} if d["kind"] == "account" and d["psn_no"] == FATHER else d
            for d in family_lines()]


def _window(url: str, index: int, seconds: float) -> subprocess.Popen[str]:
    err = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen([sys.executable, str(WINDOW), url, str(index), str(seconds), str(1000 + index)],
                         stdout=subprocess.PIPE, stderr=err, text=True)
    p.err_file = err  # type: ignore[attr-defined]
    return p


def _workers(server_pid: int) -> list[tuple[int, int]]:
    """The server's worker processes (uvicorn's children that are not its spawn helper): (pid, CPU seconds)."""
    out = subprocess.run(["ps", "-o", "pid=,times=,args=", "--ppid", str(server_pid)], capture_output=True,
                         text=True).stdout
    return [(int(line.split()[0]), int(line.split()[1])) for line in out.splitlines() if "resource_tracker" not in line]


def busy_morning(pg_server, config_file: Path, seconds: float, kill_every: float) -> dict[str, float]:
    db = pg_server.new_database()
    prepare_db(db, morning_lines())
    store = open_store(db)
    start = money_of(store.db())
    store.close()
    rng = random.Random(7)
    kills = 0
    with ServedCentre(config_file, db, "--workers", "2", "--fault", "lost-answer:2207") as server:
        began = time.monotonic()
        windows = [_window(server.url, i + 1, seconds) for i in range(WINDOWS)]
        next_kill = time.monotonic() + kill_every * rng.uniform(0.5, 1.0)
        while time.monotonic() < began + seconds and any(w.poll() is None for w in windows):
            if time.monotonic() >= next_kill:
                workers = _workers(server.proc.pid)
                if len(workers) >= 2:                          # not while the last one is still coming back
                    # the busiest: the windows' kept-alive connections may all sit on one worker, and killing
                    # an idle one would cut no answer
                    os.kill(max(workers, key=lambda w: w[1])[0], signal.SIGKILL)
                    kills += 1
                next_kill = time.monotonic() + kill_every * rng.uniform(0.7, 1.3)
            time.sleep(0.1)
        outs = []
        for w in windows:
            out = w.stdout.read()
            w.wait(120)
            w.err_file.seek(0)  # type: ignore[attr-defined]
            assert w.returncode == 0 and out.rstrip().endswith("done"), (out[-2000:], w.err_file.read()[-3000:])
            outs.append(out)
        wall = time.monotonic() - began
    assert kills >= 2, "the run was too short to kill a worker more than once"
    figures = _check_the_books(db, start, outs)
    assert "Traceback" not in server.stderr() and "centre_internal" not in server.stderr(), server.stderr()[-3000:]
    pg_server.drop(db)
    return {**figures, "windows": WINDOWS, "seconds": round(wall, 1), "worker_kills": kills,
            "settlements_per_s": round(figures["acked"] / wall, 1)}


def _check_the_books(db: str, start: dict[str, int], outs: list[str]) -> dict[str, float]:
    acked: dict[str, tuple[str, str, str, Decimal]] = {}      # msgid -> (setl_id, psn_no, mdtrt_id, acct_pay)
    lost: set[str] = set()
    revoked: dict[str, tuple[bool, str]] = {}
    tally: Counter[str] = Counter()
    for out in outs:
        for line in out.splitlines():
            word, *rest = line.split()
            tally[word] += 1
            if word == "ack":
                acked[rest[0]] = (rest[1], rest[2], rest[3], Decimal(rest[6]))
            elif word == "lost":
                lost.add(rest[0])
            elif word == "revoked":
                revoked[rest[0]] = (rest[1] == "1", rest[2])
            elif word == "3201":
                assert rest[2] == "0", f"a window's day-end totals disagree with the centre: {line}"
            assert word not in ("unreachable", "error"), line
    assert tally["3201"] == 2 * WINDOWS and tally["done"] == WINDOWS
    # a 2207 recomputes the split from the balances as they are: on fresh data it is never refused
    assert tally["refused"] == 0, [line for out in outs for line in out.splitlines() if line.startswith("refused")]
    assert lost == set(revoked), "a 2207 without an answer was not followed by its 2601"
    assert acked, "no settlement in the whole morning"
    store = open_store(db)
    try:
        d = store.db()
        assert drifts(d) == []                                     # every figure = its history
        now = money_of(d)
        assert all(v >= 0 for v in now.values()), now            # no overdraft
        paid = dict(d.all("SELECT psn_no, sum(amount) FROM ledger WHERE source = 'balc' GROUP BY psn_no"))
        moved = dict(d.all("SELECT psn_no, sum(balc_delta) FROM movements WHERE psn_no IS NOT NULL GROUP BY psn_no"))
        for psn_no, balc in now.items():
            if not psn_no.startswith("q"):
                assert balc == start[psn_no] + int(moved.get(psn_no, 0)) - int(paid.get(psn_no, 0)), psn_no
        rows = {r[0]: r[1:] for r in d.all("SELECT msgid, setl_id, psn_no, mdtrt_id, acct_pay, status "
                                           "FROM settlements WHERE status <> 'reversal'")}
        for msgid, (setl_id, psn_no, mdtrt_id, acct_pay) in acked.items():   # every answer is what was kept
            assert rows.get(msgid) == (setl_id, psn_no, mdtrt_id, int(acct_pay * 100), "settled"), msgid
        for msgid, (took, setl_id) in revoked.items():                     # no lost 2207 left standing
            row = rows.get(msgid)
            assert (row is not None) == took, (msgid, row, took)
            assert row is None or (row[0] == setl_id and row[4] == "reversed"), (msgid, row)
        standing = d.all("SELECT mdtrt_id, count(*) FROM settlements WHERE status = 'settled' GROUP BY mdtrt_id "
                         "HAVING count(*) > 1")
        assert standing == [], f"a visit settled twice: {standing}"
        assert {r[0] for r in d.all("SELECT msgid FROM settlements WHERE status = 'settled'")} == set(acked)
        double = d.all("SELECT setl_id, count(*) FROM fee_details WHERE setl_id IS NOT NULL GROUP BY setl_id, "
                       "feedetl_sn HAVING count(*) > 1")
        assert double == [], double
        father_drawn = start[FATHER] - now[FATHER]
    finally:
        store.close()
    return {"acked": len(acked), "lost_answers": len(lost), "lost_that_had_settled": sum(t for t, _ in revoked.values()),
            "refused": tally["refused"], "dropped_visits": tally["dropped"], "father_drawn_fen": father_drawn}


def _report(figures: dict[str, float]) -> None:
    for key, value in figures.items():
        print(f"morning_{key}={value}")


@pytest.mark.timeout(300)
def test_a_busy_morning_on_postgresql(pg_server, config_file):
    figures = busy_morning(pg_server, config_file, seconds=15, kill_every=4)
    _report(figures)
    assert figures["lost_answers"] >= 2                 # the 2601 path was taken (faults and kills)


LONG_S = float(os.environ.get("CASHIER_MORNING_S", "120"))


@pytest.mark.slow
@pytest.mark.timeout(LONG_S + 600)
def test_a_long_busy_morning_on_postgresql(pg_server, config_file):
    seconds = LONG_S
    figures = busy_morning(pg_server, config_file, seconds=seconds, kill_every=5)
    _report(figures)
    assert figures["lost_answers"] >= seconds / 10
