"""Benchmark: centre-export import vs a raw sqlite3.executemany floor, and family-lookup latency.

Generates N persons (half employees with accounts) and 3N bindings as a centre export in a temp dir. The
data keeps every rule the importer checks: gend is the ID's sex digit and brdy its birth date; only 310
persons have accounts and own bindings; the relation fits the user's sex and the rule in force on its
begin_date (2024-only codes begin on or after 2024-07-01); cross-province only between open areas of
different provinces, from 2026-01-09, with a quota; a closed area binds only within its province.
Inserts the very same rows with plain `sqlite3.executemany` into a fresh database with the same schema
and pragmas (the floor), then imports the export as `cashier db import` does (`terminal.store.importer.load`:
the embedded centre validates and imports it, then the window's cache is filled from the centre). Then: the
same file again (recognised by sha256: "already imported", nothing read), a newer export of the same size
(every 4th balance changed; an upsert that compares), and `family_for` by card number on random persons.

Prints `key=value` lines. Targets (issue 5): import_vs_raw >= 0.50, lookup_p99_ms < 1.
The load average is printed with the figures: on a shared machine they move with it.
Usage: python benchmarks/import_lookup.py [--persons 1000000] [--lookups 20000] [--repeat N] [--keep DIR]
       [--no-newer]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drivers.certno import check_digit
from terminal.config import load_config
from terminal.services.cached_people import family_for
from terminal.store.db import open_db
from terminal.store.importer import load

TODAY = "2026-11-29"
BINDINGS_PER_USER = 3
DAY0 = dt.date(1950, 1, 1)
STAMP = "2026-11-29T00:00:00+00:00"

# pooling areas: (code, name, province, cross-province open); a person's area follows i % 10
REGIONS = (("510100", "成都市", "四川省", True), ("411500", "信阳市", "河南省", True),
           ("110100", "北京市", "北京市", False), ("410100", "郑州市", "河南省", True))
AREA_OF_DIGIT = ("510100", "510100", "411500", "411500", "110100", "110100", "410100", "410100", "410100", "410100")
OPEN = {code for code, _n, _p, is_open in REGIONS if is_open}

# relations the user may be to the owner, by the user's sex ("1" male, "2" female): allowed since 2021 / only
# since 2024-07-01 (the close-relative extension); sex-neutral codes go to either
REL_2021 = {"1": ("11", "20", "51", "10", "50"), "2": ("12", "30", "52", "10", "50")}
REL_2024 = {"1": ("41", "61", "71", "40", "60", "70"), "2": ("42", "62", "75", "40", "60", "70")}
LOCAL_BEGIN = ("2021-06-01", "2023-03-15", "2024-07-01", "2025-01-01", "2026-02-01")
LATE_BEGIN = ("2024-07-01", "2025-01-01", "2026-02-01")   # for the 2024-only codes
CROSS_BEGIN = ("2026-01-09", "2026-02-01", "2026-05-20")  # cross-province opened 2026-01-09
CROSS_QUOTA = 1000


def sex_of(i: int) -> str:
    """The 17th digit of person i's ID is the hundreds digit of i % 1000 (see person_row): odd = male."""
    return "1" if (i % 1000) // 100 % 2 else "2"


def area_of(i: int) -> str:
    return AREA_OF_DIGIT[i % 10]


