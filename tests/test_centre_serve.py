"""`cashier centre serve` as an operator runs it: the database made if missing, the ready line, one log line per
transaction with nothing private in it, usage errors, a busy port, a clean stop, several worker processes, the
OpenAPI page served offline."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from centre_flow import D, demo_with_catalogue, his
from centre_http_support import CASHIER, HttpCaller, ServedCentre, prepare_db

from centre.interface.envelope import ENDPOINT


def run_cashier(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CASHIER), "--lang", "en", *argv], capture_output=True, text=True, timeout=timeout)


def test_a_new_database_is_created_and_the_ready_line_printed_then_sigterm_stops_cleanly(tmp_path, config_file):
    db = tmp_path / "new" / "centre.db"
    server = ServedCentre(config_file, db).start()
    try:
        out = server.stdout().splitlines()
        assert out[0].startswith(f"cashier centre: created the database {db}")
        assert out[1] == f"cashier centre: serving http://127.0.0.1:{server.port} (docs at /docs)"
        assert db.exists()
        assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0 and server.stdout().splitlines()[-1] == "cashier centre: stopped (SIGTERM)"
    assert "Traceback" not in server.stderr()
    again = ServedCentre(config_file, db).start()          # an existing database: nothing to say about it
    try:
        assert again.stdout().splitlines()[0].startswith("cashier centre: serving ")
    finally:
        assert again.stop(signal.SIGINT) == 0              # Ctrl-C
    assert "stopped (SIGINT)" in again.stdout() and "Traceback" not in again.stderr()
    assert "KeyboardInterrupt" not in again.stderr()


def test_one_log_line_per_transaction_never_an_id_number_or_a_forged_line(tmp_path, config_file):
    db = tmp_path / "centre.db"
    prepare_db(db, demo_with_catalogue())
    with ServedCentre(config_file, db) as server:
        caller = HttpCaller(server.url)
        h = his(caller)
        h.identify("P10000001")
        env = h.envelope("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "410102197805126716"}})
        assert caller(env)["infcode"] == 0                           # a lookup by ID number
        forged = h.envelope("1101", {}, msgid="410102197805126716\n2026-01-01 00:00:00 infno=2207 msgid=x")
        assert caller(forged)["infcode"] == -1
        assert caller({**forged, "infno": "12\n34"})["infcode"] == -1
        caller.close()
    lines = [ln for ln in server.stderr().splitlines() if ln.strip()]
    assert len(lines) == 5, lines                      # 9001, 1101 by card, 1101 by ID number, two refusals
    for ln in lines:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d infno=(\d{4}|\?) msgid=(\S{30}|\?) infcode=(0|-1) "
                            r"ms=\d+\.\d", ln), ln
    assert "410102197805126716" not in server.stderr() and "4101021978" not in server.stderr()
    assert lines[-2].split(" ", 2)[2].startswith("infno=1101 msgid=? infcode=-1")
    assert lines[-1].split(" ", 2)[2].startswith("infno=? msgid=? infcode=-1")


@pytest.mark.parametrize("argv, code, message", [
    (["--dsn", "postgresql://centre@localhost/centre"], 2,
     "give --db (a SQLite file) or --dsn (a PostgreSQL database), not both"),
    (["--port", "99999"], 2, "a port is a number from 1 to 65535, not 99999"),
    (["--port", "x"], 2, "a port is a number from 1 to 65535, not 'x'"),
    (["--workers", "0"], 2, "--workers is a number from 1 to 64"),
    (["--fault", "lose:2207"], 2, "unknown fault 'lose:2207'"),
    (["--host", "no-such-host.invalid"], 1, "--host no-such-host.invalid: not an address of this machine"),
])
def test_usage_errors_are_said_plainly(tmp_path, config_file, argv, code, message):
    done = run_cashier("--config", str(config_file), "--lang", "en", "centre", "serve", "--db", str(tmp_path / "c.db"), *argv)
    assert done.returncode == code, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert "serving" not in done.stdout


def test_a_wrong_config_value_is_named_before_anything_starts(tmp_path, config_file):
    text = re.sub(r'(?m)^timezone = .*$', 'timezone = "Mars/Olympus"', config_file.read_text(encoding="utf-8"))
    config_file.write_text(text, encoding="utf-8")
    done = run_cashier("--config", str(config_file), "--lang", "en", "centre", "serve", "--db", str(tmp_path / "c.db"))
    assert done.returncode == 2 and "[centre] timezone 'Mars/Olympus'" in done.stderr
    assert not (tmp_path / "c.db").exists()


def test_a_port_in_use_is_a_clear_refusal(tmp_path, config_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = run_cashier("--config", str(config_file), "--lang", "en", "centre", "serve", "--db", str(tmp_path / "c.db"),
                           "--port", str(port))
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_several_workers_share_the_database_and_all_stop(centre_where, config_file):
    db = centre_where()
    prepare_db(db, demo_with_catalogue())
    server = ServedCentre(config_file, db, "--workers", "2").start()
    try:
        assert "with 2 worker processes (each with its own --fault counters)" in server.stdout()
        workers = _children(server.proc.pid)
        assert len(workers) >= 2
        callers = [HttpCaller(server.url) for _ in range(6)]       # six connections: both workers answer
        h = his(callers[0])
        for i, caller in enumerate(callers):
            h.send = caller                                       # the sign-in of one worker holds in the other
            s = h.visit("P10000001", "310", [("XA01", "1", "10.00")])
            assert s["acct_pay"] == D("10.00")
        balance = h.identify("P10000001")["insuinfo"][0]["balc"]
        assert balance == D("3560.00") - 6 * D("10.00")
        for caller in callers:
            caller.close()
    finally:
        assert server.stop(signal.SIGTERM) == 0
    for pid in workers:
        assert not _alive(pid), f"worker {pid} outlived the server"
    assert "Traceback" not in server.stderr()
    assert server.stderr().count("infno=2207") == 6


def test_the_openapi_page_is_served_offline_with_a_schema_per_transaction(tmp_path, config_file):
    db = tmp_path / "centre.db"
    with ServedCentre(config_file, db) as server:
        docs = httpx.get(f"{server.url}/docs")
        assert docs.status_code == 200
        assert "swagger-ui" in docs.text and "cdn.jsdelivr.net" not in docs.text and "unpkg.com" not in docs.text
        for asset in re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css))"', docs.text):
            assert httpx.get(server.url + asset).status_code == 200, asset
        doc = httpx.get(f"{server.url}/openapi.json").json()
    schemas = doc["components"]["schemas"]
    body = doc["paths"][ENDPOINT]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Request"}
    answer = doc["paths"][ENDPOINT]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/Answer"}
    mapping = schemas["Request"]["discriminator"]["mapping"]
    for infno in ("9001", "9002", "1101", "2201", "2202", "2203", "2204", "2205", "2206", "2207", "2208", "2601",
                  "5203", "3201", "X101", "X102", "X103", "X104", "X105"):
        assert mapping[infno] == f"#/components/schemas/Request{infno}"
        assert f"Response{infno}" in schemas
    assert schemas["Settle2207"]["properties"]["medfee_sumamt"]["type"] == "number"
    examples = doc["paths"][ENDPOINT]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert list(examples)[:8] == ["9001", "1101", "2201", "2204", "2206", "2207", "2601", "5203"]
    with ServedCentre(config_file, db) as server:            # every example is an envelope of the right shape
        caller = HttpCaller(server.url)
        for infno, example in examples.items():
            answer = caller.post(json.dumps(example["value"]).encode("utf-8")).json()
            assert answer.get("ext_err_code") not in ("bad_request", "infno_unknown", "insuplc_required"), answer
            assert answer["infcode"] == 0 or answer["ext_err_code"] == "sign_required", (infno, answer)
        caller.close()
    assert "project-defined" in schemas["RequestX102"]["description"]           # not national, and says so
    assert "Project-defined (not national): X101" in doc["info"]["description"]


def test_a_postgresql_database_gets_its_tables_and_is_served(config_file, pg_server):
    """An empty PostgreSQL database: the tables are made (and the command says so, without the password), then
    served; the next start has nothing to say about it."""
    name = "served_fresh"
    dsn = pg_server.cluster.create_database(name)
    with_password = dsn.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    try:
        server = ServedCentre(config_file, with_password).start()
        try:
            out = server.stdout().splitlines()
            assert out[0].startswith("cashier centre: created the centre's tables in the PostgreSQL database "), out
            assert f"dbname={name}" in out[0] and "s3cret" not in server.stdout() + server.stderr()
            assert out[1] == f"cashier centre: serving http://127.0.0.1:{server.port} (docs at /docs)"
            h = his(HttpCaller(server.url))
            assert h.sign_no
        finally:
            assert server.stop(signal.SIGTERM) == 0
        again = ServedCentre(config_file, dsn).start()
        try:
            assert again.stdout().splitlines()[0].startswith("cashier centre: serving ")
        finally:
            assert again.stop(signal.SIGINT) == 0
        assert "Traceback" not in server.stderr() + again.stderr()
    finally:
        pg_server.drop(dsn)


def test_an_unreachable_postgresql_is_a_clear_refusal(tmp_path, config_file):
    done = run_cashier("--config", str(config_file), "centre", "serve", "--dsn",
                       f"postgresql://centre:s3cret@/centre?host={tmp_path}/no-server&connect_timeout=2")
    assert done.returncode == 1, done.stderr
    assert "the centre's database cannot be reached: " in done.stderr and "s3cret" not in done.stderr
    assert "Traceback" not in done.stderr and "serving" not in done.stdout


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(status) and not status.startswith("Z")


def test_the_rate_benchmark_runs_and_prints_its_figures():
    """benchmarks/centre_rate.py --quick: every figure as key=value, the ratio last (the figures are not judged here:
    they depend on the machine)."""
    from centre_support import ROOT
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "centre_rate.py"), "--quick"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    values = dict(line.split("=", 1) for line in lines)
    for run in ("inprocess_c1", "http_c1", "inprocess_c8", "http_c8"):
        assert float(values[f"{run}_per_s"]) > 0 and float(values[f"{run}_p99_ms"]) >= float(values[f"{run}_p50_ms"])
    assert values["synchronous"] == "FULL"
    assert lines[-1].startswith("ratio_http_c8_vs_inprocess_c8=") and float(lines[-1].split("=")[1]) > 0
