"""Load a centre export into the centre's store, and check that every figure agrees with its history.

The export is JSON Lines typed by `kind`: region, person, account, binding (who may pay for whom), catalogue
(医保目录: each item code's class, self-paid-first ratio, price limit) and medins (a designated hospital and
its level). Every line is validated (ID check digit and birth date, sex against the ID, codes, clean names
of bounded length, known pooling areas, references, amounts, duplicates, and each binding against the
mutual-aid rules as they stood on its begin_date); bad lines are reported by number and, unless skip_bad,
nothing is imported (with skip_bad, a file whose every line is bad is refused the same way); a file without a
single line is refused. All in one write transaction. Fast: see
`centre.store.import_read` (fast paths) and `centre.store.import_worker` (from PARALLEL_MIN_BYTES a second
process reads and validates while this one writes).

Re-import: every committed import is remembered in `imports` (the file's sha256, the ledger and movements
high-water marks). The same file again is "already imported": nothing is read and nothing changes. A newer
export is an upsert that compares, except where the centre itself moved money since the last import (see
`centre.store.import_write`). Each committed import writes one `audit` row (action `import`).

The engine is the business of the writer only: `centre.store.import_write` on SQLite, `centre.store.import_pg`
on PostgreSQL (the same statements, one pipelined executemany per chunk); the checks are the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable, TextIO

from centre.errors import Refused
from centre.interface.text import printable
from centre.rules.mutual_aid import MutualAidPolicy
from centre.store import money
from centre.store.engine import Database
from centre.store.import_lines import Importer, Progress
from centre.store.import_read import read_lines
from centre.store.import_report import KINDS, MAX_ERRORS_KEPT, ImportReport
from centre.store.import_worker import Worker
from centre.store.import_write import SqliteWriter

# from this size a second process reads and validates (env CASHIER_IMPORT_PARALLEL_BYTES overrides; tests)
PARALLEL_MIN_BYTES = int(os.environ.get("CASHIER_IMPORT_PARALLEL_BYTES", 16 << 20))


class _BadLines(Exception):
    """Bad lines and no skip_bad: roll the whole import back."""


def import_file(db: Database, path: str | Path, *, skip_bad: bool = False, progress: Progress | None = None,
                policy: MutualAidPolicy | None = None, operator: str = "import", at: str | None = None) -> ImportReport:
    """Validate and import a centre export in one transaction; see the module docstring. The database must be
    migrated; `at` is the centre's time (yyyy-MM-dd HH:mm:ss, default this machine's clock). Refused: the file
    cannot be read, or holds no line at all."""
    path = Path(path)
    name = printable(path)
    report = ImportReport(name, skip_bad=skip_bad)
    started = time.perf_counter()  # the file's hash is part of the time: a same-file re-import is that

    def unreadable(exc: OSError) -> Refused:
        return Refused("import_file", f"cannot read {name}: {exc.strerror or exc}", f"无法读取导入文件 {name}")

    try:
        total = path.stat().st_size
    except OSError as exc:
        raise unreadable(exc) from None
    writer: Any
    lookup: Any
    if db.dialect == "postgres":
        from centre.store.import_pg import PgWriter
        pg: Any = db
        writer, lookup, target = PgWriter(pg, report), pg, pg.store.dsn
    else:
        writer, lookup = SqliteWriter(db.conn, report), db.conn
        target = "" if db.path == ":memory:" else db.path
    imp = Importer(report, lookup, writer, policy=policy, stamp=at or "")
    parallel = bool(target) and total >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
    # a large file's reading process starts first: its start-up overlaps the hash (stopped if not needed)
    worker = Worker(path, target, imp.stamp, imp.policy) if parallel else None
    proceed = False
    try:
        try:
            report.sha256 = _sha256(path)
        except OSError as exc:
            raise unreadable(exc) from None
        if db.one("SELECT 1 FROM imports WHERE sha256 = ?", [report.sha256]) is not None:
            report.imported = report.already = True
            report.seconds = time.perf_counter() - started
            return report
        proceed = True
    finally:
        if worker is not None and not proceed:
            worker.kill()
    old_cache = _cache_size(db, -262144)  # SQLite: 256 MiB while importing, index pages stay in memory
    try:
        with _opened(path, unreadable) as fh, db.write():
            writer.start(imp.stamp, f"import:{report.sha256[:16]}")
            try:
                counts_before = writer.counts()
                if worker is not None:
                    worker.receive(imp, progress)
                else:
                    read_lines(imp, fh, total, progress)
                if report.lines == 0:  # nothing to import is a wrong file, not a centre with no one in it
                    raise _empty(name)
                imp.finish()
                writer.finish()
                counts_after = writer.counts()
            finally:
                writer.stop()
            for kind in KINDS:
                k = report.kinds[kind]
                k.inserted = counts_after[kind] - counts_before[kind]
                k.updated -= k.inserted
            report.changes = sum(k.inserted + k.updated for k in report.kinds.values())
            report.errors.sort(key=lambda e: e.line)
            del report.errors[MAX_ERRORS_KEPT:]
            if report.bad and (not skip_bad or report.bad >= report.lines):  # --skip-bad needs a good line
                raise _BadLines()
            _record(db, report, path, operator, imp.stamp)
        report.imported = True
    except _BadLines:
        report.imported = False
        report.changes = 0
        report.kept_accounts = []
        for k in report.kinds.values():
            k.inserted = k.updated = k.kept = 0
    finally:
        if worker is not None:
            worker.kill()  # a no-op after receive(); stops it when something failed before
        _cache_size(db, old_cache)
        if progress is not None:
            progress(total, total)
    report.seconds = time.perf_counter() - started
    return report


def _cache_size(db: Database, size: int | None) -> int | None:
    """SQLite's page cache size, set for the import and put back after it (the previous value); PostgreSQL
    sizes its own buffers."""
    if db.dialect != "sqlite" or size is None:
        return None
    old = db.one("PRAGMA cache_size")[0]
    db.execute(f"PRAGMA cache_size = {int(size)}")
    return int(old)


def refusal(report: ImportReport) -> Refused:
    """The refusal of an import with bad lines: every shown line with its number."""
    en, zh = report.refusal_text()
    return Refused("import_bad_lines", en, zh, errors=[{"line": e.line, "message": e.message} for e in report.errors])


def _empty(name: str) -> Refused:
    return Refused("import_empty", f"{name} holds no lines: an empty centre export is refused (nothing imported; "
                   "check that the export finished and that this is the right file)",
                   f"{name} 中没有任何数据:空的中心导出文件不予导入(未导入任何数据;请检查导出是否完成、文件是否正确)")


def _opened(path: Path, unreadable: Callable[[OSError], Refused]) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise unreadable(exc) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _record(db: Database, report: ImportReport, path: Path, operator: str, at: str) -> None:
    """One audit row summarising the import, and the `imports` row with the new high-water marks."""
    kinds = {k: {"lines": c.lines, "inserted": c.inserted, "updated": c.updated, "kept": c.kept}
             for k, c in report.kinds.items()}
    detail = {"file": printable(path.name), "sha256": report.sha256, "lines": report.lines, "bad": report.bad,
              "changes": report.changes, "kept_accounts": len(report.kept_accounts), "kinds": kinds}
    money.add_audit(db, at=at, fixmedins_code=None, opter=operator, action="import",
                    subject=f"import:{report.sha256[:16]}", detail=detail)
    ledger_mark = db.one("SELECT coalesce(max(id), 0) FROM ledger")[0]
    movements_mark = db.one("SELECT coalesce(max(id), 0) FROM movements")[0]
    audit_mark = db.one("SELECT coalesce(max(id), 0) FROM audit")[0]
    db.execute("INSERT INTO imports (sha256, file, lines, at, changes, kept, ledger_mark, audit_mark, movements_mark, "
               "summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [report.sha256, printable(path.name), report.lines, at, report.changes, len(report.kept_accounts),
                ledger_mark, audit_mark, movements_mark, json.dumps(detail, ensure_ascii=False, sort_keys=True)])


def terminal_progress(stream: TextIO | None = None) -> Progress | None:
    """A progress bar on stderr, only when it is a terminal (never in pipes, logs or CI)."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None
    width = 30
    last = [0.0]

    def draw(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.1:
            return
        last[0] = now
        frac = done / total if total else 1.0
        filled = int(frac * width)
        stream.write(f"\rimporting [{'#' * filled}{'.' * (width - filled)}] {frac * 100:5.1f}%")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return draw
