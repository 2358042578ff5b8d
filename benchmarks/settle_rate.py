"""Settlements per second: the settlement service against a raw-sqlite3 floor (issue 6).

The floor does the same inserts and updates in the same tables (same schema, triggers, indexes,
foreign keys) at the same durability, with every amount precomputed and no reads or logic: one
BEGIN IMMEDIATE, the conditional balance updates, the settlement row, its ledger entries, the
accumulator upsert, the audit row, COMMIT. Both run in this process and in 8 processes sharing
one database, for synchronous=FULL and NORMAL, in the same run. Output: `key=value` lines.

    python benchmarks/settle_rate.py [--n-full N] [--n-normal N] [--procs 8] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OWNERS = 20          # employees with accounts (patients too)
USERS = 80           # residents bound to one owner each (mutual aid)


def _bill(i: int):
    from terminal.domain.bill import parse_bill
    return parse_bill({"med_type": "11", "items": [
        {"code": "X1", "name": "阿莫西林胶囊", "category": "drug", "class": "A", "qty": 2, "price": 1250 + i % 97},
        {"code": "X2", "name": "头孢", "category": "drug", "class": "B", "qty": "1.5", "price": 3333},
        {"code": "X3", "name": "维生素", "category": "drug", "class": "C", "qty": 1, "price": 900 + i % 13}]})


def _patient(i: int) -> str:
    return f"O{i % OWNERS}" if i % 2 else f"U{i % USERS}"


def make_template(path: Path, cfg) -> None:
    """A database with owners (big balances) and users bound to them."""
    from drivers.certno import check_digit
    from terminal.store.db import open_db
    db = open_db(path, create=True, synchronous="NORMAL")
    conn = db.conn
    conn.execute("BEGIN")
    conn.execute("INSERT INTO regions (admdvs, name, province, cross_province) VALUES ('410100', '郑州市', '', 1)")
    people = [(f"O{i}", "310") for i in range(OWNERS)] + [(f"U{i}", "390") for i in range(USERS)]
    for n, (psn_no, insutype) in enumerate(people):
        first17 = f"41010219800101{n:03d}"
        conn.execute("INSERT INTO persons (psn_no, certno, psn_name, card_no, insuplc_admdvs, insutype, psn_insu_stas)"
                     " VALUES (?, ?, ?, ?, '410100', ?, '1')",
                     [psn_no, first17 + check_digit(first17), f"测试{psn_no}", f"T{n:08d}", insutype])
    for i in range(OWNERS):
        conn.execute("INSERT INTO accounts (psn_no, balc, year, opening) VALUES (?1, ?2, 2026, ?2)", [f"O{i}", 10**11])
    for i in range(USERS):
        conn.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                     "VALUES (?, ?, '30', 'local', 0, '2025-01-01')", [f"O{i % OWNERS}", f"U{i}"])
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _cfg(config: Path, db_path: Path, sync: str, window: str):
    from terminal.config import load_config
    cfg = load_config(config, db_path)
    return cfg.with_overrides(database=replace(cfg.database, synchronous=sync),
                              terminal=replace(cfg.terminal, window=window))


# ------------------------------------------------------------------ the two workloads

def run_service(config: Path, db_path: Path, sync: str, n: int, offset: int, window: str) -> tuple[float, float]:
    from terminal.domain.policy import Policy
    from terminal.services.settlement import commit_settlement
    from terminal.store.db import open_from_config
    cfg = _cfg(config, db_path, sync, window)
    db = open_from_config(cfg)
    policy = Policy.from_config(cfg)
    jobs = [(_patient(offset + i), _bill(offset + i)) for i in range(n)]
    t0 = time.time()
    for psn_no, bill in jobs:
        commit_settlement(db, cfg, psn_no, bill, relatives="auto", policy=policy)
    t1 = time.time()
    db.conn.close()
    return t0, t1


def floor_jobs(config: Path, sync: str, n: int, offset: int, window: str) -> list[list[tuple[str, list]]]:
    """The statements a settlement writes, with every value precomputed by the pure domain."""
    from terminal.domain.policy import Policy
    from terminal.domain.presettle import RelativeSource, presettle
    from terminal.store.schema_settlement import AMOUNT_COLUMNS, SETTLEMENT_COLUMNS
    from terminal.store.settlements import LEDGER_INSERT
    from terminal.store.settlements import SETTLEMENT_INSERT as insert
    cfg = _cfg(config, Path("unused.db"), sync, window)
    policy = Policy.from_config(cfg)
    jobs = []
    for i in range(offset, offset + n):
        psn_no, bill = _patient(i), _bill(i)
        owner = f"O{int(psn_no[1:]) % OWNERS}"
        own = psn_no.startswith("O")
        pre = presettle(bill, policy, insutype="310" if own else "390", hosp_lv=cfg.terminal.hosp_lv,
                        own_balc=10**11 if own else None,
                        relatives=[] if own else [RelativeSource(owner, 1, "local", 10**11)])
        setl_id, at, day = uuid.uuid4().hex, "2026-11-29T10:00:00", "2026-11-29"
        row = {c: None for c in SETTLEMENT_COLUMNS}
        row.update({c: getattr(pre, c) for c in AMOUNT_COLUMNS})
        row.update(setl_id=setl_id, mdtrt_id=setl_id, msgid=setl_id, request_id=setl_id, psn_no=psn_no,
                   window=window, operator="bench", med_type="11", insutype="310", hosp_lv="3", acct_used_flag="1",
                   own_acct_pay=pre.own_acct_pay, balc=pre.balc, mulaid="[]", bill=json.dumps(bill.to_json()),
                   status="settled", created_at=at, setl_date=day)
        payer, amount = (psn_no, pre.own_acct_pay) if own else (owner, pre.acct_mulaid_pay)
        kind = "own" if own else "binding"
        stmts = [("UPDATE accounts SET balc = balc - ?, version = version + 1 WHERE psn_no = ? AND balc >= ? "
                  "RETURNING balc", [amount, payer, amount]),
                 (insert, [row[c] for c in SETTLEMENT_COLUMNS]),
                 (LEDGER_INSERT, [setl_id, kind, "balc", payer, None if own else 1, amount, 0, at, window, day]),
                 (LEDGER_INSERT, [setl_id, "fund", None, psn_no, None, pre.fund_pay_sumamt, None, at, window, day]),
                 (LEDGER_INSERT, [setl_id, "cash", None, psn_no, None, pre.psn_cash_pay, None, at, window, day]),
                 ("INSERT INTO accumulators (psn_no, year, deductible_used, fund_paid) VALUES (?, 2026, ?, ?) "
                  "ON CONFLICT (psn_no, year) DO UPDATE SET deductible_used = deductible_used + "
                  "excluded.deductible_used, fund_paid = fund_paid + excluded.fund_paid",
                  [psn_no, pre.act_pay_dedc, pre.fund_pay_sumamt]),
                 ('INSERT INTO audit (at, operator, "window", action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)',
                  [at, "bench", window, "settle", psn_no, json.dumps({"setl_id": setl_id})])]
        jobs.append(stmts)
    return jobs


def run_floor(config: Path, db_path: Path, sync: str, n: int, offset: int, window: str) -> tuple[float, float]:
    jobs = floor_jobs(config, sync, n, offset, window)
    conn = sqlite3.connect(str(db_path), timeout=10, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {sync}")
    conn.execute("PRAGMA foreign_keys = ON")
    t0 = time.time()
    for stmts in jobs:
        conn.execute("BEGIN IMMEDIATE")
        for sql, args in stmts:
            conn.execute(sql, args).fetchall()
        conn.execute("COMMIT")
    t1 = time.time()
    conn.close()
    return t0, t1


WORKLOADS = {"service": run_service, "floor": run_floor}


# ------------------------------------------------------------------ driver

def in_processes(kind: str, config: Path, db_path: Path, sync: str, procs: int, per: int) -> float:
    """`procs` worker processes start together (a go line on stdin); rate = all / (last end − first start)."""
    workers = [subprocess.Popen([sys.executable, __file__, "--worker", kind, str(config), str(db_path), sync,
                                 str(per), str(k * per), f"B{k:02d}"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for k in range(procs)]
    for w in workers:
        assert w.stdout.readline().strip() == "ready"
    for w in workers:
        w.stdin.write("go\n")
        w.stdin.flush()
    spans = []
    for w in workers:
        out, _ = w.communicate(timeout=600)
        assert w.returncode == 0, f"worker failed: {out}"
        t0, t1 = map(float, out.split())
        spans.append((t0, t1))
    return procs * per / (max(t1 for _, t1 in spans) - min(t0 for t0, _ in spans))


def worker_main(argv: list[str]) -> int:
    kind, config, db_path, sync, n, offset, window = argv
    fn = WORKLOADS[kind]
    print("ready", flush=True)
    sys.stdin.readline()
    t0, t1 = fn(Path(config), Path(db_path), sync, int(n), int(offset), window)
    print(t0, t1, flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=7, help=argparse.SUPPRESS)
    ap.add_argument("--n-full", type=int, default=400, help="settlements per one-process run at FULL")
    ap.add_argument("--n-normal", type=int, default=2000, help="settlements per one-process run at NORMAL")
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved floor/service rounds; medians are reported")
    ap.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    args = ap.parse_args()
    if args.worker:
        return worker_main(args.worker)
    sizes = {"FULL": 60 if args.quick else args.n_full, "NORMAL": 300 if args.quick else args.n_normal}
    tmp = Path(tempfile.mkdtemp(prefix="settle_rate_"))
    try:
        config = tmp / "config.toml"
        shutil.copy(ROOT / "config.toml", config)
        template = tmp / "template.db"
        make_template(template, None)
        print(f"cpus={os.cpu_count()}")
        for sync, n in sizes.items():
            per = max(1, n // args.procs)
            for mode in ("1proc", f"{args.procs}proc"):
                rates: dict[str, list[float]] = {"floor": [], "service": []}
                for r in range(args.rounds):           # interleaved rounds: a busy machine hits both alike
                    for kind in ("floor", "service"):
                        db_path = tmp / f"{sync}-{mode}-{kind}-{r}.db"
                        shutil.copy(template, db_path)
                        if mode == "1proc":
                            t0, t1 = WORKLOADS[kind](config, db_path, sync, n, 0, "B00")
                            rates[kind].append(n / (t1 - t0))
                        else:
                            rates[kind].append(in_processes(kind, config, db_path, sync, args.procs, per))
                        db_path.unlink()
                med = {k: statistics.median(v) for k, v in rates.items()}
                for kind in ("floor", "service"):
                    print(f"sync={sync} mode={mode} workload={kind} settlements_per_s={med[kind]:.0f} "
                          f"rounds={'/'.join(f'{x:.0f}' for x in rates[kind])}", flush=True)
                # each round's service run follows its floor run at once: their ratio is the fairest figure
                ratio = statistics.median(s / f for s, f in zip(rates["service"], rates["floor"]))
                print(f"sync={sync} mode={mode} service_vs_floor={ratio:.2f} target=0.50 "
                      f"meets_target={'yes' if ratio >= 0.5 else 'no'}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
