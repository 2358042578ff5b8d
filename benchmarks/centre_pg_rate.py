"""2207 settlements per second over HTTP with 16 windows, the centre on PostgreSQL and on SQLite, against a raw
psycopg floor — in the same run, on the same machine, at the same durability. Output: `key=value` lines.

- `pg_floor`: 16 processes, one psycopg connection each, no HTTP and no logic: per settlement the same
  writes in the same transaction shape as the centre's 2207 (BEGIN; claim the msgid; row-lock the patient and
  the paying account; debit it; the settlement row; its ledger entries; the year accumulator; the fee details
  marked settled; the audit row; the message's effect; COMMIT), on the same prepared data.
- `http_pg`: `cashier centre serve --dsn ... --workers 2`, 16 client processes on keep-alive connections.
- `http_sqlite`: `cashier centre serve --db ...` (one worker: the file has one writer; its group commit).
PostgreSQL is our own (tests/pg_cluster.py) with fsync, full_page_writes and synchronous_commit on: an
acknowledged settlement survives a power cut, as SQLite's WAL + synchronous=FULL. Every run starts from a
copy of one prepared database (owners with accounts, residents bound to them, visits registered and their fee
details uploaded), so only the 2207 is timed, after untimed warm-up messages. Latency is per 2207 as the
client sees it; rates are settlements / wall time; CPU is per settlement, by process group (the centre's
server, PostgreSQL's backends, the clients), from /proc.

    python benchmarks/centre_pg_rate.py [--n 1600] [--clients 16] [--workers 2] [--rounds 2] [--quick]

Where the time goes: see the end of docs/centre-postgresql.md (figures of this script on this project's
2-core machines).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

import centre_rate  # noqa: E402
from pg_cluster import LocalPostgres  # noqa: E402

from centre.interface import jsonio  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------- CPU by group
def _cpu_of(pids: list[int]) -> float:
    """utime + stime (s) of these processes and their waited-for children."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / TICK   # utime stime cutime cstime
    return total