def person_row(i: int) -> tuple:
    """Person i: ID born DAY0 + i // 1000 days, sequence digits of i % 1000 reversed (so the sex digit does
    not follow i's parity, i.e. employees are of both sexes); brdy is the ID's birth date, gend its sex."""
    born = DAY0 + dt.timedelta(days=i // 1000)
    first17 = f"110101{born:%Y%m%d}{f'{i % 1000:03d}'[::-1]}"
    employee = i % 2 == 0
    return (f"P{i:07d}", first17 + check_digit(first17), f"人{i}", sex_of(i), "01", born.isoformat(),
            f"Z{i:08d}", f"{i:032X}", area_of(i), "310" if employee else "390", "1")


def owners_of(u: int, n: int) -> list[tuple[int, str]]:
    """Three distinct employees (even numbers) other than u whose areas allow a binding, with the scope:
    local within a province; cross-province only between two open areas of different provinces."""
    half = n // 2
    out: list[tuple[int, str]] = []
    ua = area_of(u)
    k = 0
    while len(out) < BINDINGS_PER_USER:
        if k > 10_000:
            raise SystemExit(f"no three owners for person {u}: use more --persons")
        o = 2 * ((u // 2 + 1 + k * 7919) % half)
        k += 1
        if o == u or any(o == x for x, _ in out):
            continue
        oa = area_of(o)
        if oa[:2] == ua[:2]:
            out.append((o, "local"))
        elif oa in OPEN and ua in OPEN:
            out.append((o, "cross_province"))
    return out


def binding_of(u: int, k: int, scope: str) -> tuple[str, str]:
    """(relation, begin_date) for the k-th binding of user u: a code matching u's sex, allowed on the date."""
    h = u * 3 + k
    if scope == "cross_province":
        begin = CROSS_BEGIN[h % len(CROSS_BEGIN)]
        codes = REL_2021[sex_of(u)] + REL_2024[sex_of(u)]
        return codes[h % len(codes)], begin
    if h % 3 == 0:
        codes = REL_2024[sex_of(u)]
        return codes[h % len(codes)], LATE_BEGIN[h % len(LATE_BEGIN)]
    codes = REL_2021[sex_of(u)]
    return codes[h % len(codes)], LOCAL_BEGIN[h % len(LOCAL_BEGIN)]


def balance(i: int, newer: bool) -> int:
    """Account balance in fen; the newer export changes every fourth one."""
    balc = (i * 37) % 500000 + CROSS_QUOTA
    return balc + 100 if newer and i % 4 == 0 else balc


def generate(n: int, path: Path, newer_path: Path | None = None) -> dict[str, list[tuple]]:
    """Write the export (and, when newer_path, a newer export of the same people: other balances) and
    return the first export's rows as tuples for the raw floor."""
    rows: dict[str, list[tuple]] = {"regions": [], "persons": [], "accounts": [], "bindings": []}
    f = path.open("w", encoding="utf-8")
    g = newer_path.open("w", encoding="utf-8") if newer_path else None
    w = f.write
    try:
        for code, name, prov, is_open in REGIONS:
            line = json.dumps({"kind": "region", "admdvs": code, "name": name, "province": prov,
                               "cross_province": is_open}, ensure_ascii=False) + "\n"
            w(line)
            if g:
                g.write(line)
            rows["regions"].append((code, name, prov, int(is_open)))
        keys = ("psn_no", "certno", "psn_name", "gend", "naty", "brdy", "card_no", "card_sn", "insuplc_admdvs",
                "insutype", "psn_insu_stas")
        for i in range(n):
            r = person_row(i)
            line = json.dumps({"kind": "person", **dict(zip(keys, r))}, ensure_ascii=False) + "\n"
            w(line)
            rows["persons"].append(r)
            if i % 2 == 0:
                balc = balance(i, False)
                w(f'{{"kind": "account", "psn_no": "{r[0]}", "balc": {balc}, "year": 2026}}\n')
                rows["accounts"].append((r[0], balc, 2026, 0))
            if g:
                g.write(line)
                if i % 2 == 0:
                    g.write(f'{{"kind": "account", "psn_no": "{r[0]}", "balc": {balance(i, True)}, "year": 2026}}\n')
        for u in range(n):
            for k, (o, scope) in enumerate(owners_of(u, n)):
                rel, begin = binding_of(u, k, scope)
                quota = CROSS_QUOTA if scope == "cross_province" else 0
                line = (f'{{"kind": "binding", "owner_psn_no": "P{o:07d}", "user_psn_no": "P{u:07d}", '
                        f'"relation": "{rel}", "scope": "{scope}", "quota": {quota}, "begin_date": "{begin}"}}\n')
                w(line)
                if g:
                    g.write(line)
                rows["bindings"].append((f"P{o:07d}", f"P{u:07d}", rel, scope, quota, begin, None, "active",
                                         "centre", STAMP))
    finally:
        f.close()
        if g:
            g.close()
    return rows


def raw_floor(db_path: Path, rows: dict[str, list[tuple]]) -> tuple[float, float]:
    """(wall, CPU) seconds for plain executemany of the same rows, one transaction, same schema and pragmas."""
    db = open_db(db_path, create=True)
    conn = db.conn
    conn.execute("PRAGMA cache_size = -262144")
    sql = {
        "regions": "INSERT INTO regions VALUES (?, ?, ?, ?)",
        "persons": "INSERT INTO persons (psn_no, certno, psn_name, gend, naty, brdy, card_no, card_sn, "
                   "insuplc_admdvs, insutype, psn_insu_stas) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "accounts": "INSERT INTO accounts (psn_no, balc, year, version, opening) VALUES (?1, ?2, ?3, ?4, ?2)",
        "bindings": "INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, end_date, "
                    "status, created_by, created_at, opening) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?5)",
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
    ap.add_argument("--repeat", type=int, default=1, help="raw floor + import pairs; the median pair is reported")
    ap.add_argument("--no-newer", dest="newer", action="store_false",
                    help="skip importing a second, newer export of the same size")
    args = ap.parse_args(argv)
    n = args.persons
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cashier-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    out = {"persons": n, "bindings": n * BINDINGS_PER_USER, "sqlite": __import__("sqlite3").sqlite_version}
    try:
        export = work / "export.jsonl"
        newer = work / "newer.jsonl" if args.newer else None
        t0 = time.perf_counter()
        rows = generate(n, export, newer)
        out["generate_s"] = round(time.perf_counter() - t0, 2)
        total_rows = sum(len(v) for v in rows.values())
        out["rows"] = total_rows
        out["export_mb"] = round(export.stat().st_size / 1e6, 1)

        # raw floor then import, each into a fresh database; --repeat pairs them N times (a shared machine's
        # load moves between runs): the figures are the median pair's, every pair's ratio is listed too
        runs = []
        for _ in range(args.repeat):
            for stale in [*work.glob("*.db*"), *work.glob("var/*")]:
                stale.unlink()
            shutil.copy(ROOT / "config.toml", work / "config.toml")   # the embedded centre in work/var
            cfg = load_config(work / "config.toml", db=work / "import.db")
            load0 = os.getloadavg()[0]
            raw_s, raw_cpu = raw_floor(work / "raw.db", rows)
            c0, w0 = time.process_time(), _children_cpu()
            t0 = time.perf_counter()
            report = load(cfg, export).report
            import_s = time.perf_counter() - t0  # all of it: hashing the file, checks, writes, the audit row
            import_cpu = time.process_time() - c0
            worker_cpu = _children_cpu() - w0  # the reading process of a large import
            assert report.imported and report.bad == 0, report.errors[:5]
            runs.append({"ratio": raw_s / import_s, "import_s": import_s, "raw_s": raw_s, "import_cpu": import_cpu,
                         "worker_cpu": worker_cpu, "raw_cpu": raw_cpu, "load0": load0,
                         "load1": os.getloadavg()[0]})
        del rows
        med = sorted(runs, key=lambda x: x["ratio"])[len(runs) // 2]
        out["import_s"] = round(med["import_s"], 2)
        out["import_rows_per_s"] = round(total_rows / med["import_s"])
        out["raw_s"] = round(med["raw_s"], 2)
        out["raw_rows_per_s"] = round(total_rows / med["raw_s"])
        out["import_vs_raw"] = round(med["ratio"], 3)
        out["import_cpu_s"] = round(med["import_cpu"], 2)
        out["import_worker_cpu_s"] = round(med["worker_cpu"], 2)
        out["raw_cpu_s"] = round(med["raw_cpu"], 2)
        out["load_avg_1m_before"] = round(med["load0"], 2)
        out["load_avg_1m"] = round(med["load1"], 2)
        if len(runs) > 1:
            out["import_vs_raw_runs"] = ",".join(f"{x['ratio']:.3f}" for x in runs)
            out["load_avg_1m_runs"] = ",".join(f"{x['load1']:.2f}" for x in runs)

        # the same file again: recognised by its sha256, nothing read into the database
        t0 = time.perf_counter()
        again = load(cfg, export).report
        out["reimport_same_ms"] = round((time.perf_counter() - t0) * 1000, 1)  # mostly the file's sha256
        assert again.already and again.changes == 0
        out["reimport_same_changes"] = again.changes
        if newer is not None:  # a newer export of the same people (every 4th balance changed): upsert compares
            t0 = time.perf_counter()
            t = load(cfg, newer).report
            newer_s = time.perf_counter() - t0
            assert t.imported and t.bad == 0 and not t.already, t.errors[:5]
            out["reimport_newer_s"] = round(newer_s, 2)
            out["reimport_newer_rows_per_s"] = round(total_rows / newer_s)
            out["reimport_newer_changes"] = t.changes

        db = open_db(work / "import.db")
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
