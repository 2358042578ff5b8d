"""Benchmark: `cashier db import` (the centre's import, then the window's cache filled from the centre) vs a raw
sqlite3.executemany floor, and the window's cached family lookup.

The export, its rows and the floor are benchmarks/centre_import.py's (N persons, half employees with accounts,
3N bindings that keep every rule, a catalogue and a hospital; the floor inserts the same rows into a fresh centre
database with plain `executemany`, one transaction). Then the export goes through `terminal.store.importer.load`
as `cashier db import` runs it at a window with the embedded centre: the centre validates and imports it, then
the window's cache (persons, accounts, bindings, areas) is filled from the centre. Then: the same file again
(recognised by sha256: nothing read, nothing written), a newer export of the same size (every 4th balance
changed), and `family_for` on the window's cache by card number on random persons (what the window shows while
the centre cannot be asked).

Prints `key=value` lines: import_vs_raw (the floor's time over the whole `db import`, centre and cache),
cache_fill_s (the window's part), lookup_p50_ms / lookup_p99_ms. Targets: import_vs_raw >= 0.25 (two databases
written where the floor writes one), lookup_p99_ms < 1. The load average is printed with the figures.
Usage: python benchmarks/import_lookup.py [--persons 1000000] [--lookups 20000] [--repeat N] [--keep DIR]
       [--no-newer]
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from centre_import import _children_cpu, generate, percentile, raw_floor  # noqa: E402

from terminal.config import load_config  # noqa: E402
from terminal.services.cached_people import family_for  # noqa: E402
from terminal.store.db import open_db  # noqa: E402
from terminal.store.importer import load  # noqa: E402

TODAY = "2026-11-29"
TARGET_RATIO = 0.25


def _window(work: Path):
    """A window with the embedded centre, both databases in `work`."""
    for stale in [*work.glob("*.db*"), *work.glob("var/*")]:
        stale.unlink()
    shutil.copy(ROOT / "config.toml", work / "config.toml")
    return load_config(work / "config.toml", db=work / "window.db")


def _timed_load(cfg, export: Path) -> tuple[float, float, object]:
    """(seconds of the whole `db import`, seconds of its cache fill, report)."""
    import terminal.store.importer as importer
    fill, spent = importer.fill, [0.0]

    def timed_fill(*args, **kw):
        t = time.perf_counter()
        try:
            return fill(*args, **kw)
        finally:
            spent[0] += time.perf_counter() - t

    importer.fill = timed_fill
    try:
        t0 = time.perf_counter()
        report = load(cfg, export).report
        return time.perf_counter() - t0, spent[0], report
    finally:
        importer.fill = fill


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
    out: dict[str, object] = {"persons": n, "sqlite": __import__("sqlite3").sqlite_version}
    try:
        export = work / "export.jsonl"
        newer = work / "newer.jsonl" if args.newer else None
        t0 = time.perf_counter()
        rows = generate(n, export, newer)
        out["generate_s"] = round(time.perf_counter() - t0, 2)
        total_rows = sum(len(v) for v in rows.values())
        out["rows"] = total_rows
        out["export_mb"] = round(export.stat().st_size / 1e6, 1)

        runs = []
        for _ in range(args.repeat):
            cfg = _window(work)
            load0 = os.getloadavg()[0]
            raw_s, raw_cpu = raw_floor(work / "raw.db", rows)
            c0, w0 = time.process_time(), _children_cpu()
            import_s, fill_s, report = _timed_load(cfg, export)
            import_cpu, worker_cpu = time.process_time() - c0, _children_cpu() - w0
            assert report.imported and report.bad == 0, report.errors[:5]
            runs.append({"ratio": raw_s / import_s, "import_s": import_s, "fill_s": fill_s, "raw_s": raw_s,
                         "import_cpu": import_cpu, "worker_cpu": worker_cpu, "raw_cpu": raw_cpu, "load0": load0,
                         "load1": os.getloadavg()[0]})
        del rows
        med = sorted(runs, key=lambda x: x["ratio"])[len(runs) // 2]
        out["import_s"] = round(med["import_s"], 2)
        out["cache_fill_s"] = round(med["fill_s"], 2)
        out["import_rows_per_s"] = round(total_rows / med["import_s"])
        out["raw_s"] = round(med["raw_s"], 2)
        out["import_vs_raw"] = round(med["ratio"], 3)
        out["import_cpu_s"] = round(med["import_cpu"], 2)
        out["import_worker_cpu_s"] = round(med["worker_cpu"], 2)
        out["raw_cpu_s"] = round(med["raw_cpu"], 2)
        out["load_avg_1m_before"] = round(med["load0"], 2)
        out["load_avg_1m"] = round(med["load1"], 2)
        if len(runs) > 1:
            out["import_vs_raw_runs"] = ",".join(f"{x['ratio']:.3f}" for x in runs)

        # the same file again: recognised by its sha256 at the centre and at the window, nothing written
        seconds, _fill, again = _timed_load(cfg, export)
        out["reimport_same_ms"] = round(seconds * 1000, 1)
        assert again.already and again.changes == 0
        if newer is not None:  # a newer export of the same people (every 4th balance changed)
            seconds, fill_s, t = _timed_load(cfg, newer)
            assert t.imported and t.bad == 0 and not t.already, t.errors[:5]
            out["reimport_newer_s"] = round(seconds, 2)
            out["reimport_newer_cache_fill_s"] = round(fill_s, 2)
            out["reimport_newer_changes"] = t.changes

        db = open_db(cfg.db_path)
        rnd = random.Random(5)
        cards = [f"Z{rnd.randrange(n):08d}" for _ in range(args.lookups)]
        for c in cards[:1000]:  # warm the page cache like a running window would
            family_for(db, card_no=c, today=TODAY)
        times = []
        relatives = 0
        for c in cards:
            t1 = time.perf_counter_ns()
            view = family_for(db, card_no=c, today=TODAY)
            times.append((time.perf_counter_ns() - t1) / 1e6)
            relatives += len(view.relatives)
        db.close()
        times.sort()
        out["lookups"] = len(times)
        out["lookup_relatives_avg"] = round(relatives / len(times), 2)
        out["lookup_p50_ms"] = round(statistics.median(times), 4)
        out["lookup_p99_ms"] = round(percentile(times, 99), 4)
        out["lookup_max_ms"] = round(times[-1], 3)
        out["target_import_vs_raw"] = TARGET_RATIO
        out["target_lookup_p99_ms"] = 1.0
        out["ok"] = med["ratio"] >= TARGET_RATIO and out["lookup_p99_ms"] < 1.0   # type: ignore[operator]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for k, v in out.items():
        print(f"{k}={str(v).lower() if isinstance(v, bool) else v}")
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