def _tree(root: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        pid, ppid = (int(x) for x in line.split())
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


class CpuMeter:
    """CPU seconds of the process trees under some roots, between start() and stop()."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self.before: dict[str, float] = {}

    def start(self) -> None:
        self.before = {k: _cpu_of(_tree(pid)) for k, pid in self.roots.items()}

    def stop(self) -> dict[str, float]:
        """Each root's CPU; `clients` is this process's tree without the server's and PostgreSQL's."""
        used = {k: _cpu_of(_tree(pid)) - self.before[k] for k, pid in self.roots.items()}
        own = used.pop("self", None)
        if own is not None:
            used["clients"] = own - sum(used.values())
        return used


# ---------------------------------------------------------------------------------------------- the floor
FLOOR_TX = [
    ("INSERT INTO messages (msgid, infno, fixmedins_code, at, state) VALUES (%s, '2207', %s, %s, 'done') "
     "ON CONFLICT (msgid) DO NOTHING RETURNING msgid", "claim"),
    ("SELECT 1 FROM persons WHERE psn_no = ANY(%s) ORDER BY psn_no FOR NO KEY UPDATE", "lock_person"),
    ("SELECT 1 FROM accounts WHERE psn_no = ANY(%s) ORDER BY psn_no FOR NO KEY UPDATE", "lock_accounts"),
    ("UPDATE accounts SET balc = balc - %s, version = version + 1 WHERE psn_no = %s AND balc >= %s RETURNING balc",
     "debit"),
]


def _floor_client(dsn: str, work: list[tuple[str, str, str, str, int]], warmups: int, barrier: Any, out: Any) -> None:
    """One window's connection doing the centre's writes for each (msgid, psn_no, payer, mdtrt_id, amount)."""
    import json

    import psycopg

    from centre.store.money import SETTLEMENT_COLUMNS
    conn = psycopg.connect(dsn, autocommit=True)
    cols = ", ".join(SETTLEMENT_COLUMNS)
    insert = f"INSERT INTO settlements ({cols}) VALUES ({', '.join(['%s'] * len(SETTLEMENT_COLUMNS))})"
    ledger = ("INSERT INTO ledger (setl_id, account, source, psn_no, binding_id, amount, balc_after, at, "
              "fixmedins_code, setl_date) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
    at, day = time.strftime("%Y-%m-%d %H:%M:%S"), time.strftime("%Y-%m-%d")

    def settle(msgid: str, psn_no: str, payer: str, mdtrt_id: str, amount: int) -> None:
        setl_id = "S" + msgid[-20:]
        conn.execute("BEGIN")
        conn.execute(FLOOR_TX[0][0], [msgid, centre_rate.HOSPITAL, at])
        conn.execute(FLOOR_TX[1][0], [[psn_no]])
        conn.execute(FLOOR_TX[2][0], [sorted({psn_no, payer})])
        after = conn.execute(FLOOR_TX[3][0], [amount, payer, amount]).fetchone()[0]
        row = {c: 0 for c in SETTLEMENT_COLUMNS}
        row.update(setl_id=setl_id, mdtrt_id=mdtrt_id, msgid=msgid, psn_no=psn_no, fixmedins_code=centre_rate.HOSPITAL,
                   opter="cashier01", med_type="11", insutype="390", mdtrt_cert_type="02", mdtrt_cert_no="",
                   hosp_lv="3", acct_used_flag="1", medfee_sumamt=amount, psn_part_amt=amount, acct_pay=amount,
                   acct_mulaid_pay=0 if payer == psn_no else amount, own_acct_pay=amount if payer == psn_no else 0,
                   balc=0, has_account=0,
                   mulaid=json.dumps([{"owner_psn_no": payer, "amount": amount}]), setl_time=at, setl_date=day,
                   reversal_of=None, clr_type="11", insuplc_admdvs="410100", pool_prop_selfpay="0.5",
                   status="settled")
        conn.execute(insert, [row[c] for c in SETTLEMENT_COLUMNS])
        with conn.cursor() as cur:
            own = payer == psn_no
            cur.executemany(ledger, [
                (setl_id, "own" if own else "binding", "balc", payer, None if own else int(psn_no[1:]) + 1, amount,
                 after, at, centre_rate.HOSPITAL, day),
                (setl_id, "fund", None, psn_no, None, 0, None, at, centre_rate.HOSPITAL, day),
                (setl_id, "cash", None, psn_no, None, 0, None, at, centre_rate.HOSPITAL, day)])
        conn.execute("INSERT INTO accumulators (psn_no, year, deductible_used, fund_paid) VALUES (%s, %s, 0, 0) "
                     "ON CONFLICT (psn_no, year) DO UPDATE SET deductible_used = accumulators.deductible_used "
                     "+ excluded.deductible_used, fund_paid = accumulators.fund_paid + excluded.fund_paid",
                     [psn_no, int(day[:4])])
        conn.execute("UPDATE fee_details SET status = 'settled', setl_id = %s WHERE mdtrt_id = %s "
                     "AND status = 'uploaded' AND chrg_bchno = 'B1'", [setl_id, mdtrt_id])
        conn.execute("INSERT INTO audit (at, fixmedins_code, opter, action, subject, detail) "
                     "VALUES (%s, %s, 'cashier01', 'settle', %s, %s)",
                     [at, centre_rate.HOSPITAL, psn_no, json.dumps({"setl_id": setl_id, "msgid": msgid})])
        conn.execute("UPDATE messages SET effect = %s WHERE msgid = %s", [json.dumps({"setl_id": setl_id}), msgid])
        conn.execute("COMMIT")

    for k in range(warmups):          # untimed: the statements prepared, the connection warm
        conn.execute("SELECT 1 FROM persons WHERE psn_no = %s", [f"O{k}"]).fetchall()
    barrier.wait()
    times, started = [], time.perf_counter()
    for item in work:
        t0 = time.perf_counter()
        settle(*item)
        times.append(time.perf_counter() - t0)
    out.put((started, time.perf_counter(), times))
    conn.close()


def floor_work(envelopes: list[dict[str, Any]]) -> list[tuple[str, str, str, str, int]]:
    """(msgid, patient, paying owner, visit, amount) for each prepared 2207: the relative's owner pays 1.00."""
    work = []
    for env in envelopes:
        d = env["input"]["data"]
        psn_no = d["psn_no"]
        payer = psn_no if psn_no.startswith("O") else f"O{int(psn_no[1:]) % centre_rate.OWNERS}"
        work.append((env["msgid"], psn_no, payer, d["mdtrt_id"], 100))
    return work


# ---------------------------------------------------------------------------------------------- the runs
def _serve(config: Path, where: str, flag: str, workers: int, log: Path) -> tuple[subprocess.Popen[str], int]:
    port = centre_rate.free_port()
    cashier = Path(sys.executable).with_name("cashier")
    with open(log, "a", encoding="utf-8") as err:
        server = subprocess.Popen([str(cashier), "--config", str(config), "centre", "serve", flag, where,
                                   "--port", str(port), "--workers", str(workers)],
                                  stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
    assert server.stdout is not None
    for line in server.stdout:
        if "serving" in line:
            return server, port
    raise SystemExit(f"the centre did not start (see {log})")


def run_http(config: Path, where: str, flag: str, envelopes: list[dict[str, Any]], warmups: list[dict[str, Any]],
             clients: int, workers: int, log: Path, pg: LocalPostgres | None) -> tuple[float, list[float], dict]:
    server, port = _serve(config, where, flag, workers, log)
    try:
        bodies = [jsonio.dumps(e).encode("utf-8") for e in envelopes]
        warm = [jsonio.dumps(e).encode("utf-8") for e in warmups]
        roots = {"server": server.pid, "self": os.getpid()}
        if pg is not None and pg.proc is not None:
            roots["postgres"] = pg.proc.pid
        meter = CpuMeter(roots)
        meter.start()
        rate, times = centre_rate._run_clients(centre_rate._http_client,
                                               [(port, bodies[i::clients], warm[i::clients]) for i in range(clients)])
        return rate, times, meter.stop()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def run_floor(dsn: str, work: list[tuple[str, str, str, str, int]], clients: int,
              pg: LocalPostgres) -> tuple[float, list[float], dict]:
    assert pg.proc is not None
    meter = CpuMeter({"postgres": pg.proc.pid, "self": os.getpid()})
    meter.start()
    rate, times = centre_rate._run_clients(_floor_client, [(dsn, work[i::clients], 8) for i in range(clients)])
    return rate, times, meter.stop()


def statements_per_2207(raw: dict[str, Any], dsn: str, envelope: dict[str, Any]) -> int:
    """Round trips of one 2207 in the centre (BEGIN and COMMIT included), counted in-process."""
    from centre.api import open_centre
    from centre.store import postgres
    centre = open_centre(raw, dsn)
    count = [0]
    original = postgres._execute

    def counted(conn: Any, sql: str, params: Any, many: bool) -> Any:
        count[0] += 1
        return original(conn, sql, params, many)
    postgres._execute = counted  # type: ignore[assignment]
    try:
        assert centre.call(envelope)["infcode"] == 0
    finally:
        postgres._execute = original  # type: ignore[assignment]
        centre.close()
    return count[0] + 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1600, help="settlements per run")
    ap.add_argument("--clients", type=int, default=16, help="concurrent windows (client processes)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes of the PostgreSQL centre")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds; medians are reported")
    ap.add_argument("--config", type=Path, default=ROOT / "config.toml")
    ap.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    args = ap.parse_args()
    if args.quick:
        args.n, args.rounds = 160, 1
    raw = tomllib.loads(args.config.read_text(encoding="utf-8"))
    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="centre-pg-rate-"))
    pg = LocalPostgres(durable=True).start()
    try:
        template_dsn = pg.create_database("template_centre")
        _t, envelopes, warmups = centre_rate.prepare(folder, args.config, args.n + 1, where=template_dsn)
        sqlite_template, sqlite_envelopes, sqlite_warmups = centre_rate.prepare(folder, args.config, args.n + 1)
        counted, envelopes = envelopes[0], envelopes[1:]      # the first visit: round trips counted, not timed
        work = floor_work(envelopes)
        runs: dict[str, list[tuple[float, list[float], dict]]] = {}
        for r in range(args.rounds):
            dsn = pg.create_database(f"floor{r}", "template_centre")
            runs.setdefault("pg_floor", []).append(run_floor(dsn, work, args.clients, pg))
            dsn = pg.create_database(f"http{r}", "template_centre")
            runs.setdefault("http_pg", []).append(
                run_http(args.config, dsn, "--dsn", envelopes, warmups, args.clients, args.workers,
                         folder / "server.log", pg))
            db = centre_rate.fresh_copy(Path(sqlite_template), folder, f"http{r}.db")
            runs.setdefault("http_sqlite", []).append(
                run_http(args.config, str(db), "--db", sqlite_envelopes[1:], sqlite_warmups, args.clients, 1,
                         folder / "server.log", None))
        statements = statements_per_2207(raw, pg.create_database("counted", "template_centre"), counted)
        print("durability=fsync+synchronous_commit (postgresql), WAL+synchronous=FULL (sqlite)")
        print(f"settlements_per_run={args.n}")
        print(f"clients={args.clients}")
        print(f"rounds={args.rounds}")
        print(f"pg_server_workers={args.workers}")
        print("sqlite_server_workers=1")
        print(f"cpus={os.cpu_count()}")
        print(f"loadavg_1min_before={load_before:.1f}")
        print(f"loadavg_1min_after={os.getloadavg()[0]:.1f}")
        print(f"pg_round_trips_per_2207={statements}")
        print(f"pg_floor_round_trips_per_2207={len(FLOOR_TX) + 8}")
        rates = {}
        for name, results in runs.items():
            rates[name] = statistics.median(rate for rate, _, _ in results)
            times = [t for _, ts, _ in results for t in ts]
            print(f"{name}_per_s={rates[name]:.0f}")
            print(f"{name}_p50_ms={centre_rate.ms(times, 0.50):.1f}")
            print(f"{name}_p99_ms={centre_rate.ms(times, 0.99):.1f}")
            settled = args.n * len(results)
            for group in results[0][2]:
                cpu = sum(res[2][group] for res in results)
                print(f"{name}_cpu_{group}_ms_per_settlement={cpu / settled * 1000:.2f}")
        print(f"ratio_http_pg_vs_pg_floor={rates['http_pg'] / rates['pg_floor']:.2f}")
        print(f"ratio_http_sqlite_vs_pg_floor={rates['http_sqlite'] / rates['pg_floor']:.2f}")
    finally:
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
