"""2207 settlements per second through the centre: over HTTP (`cashier centre serve`, 1 and 8 concurrent client
processes on keep-alive connections) against the same settlement called in-process (`centre.api`, 1 and 8
processes sharing the file), in the same run, at synchronous=FULL. Output: `key=value` lines, the ratio last.

Every run starts from a copy of one prepared database: owners with accounts, residents bound to them, a
catalogue, a sign-in, and one registered visit with its fee details uploaded (2201, 2204) per settlement, so
only the 2207 is timed, after each client has sent a few untimed messages (a steady state, not a cold start:
connections and the server's threads open). The clients' cost is kept small: each envelope is JSON-encoded before the clock
starts, sent with `http.client` on one connection per client, and the answer checked for `"infcode":0` by
a byte search. Latency is per 2207 as the client sees it; rates are settlements / wall time of the run.

    python benchmarks/centre_rate.py [--n 400] [--clients 8] [--rounds 3] [--workers 1] [--quick]

Where the time goes (py-spy on the served centre, 2 cores): a 2207 costs the server about 2 ms of CPU — the
HTTP and ASGI layers (uvicorn h11, Starlette/FastAPI, the thread hop) about a third, the settlement's SQL and
the formula a third, validating the input and building the answer (pydantic, exact-decimal JSON) the rest —
and one COMMIT, which at FULL waits for the disk (about 3-5 ms here). In-process the COMMIT is the queue; the
served centre shares one COMMIT among every request waiting for it (group commit), which is why 8 HTTP
clients outrun one embedded window. The tails (p99) follow the machine's load: fsync and CPU shared with
other work.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from centre.interface import jsonio  # noqa: E402
from centre.interface.envelope import ENDPOINT  # noqa: E402

HOSPITAL = "H41010000001"
OWNERS, USERS = 20, 80
CATALOGUE = [("XA01", "阿莫西林胶囊", "01", None), ("XB01", "头孢克洛缓释片", "02", "0.20"), ("XC01", "进口维生素", "03", None)]


# ---------------------------------------------------------------------------------------------- preparing
def prepare(folder: Path, config: Path, count: int, where: Path | str | None = None
            ) -> tuple[Path | str, list[dict[str, Any]], list[dict[str, Any]]]:
    """The template database (folder/template.db, or `where`: a PostgreSQL DSN), one 2207 envelope per prepared
    visit (in the order they are to be sent), and warm-up envelopes (a 5203 of no settlement: refused, but it
    opens the connections and writes its msgid)."""
    from centre.api import open_centre
    from drivers.certno import check_digit
    raw = tomllib.loads(config.read_text(encoding="utf-8"))
    template = where if where is not None else folder / "template.db"
    centre = open_centre(raw, template, synchronous="NORMAL")
    db = centre.dispatcher.store.db()
    with db.write():
        db.execute("INSERT INTO regions (admdvs, name, province, cross_province) VALUES ('410100', '郑州市', '河南省', 1)")
        people = [(f"O{i}", "310", "1") for i in range(OWNERS)] + [(f"U{i}", "390", "2") for i in range(USERS)]
        for n, (psn_no, insutype, gend) in enumerate(people):
            first17 = f"41010219800101{2 * n + (gend == '1'):03d}"
            db.execute("INSERT INTO persons (psn_no, certno, psn_name, gend, naty, brdy, card_no, card_sn, "
                       "insuplc_admdvs, insutype, psn_insu_stas) VALUES (?, ?, ?, ?, '01', '1980-01-01', ?, '', "
                       "'410100', ?, '1')", [psn_no, first17 + check_digit(first17), f"测试{psn_no}", gend,
                                             f"T{n:08d}", insutype])
        for i in range(OWNERS):
            db.execute("INSERT INTO accounts (psn_no, balc, opening, year) VALUES (?, 10000000000, 10000000000, 2026)",
                       [f"O{i}"])
        for u in range(USERS):
            db.execute("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date) "
                       "VALUES (?, ?, '30', 'local', 0, '2025-01-01')", [f"O{u % OWNERS}", f"U{u}"])
        for code, name, lv, prop in CATALOGUE:
            db.execute("INSERT INTO catalogue (med_list_codg, name, chrgitm_lv, med_chrgitm_type, selfpay_prop) "
                       "VALUES (?, ?, ?, '09', ?)", [code, name, lv, prop])
    seq = iter(range(1, 10**7))
    stamp = time.strftime("%Y%m%d%H%M%S")

    def envelope(infno: str, inp: dict[str, Any], sign_no: str = "") -> dict[str, Any]:
        n = next(seq)
        return {"infno": infno, "msgid": f"{HOSPITAL}{stamp[:-4]}{n // 10000 % 10000:04d}{n % 10000:04d}",
                "mdtrtarea_admvs": "410100", "insuplc_admdvs": "410100", "recer_sys_code": "YBXT", "infver": "V1.0",
                "opter_type": "1", "opter": "cashier01", "opter_name": "收费员",
                "inf_time": time.strftime("%Y-%m-%d %H:%M:%S"), "fixmedins_code": HOSPITAL,
                "fixmedins_name": "测试医院", "sign_no": sign_no, "input": inp}

    def ok(env: dict[str, Any]) -> dict[str, Any]:
        answer = centre.call(env)
        assert answer["infcode"] == 0, answer
        return answer["output"]

    sign_no = ok(envelope("9001", {"signIn": {"opter_no": "cashier01"}}))["signinoutb"]["sign_no"]
    settlements = []
    for i in range(count):
        psn_no = f"O{i % OWNERS}" if i % 2 else f"U{i % USERS}"
        insutype = "310" if psn_no.startswith("O") else "390"
        card_no = f"T{int(psn_no[1:]) + (0 if psn_no.startswith('O') else OWNERS):08d}"   # as inserted above
        mdtrt_id = ok(envelope("2201", {"data": {"psn_no": psn_no, "insutype": insutype,
                                                 "begntime": time.strftime("%Y-%m-%d %H:%M:%S"),
                                                 "mdtrt_cert_type": "03", "mdtrt_cert_no": card_no,
                                                 "ipt_otp_no": f"MZ{i}"}}, sign_no))["data"]["mdtrt_id"]
        items = [("XA01", Decimal(2), Decimal("12.50") + Decimal(i % 97) / 100), ("XB01", Decimal("1.5"),
                 Decimal("33.33")), ("XC01", Decimal(1), Decimal("9.00") + Decimal(i % 13) / 100)]
        details = [{"feedetl_sn": f"F{k}", "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": "B1",
                    "fee_ocur_time": time.strftime("%Y-%m-%d %H:%M:%S"), "med_list_codg": code,
                    "det_item_fee_sumamt": (cnt * pric).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"),
                    "cnt": cnt, "pric": pric} for k, (code, cnt, pric) in enumerate(items)]
        total = sum(Decimal(r["det_item_fee_sumamt"]) for r in ok(envelope("2204", {"feedetail": details}, sign_no))["result"])
        settlements.append(envelope("2207", {"data": {
            "psn_no": psn_no, "mdtrt_cert_type": "03", "mdtrt_cert_no": card_no, "med_type": "11", "medfee_sumamt": total,
            "psn_setlway": "01", "mdtrt_id": mdtrt_id, "chrg_bchno": "B1", "insutype": insutype,
            "acct_used_flag": "1"}}, sign_no))
    centre.close()
    warmups = [envelope("5203", {"data": {"psn_no": "O0", "setl_id": f"S-warm-up-{k}", "mdtrt_id": "M-none"}}, sign_no)
               for k in range(64)]
    return template, settlements, warmups


def fresh_copy(template: Path, folder: Path, name: str) -> Path:
    target = folder / name
    for suffix in ("", "-wal", "-shm"):
        if (template.parent / (template.name + suffix)).exists():
            shutil.copyfile(template.parent / (template.name + suffix), folder / (name + suffix))
    return target


# ---------------------------------------------------------------------------------------------- the runs
def _inprocess_client(raw: dict[str, Any], db: str, envelopes: list[dict[str, Any]], warmups: list[dict[str, Any]],
                      barrier: Any, out: Any) -> None:
    from centre.api import open_centre
    centre = open_centre(raw, db)                                   # FULL, as a window's embedded centre
    for env in warmups:                                             # untimed
        centre.call(env)
    barrier.wait()
    times, started = [], time.perf_counter()
    for env in envelopes:
        t0 = time.perf_counter()
        if centre.call(env)["infcode"] != 0:
            raise SystemExit("a settlement was refused")
        times.append(time.perf_counter() - t0)
    out.put((started, time.perf_counter(), times))


def _http_client(port: int, bodies: list[bytes], warmups: list[bytes], barrier: Any, out: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    for body in warmups:                                            # the keep-alive connection, the server's
        conn.request("POST", ENDPOINT, body, headers)               # threads and connections: untimed
        conn.getresponse().read()
    barrier.wait()
    times, started = [], time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        conn.request("POST", ENDPOINT, body, headers)
        answer = conn.getresponse().read()
        times.append(time.perf_counter() - t0)
        if b'"infcode":0' not in answer:
            raise SystemExit(f"a settlement was refused: {answer[:300]!r}")
    out.put((started, time.perf_counter(), times))
    conn.close()


def _run_clients(target: Any, args_of: list[tuple[Any, ...]]) -> tuple[float, list[float]]:
    """Start one process per client, release them together; (rate, latencies)."""
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(len(args_of)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, barrier, out)) for a in args_of]
    for p in procs:
        p.start()
    results = []
    deadline = time.monotonic() + 600
    while len(results) < len(procs):                                # a client that died ends the run now
        try:
            results.append(out.get(timeout=1))
        except queue.Empty:
            if time.monotonic() > deadline or any(p.exitcode not in (None, 0) for p in procs):
                for p in procs:
                    p.kill()
                raise SystemExit("a client failed or the run timed out") from None
    for p in procs:
        p.join(60)
        if p.exitcode != 0:
            raise SystemExit(f"a client failed (exit {p.exitcode})")
    begin, end = min(r[0] for r in results), max(r[1] for r in results)
    times = [t for r in results for t in r[2]]
    return len(times) / (end - begin), times


def run_inprocess(raw: dict[str, Any], db: Path, envelopes: list[dict[str, Any]], warmups: list[dict[str, Any]],
                  clients: int) -> tuple[float, list[float]]:
    return _run_clients(_inprocess_client, [(raw, str(db), envelopes[i::clients], warmups[i::clients])
                                            for i in range(clients)])


def run_http(config: Path, db: Path, envelopes: list[dict[str, Any]], warmups: list[dict[str, Any]], clients: int,
             workers: int, log: Path) -> tuple[float, list[float]]:
    port = free_port()
    cashier = Path(sys.executable).with_name("cashier")
    with open(log, "a", encoding="utf-8") as err:
        server = subprocess.Popen([str(cashier), "--config", str(config), "centre", "serve", "--db", str(db),
                                   "--port", str(port), "--workers", str(workers)],
                                  stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
    try:
        for line in server.stdout:
            if "serving" in line:
                break
        else:
            raise SystemExit(f"the centre did not start (see {log})")
        bodies = [jsonio.dumps(e).encode("utf-8") for e in envelopes]
        warm = [jsonio.dumps(e).encode("utf-8") for e in warmups]
        return _run_clients(_http_client, [(port, bodies[i::clients], warm[i::clients]) for i in range(clients)])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def free_port() -> int:
    """A TCP port free on this machine now (for a served centre)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ms(times: list[float], q: float) -> float:
    """The q-quantile of `times` (seconds) in milliseconds."""
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400, help="settlements per run")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients of the many-client runs")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    ap.add_argument("--workers", type=int, default=1, help="worker processes of the served centre")
    ap.add_argument("--config", type=Path, default=ROOT / "config.toml")
    ap.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    args = ap.parse_args()
    if args.quick:
        args.n, args.rounds = 60, 1
    raw = tomllib.loads(args.config.read_text(encoding="utf-8"))
    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="centre-rate-"))
    try:
        template, envelopes, warmups = prepare(folder, args.config, args.n)
        runs: dict[str, list[tuple[float, list[float]]]] = {}
        for r in range(args.rounds):
            for clients in (1, args.clients):
                runs.setdefault(f"inprocess_c{clients}", []).append(
                    run_inprocess(raw, fresh_copy(template, folder, f"in{r}{clients}.db"), envelopes, warmups,
                                  clients))
                runs.setdefault(f"http_c{clients}", []).append(
                    run_http(args.config, fresh_copy(template, folder, f"http{r}{clients}.db"), envelopes, warmups,
                             clients, args.workers, folder / "server.log"))
        print("synchronous=FULL")
        print(f"settlements_per_run={args.n}")
        print(f"rounds={args.rounds}")
        print(f"server_workers={args.workers}")
        print(f"cpus={os.cpu_count()}")
        print(f"loadavg_1min_before={load_before:.1f}")
        print(f"loadavg_1min_after={os.getloadavg()[0]:.1f}")     # other work on the machine skews the tails
        rates = {}
        for name, results in runs.items():
            rates[name] = statistics.median(rate for rate, _ in results)
            times = [t for _, ts in results for t in ts]
            print(f"{name}_per_s={rates[name]:.0f}")
            print(f"{name}_p50_ms={ms(times, 0.50):.1f}")
            print(f"{name}_p99_ms={ms(times, 0.99):.1f}")
        c = args.clients
        print(f"ratio_http_c{c}_vs_inprocess_c1={rates[f'http_c{c}'] / rates['inprocess_c1']:.2f}")
        print(f"ratio_http_c{c}_vs_inprocess_c{c}={rates[f'http_c{c}'] / rates[f'inprocess_c{c}']:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
