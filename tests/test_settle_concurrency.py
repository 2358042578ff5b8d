"""Several windows (processes) settling against the same relatives' accounts, and windows killed with
SIGKILL mid-flight: never an overdraft, never a lost update, every acknowledged settlement kept."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from settle_data import balances, check_money_invariants, seed_contention
from terminal.services.reconcile import reconcile
from terminal.store.db import open_from_config

WORKER = Path(__file__).with_name("settle_worker.py")


@pytest.fixture
def shared_db(cfg):
    db = open_from_config(cfg, create=True)
    seed_contention(db)
    start = balances(db)
    db.conn.close()
    return cfg, start


def spawn(cfg, window: str, count: int, seed: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), str(cfg.path), window, str(count), str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def acks(out: str) -> set[str]:
    return {line.split()[2] for line in out.splitlines() if line.startswith("ack ")}


def check(cfg, start, acked: set[str]) -> dict[str, int]:
    db = open_from_config(cfg)
    try:
        stats = check_money_invariants(db, start)
        kept = {r[0] for r in db.execute("SELECT setl_id FROM settlements")}
        assert acked <= kept, f"acknowledged but lost: {sorted(acked - kept)[:5]}"
        assert reconcile(db, cfg).ok
        return stats
    finally:
        db.conn.close()


def run_windows(cfg, start, processes: int, per_process: int) -> dict[str, int]:
    procs = [spawn(cfg, f"W{i:02d}", per_process, i) for i in range(processes)]
    acked: set[str] = set()
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        acked |= acks(out)
    stats = check(cfg, start, acked)
    assert stats["settlements"] == len(acked)
    return stats


def test_eight_windows_share_relatives_accounts(shared_db):
    cfg, start = shared_db
    stats = run_windows(cfg, start, 8, 40)
    assert stats["settlements"] == 320
    assert stats["mulaid"] > 50          # relatives' accounts really were contended
    db = open_from_config(cfg)
    after = balances(db)
    db.conn.close()
    money = [v for k, v in after.items() if start[k] > 0]     # accounts and cross-province quotas
    assert min(money) == 0               # some drawn down to nothing: the overdraft case was met


def kill_rounds(cfg, start, rounds: int, seed: int) -> int:
    rng = random.Random(seed)
    acked: set[str] = set()
    killed_mid = 0
    for r in range(rounds):
        procs = [spawn(cfg, f"K{r % 3}", 10_000, seed * 1000 + r * 10 + k) for k in range(rng.randint(1, 3))]
        for p in procs:                                   # wait until the window is open
            assert p.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.25))
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            out, _ = p.communicate(timeout=30)
            assert p.returncode == -signal.SIGKILL
            got = acks(out)
            killed_mid += bool(got)
            acked |= got
        check(cfg, start, acked)
    return killed_mid


def test_windows_killed_at_random_points(shared_db):
    cfg, start = shared_db
    assert kill_rounds(cfg, start, rounds=12, seed=7) > 0


@pytest.mark.slow
def test_many_windows_long_run(shared_db):
    cfg, start = shared_db
    run_windows(cfg, start, 8, 300)


@pytest.mark.slow
def test_windows_killed_many_times(shared_db):
    cfg, start = shared_db
    kill_rounds(cfg, start, rounds=150, seed=11)
