"""Benchmark: centre-export import vs a raw sqlite3.executemany floor, and family-lookup latency.

Generates N persons (half employees with accounts) and 3N bindings as a §8.2 export in a temp dir,
imports it with `terminal.store.importer.import_file` into a fresh database, then inserts the very
same rows with plain `sqlite3.executemany` into another fresh database with the same schema and
pragmas (the floor). Then times `family_for` by card number on random persons.

Prints `key=value` lines. Targets (DESIGN §7 / issue 5): import_vs_raw >= 0.50, lookup_p99_ms < 1.
Usage: python benchmarks/import_lookup.py [--persons 1000000] [--lookups 20000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.certno import check_digit  # noqa: E402
from terminal.services.family import family_for  # noqa: E402
from terminal.store.db import open_db  # noqa: E402
from terminal.store.importer import import_file  # noqa: E402

RELATIONS = ("10", "20", "30", "51", "52", "61", "70")
DAY0 = dt.date(1950, 1, 1)
TODAY = "2026-11-29"
BINDINGS_PER_USER = 3


def person_row(i: int) -> tuple:
    born = DAY0 + dt.timedelta(days=i // 1000)
    first17 = f"110101{born:%Y%m%d}{i % 1000:03d}"
    employee = i % 2 == 0
    return (f"P{i:07d}", first17 + check_digit(first17), f"人{i}", "1" if i % 3 else "2", "01", born.isoformat(),
            f"Z{i:08d}", f"{i:032X}", "510100" if i % 10 == 0 else "410100", "310" if employee else "390", "1")


def owners_of(u: int, n: int) -> list[int]:
    """Three distinct employees (even numbers) other than u."""
    half = n // 2
    out: list[int] = []
    k = 0
    while len(out) < BINDINGS_PER_USER:
        o = 2 * ((u // 2 + 1 + k * 7919) % half)
        k += 1
        if o != u and o not in out:
            out.append(o)
    return out


def generate(n: int, path: Path) -> dict[str, list[tuple]]:
    """Write the export and return the same rows as tuples for the raw floor."""
    rows: dict[str, list[tuple]] = {"regions": [], "persons": [], "accounts": [], "bindings": []}
    stamp = "2026-11-29T00:00:00+00:00"
    with path.open("w", encoding="utf-8") as f:
        w = f.write
        for code, name, prov in (("410100", "郑州市", "河南省"), ("510100", "成都市", "四川省")):
            w(json.dumps({"kind": "region", "admdvs": code, "name": name, "province": prov,
                          "cross_province": True}, ensure_ascii=False) + "\n")
            rows["regions"].append((code, name, prov, 1))
        keys = ("psn_no", "certno", "psn_name", "gend", "naty", "brdy", "card_no", "card_sn", "insuplc_admdvs",
                "insutype", "psn_insu_stas")
        for i in range(n):
            r = person_row(i)
            w(json.dumps({"kind": "person", **dict(zip(keys, r))}, ensure_ascii=False) + "\n")
            rows["persons"].append(r)
            if i % 2 == 0:
                balc = (i * 37) % 500000
                w(f'{{"kind": "account", "psn_no": "{r[0]}", "balc": {balc}, "year": 2026}}\n')
                rows["accounts"].append((r[0], balc, 2026, 0))
        for u in range(n):
            for k, o in enumerate(owners_of(u, n)):
                cross = (u % 10 == 0) != (o % 10 == 0)
                scope, quota = ("cross_province", 1000) if cross else ("local", 0)
                rel, begin = RELATIONS[(u + k) % len(RELATIONS)], "2025-01-01"
                w(f'{{"kind": "binding", "owner_psn_no": "P{o:07d}", "user_psn_no": "P{u:07d}", '
                  f'"relation": "{rel}", "scope": "{scope}", "quota": {quota}, "begin_date": "{begin}"}}\n')
                rows["bindings"].append((f"P{o:07d}", f"P{u:07d}", rel, scope, quota, begin, None, "active",
                                         "centre", stamp))
    return rows


def raw_floor(db_path: Path, rows: dict[str, list[tuple]]) -> tuple[float, float]:
    """(wall, CPU) seconds for plain executemany of the same rows, one transaction, same schema and pragmas."""
    db = open_db(db_path, create=True)
    conn = db.conn
    conn.execute("PRAGMA cache_size = -262144")
    sql = {
        "regions": "INSERT INTO regions VALUES (?, ?, ?, ?)",
        "persons": "INSERT INTO persons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "accounts": "INSERT INTO accounts VALUES (?, ?, ?, ?)",
        "bindings": "INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, end_date, "
                    "status, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    }
    t0, c0 = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    for table in ("regions", "persons", "accounts", "bindings"):
        conn.executemany(sql[table], rows[table])
    conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    db.close()
    return seconds, cpu


def _children_cpu() -> float:
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--lookups", type=int, default=20_000)
    ap.add_argument("--keep", help="keep the export and databases in this folder")
    args = ap.parse_args(argv)
    n = args.persons
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cashier-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    out = {"persons": n, "bindings": n * BINDINGS_PER_USER, "sqlite": __import__("sqlite3").sqlite_version}
    try:
        export = work / "export.jsonl"
        t0 = time.perf_counter()
        rows = generate(n, export)
        out["generate_s"] = round(time.perf_counter() - t0, 2)
        total_rows = sum(len(v) for v in rows.values())
        out["rows"] = total_rows
        out["export_mb"] = round(export.stat().st_size / 1e6, 1)

        raw_s, raw_cpu = raw_floor(work / "raw.db", rows)
        del rows
        db = open_db(work / "import.db", create=True)
        c0, w0 = time.process_time(), _children_cpu()
        report = import_file(db, export)
        import_cpu = time.process_time() - c0
        worker_cpu = _children_cpu() - w0  # the reading process of a large import
        assert report.imported and report.bad == 0, report.errors[:5]
        out["import_s"] = round(report.seconds, 2)
        out["import_rows_per_s"] = round(total_rows / report.seconds)
        out["raw_s"] = round(raw_s, 2)
        out["raw_rows_per_s"] = round(total_rows / raw_s)
        out["import_vs_raw"] = round(raw_s / report.seconds, 3)
        out["import_cpu_s"] = round(import_cpu, 2)
        out["import_worker_cpu_s"] = round(worker_cpu, 2)
        out["raw_cpu_s"] = round(raw_cpu, 2)
        out["load_avg_1m"] = round(__import__("os").getloadavg()[0], 2)

        again = import_file(db, export)
        out["reimport_s"] = round(again.seconds, 2)
        out["reimport_changes"] = again.changes

        rnd = random.Random(5)
        cards = [f"Z{rnd.randrange(n):08d}" for _ in range(args.lookups)]
        for c in cards[:1000]:  # warm the page cache like a running window would
            family_for(db, card_no=c, today=TODAY)
        times = []
        relatives = 0
        for c in cards:
            t = time.perf_counter_ns()
            view = family_for(db, card_no=c, today=TODAY)
            times.append((time.perf_counter_ns() - t) / 1e6)
            relatives += len(view.relatives)
        times.sort()
        out["lookups"] = len(times)
        out["lookup_relatives_avg"] = round(relatives / len(times), 2)
        out["lookup_p50_ms"] = round(statistics.median(times), 4)
        out["lookup_p99_ms"] = round(percentile(times, 99), 4)
        out["lookup_max_ms"] = round(times[-1], 3)
        db.close()
        out["target_import_vs_raw"] = 0.5
        out["target_lookup_p99_ms"] = 1.0
        out["ok"] = out["import_vs_raw"] >= 0.5 and out["lookup_p99_ms"] < 1.0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for k, v in out.items():
        print(f"{k}={str(v).lower() if isinstance(v, bool) else v}")
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
