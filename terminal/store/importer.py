"""Import a centre export (docs/interfaces.md): JSON Lines typed by `kind` (region, person, account, binding).

Every line is validated (ID check digit and birth date, sex against the ID, codes, known pooling areas,
references, amounts, duplicates, and each binding against the mutual-aid rules `bind` applies, as they stood on
its begin_date: terminal.domain.mutual_aid.check_centre_binding); bad lines are reported by number and,
unless skip_bad, nothing is imported (with skip_bad, a file whose every line is bad is refused the same way);
a file without a single line is refused (import_empty). All in one
transaction. Fast: bulk `executemany` in chunks (a chunk that hits a constraint is redone row by row to name
the line); canonical person, account and binding lines skip the JSON parser (same checks), and a binding line
whose shape already passed the rules takes a short path (see _read_lines); from PARALLEL_MIN_BYTES a second
process reads and validates while this one writes.

The export is the centre's view: an account's `balc` is after any cross-province quota, and a binding's
`quota` is its remaining earmark; import takes both as given and moves no money. Each is also the row's
`opening` (the start `cashier reconcile` explains it from); a newer export that overwrites a balance or a
quota moves its opening by the same amount.

Re-import policy (the window's own activity is never undone):
- Every committed import is remembered in `imports` (the file's sha256, lines, time, counts). The same
  file again is "already imported": nothing is read into the database and nothing changes.
- A different (newer) export is an upsert that compares, except where the window acted since the last
  import: an account with ledger entries against its balance (settlements, reversals) or a quota moved by
  bind/unbind keeps its local balance, and a binding whose quota was drawn on or moved keeps its local row
  (reported as `kept`). A binding ended here is not brought back by a line for the same pair with the same
  begin_date (a new begin_date is a new binding).
- Each committed import writes one `audit` row (action `import`) with its counts.

API: import_file(db, path, skip_bad=False, progress=None, policy=None, operator=None, window=None)
         -> ImportReport   (policy: the mutual-aid rules; default the ones shipped in config.toml)
     terminal_progress() -> progress callback drawing a bar on stderr, or None when not a terminal

This module holds the transaction and the re-import bookkeeping; the per-line checks and the reading loop
are in terminal.store.import_lines, the second (reading) process in terminal.store.import_worker.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import sqlite_utils

from terminal.domain.mutual_aid import MutualAidPolicy
from terminal.domain.text import printable
from terminal.error_codes import E
from terminal.errors import BadInput
from terminal.store.import_lines import (  # noqa: F401
    _TABLE,
    CHUNK,
    KINDS,
    MAX_ERRORS_KEPT,
    ImportReport,
    KindCounts,
    LineError,
    Progress,
    _Importer,
    _read_lines,
)
from terminal.store.import_worker import _file_of, _Worker
from terminal.store.people import add_audit, now_iso, write_transaction

# from this size a second process reads and validates (env CASHIER_IMPORT_PARALLEL_BYTES overrides; tests)
PARALLEL_MIN_BYTES = int(os.environ.get("CASHIER_IMPORT_PARALLEL_BYTES", 16 << 20))


def import_file(db: sqlite_utils.Database, path: str | Path, *, skip_bad: bool = False,
                progress: Progress | None = None, policy: MutualAidPolicy | None = None,
                operator: str | None = None, window: str | None = None) -> ImportReport:
    """Validate and import a centre export in one transaction; see the module docstring."""
    path = Path(path)
    report = ImportReport(str(path), skip_bad=skip_bad)
    started = time.perf_counter()  # the file's hash is part of the time: a same-file re-import is that

    def unreadable(exc: OSError) -> BadInput:
        name = printable(path)
        return E.IMPORT_FILE.error(f"cannot read {name}: {exc.strerror or exc}", f"无法读取导入文件 {name}")

    try:
        total = path.stat().st_size
    except OSError as exc:
        raise unreadable(exc) from None
    conn = db.conn
    imp = _Importer(report, conn, policy=policy)
    db_file = _file_of(conn)
    parallel = bool(db_file) and total >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
    # a large file's reading process starts first: its start-up overlaps the hash (stopped if not needed)
    worker = _Worker(path, db_file, imp.stamp, imp.policy) if parallel else None
    proceed = False
    try:
        try:
            report.sha256 = _sha256(path)
            fh = open(path, "rb")  # noqa: SIM115  closed by the finally below, after the hash
        except OSError as exc:
            raise unreadable(exc) from None
        if _already_imported(db, report.sha256):
            fh.close()
            report.imported = report.already = True
            report.seconds = time.perf_counter() - started
            return report
        proceed = True
    finally:
        if worker is not None and not proceed:
            worker.kill()
    old_cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB while importing: index pages stay in memory
    try:
        with fh, write_transaction(db):
            counts_before = _row_counts(db)
            imp.kept_accounts, imp.kept_pairs = _window_activity(db)
            imp.ended_keys = {tuple(r) for r in db.execute(
                "SELECT owner_psn_no, user_psn_no, begin_date FROM bindings WHERE status = 'ended'").fetchall()}
            if worker is not None:
                worker.receive(imp, progress)
            else:
                _read_lines(imp, fh, total, progress)
            if report.lines == 0:  # nothing to import is a wrong file, not a centre with no one in it
                raise _empty(path)
            imp.finish()
            counts_after = _row_counts(db)
            for kind in KINDS:
                k = report.kinds[kind]
                k.inserted = counts_after[kind] - counts_before[kind]
                k.updated -= k.inserted
            report.changes = sum(k.inserted + k.updated for k in report.kinds.values())
            report.errors.sort(key=lambda e: e.line)
            del report.errors[MAX_ERRORS_KEPT:]
            if report.bad and (not skip_bad or report.bad >= report.lines):  # --skip-bad needs a good line
                raise _Refused()
            _record(db, report, path, operator, window)
        report.imported = True
    except _Refused:
        report.imported = False
        report.changes = 0
        report.kept_accounts = []
        for k in report.kinds.values():
            k.inserted = k.updated = k.kept = 0
    finally:
        if worker is not None:
            worker.kill()  # a no-op after receive(); stops it when something failed before
        conn.execute(f"PRAGMA cache_size = {old_cache}")
        if progress is not None:
            progress(total, total)
    report.seconds = time.perf_counter() - started
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _has_table(db: sqlite_utils.Database, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def _already_imported(db: sqlite_utils.Database, sha256: str) -> bool:
    return _has_table(db, "imports") and db.execute(
        "SELECT 1 FROM imports WHERE sha256 = ?", [sha256]).fetchone() is not None


def _marks(db: sqlite_utils.Database) -> tuple[int, int]:
    """(ledger id, audit id) high-water marks of the last import; (0, 0) when none is recorded."""
    if not _has_table(db, "imports"):
        return 0, 0
    row = db.execute("SELECT ledger_mark, audit_mark FROM imports ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, 0)


def _window_activity(db: sqlite_utils.Database) -> tuple[set[str], set[tuple[str, str]]]:
    """Accounts and active binding pairs the window changed since the last import: ledger entries against
    a balance or a quota (settlements, reversals), quotas moved by bind / unbind / a lapsed binding."""
    ledger_mark, audit_mark = _marks(db)
    accounts: set[str] = set()
    binding_ids: set[int] = set()
    if _has_table(db, "ledger"):
        for psn_no, source, binding_id in db.execute(
                "SELECT DISTINCT psn_no, source, binding_id FROM ledger WHERE id > ? "
                "AND account IN ('own', 'binding')", [ledger_mark]).fetchall():
            if source == "quota":
                binding_ids.add(binding_id)
            else:
                accounts.add(psn_no)
    for owner, subject in db.execute(
            "SELECT json_extract(detail, '$.owner_psn_no'), subject FROM audit WHERE id > ? "
            "AND ((action = 'bind' AND json_extract(detail, '$.quota') > 0) "
            "OR (action = 'unbind' AND json_extract(detail, '$.returned') > 0))", [audit_mark]).fetchall():
        if owner:
            accounts.add(owner)
        if subject and subject.startswith("binding:") and subject[8:].isdigit():
            binding_ids.add(int(subject[8:]))
    pairs: set[tuple[str, str]] = set()
    for bid in binding_ids:
        row = db.execute("SELECT owner_psn_no, user_psn_no FROM bindings WHERE id = ?", [bid]).fetchone()
        if row:
            pairs.add((row[0], row[1]))
    return accounts, pairs


def _record(db: sqlite_utils.Database, report: ImportReport, path: Path, operator: str | None,
            window: str | None) -> None:
    """One audit row summarising the import, and the `imports` row (with the new high-water marks)."""
    kinds = {k: {"lines": c.lines, "inserted": c.inserted, "updated": c.updated, "kept": c.kept}
             for k, c in report.kinds.items()}
    detail = {"file": path.name, "sha256": report.sha256, "lines": report.lines, "bad": report.bad,
              "changes": report.changes, "kept_accounts": len(report.kept_accounts), "kinds": kinds}
    add_audit(db, operator=operator, window=window, action="import", subject=f"import:{report.sha256[:16]}",
              detail=detail)
    if not _has_table(db, "imports"):
        return
    ledger_mark = db.execute("SELECT coalesce(max(id), 0) FROM ledger").fetchone()[0] \
        if _has_table(db, "ledger") else 0
    audit_mark = db.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0]
    db.execute("INSERT INTO imports (sha256, file, lines, at, changes, kept, ledger_mark, audit_mark, summary) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [report.sha256, path.name, report.lines, now_iso(), report.changes, len(report.kept_accounts),
                ledger_mark, audit_mark, json.dumps(detail, ensure_ascii=False, sort_keys=True)])


def _empty(path: Path) -> BadInput:
    name = printable(path)
    return E.IMPORT_EMPTY.error(f"{name} holds no lines: an empty centre export is refused (nothing imported; "
                    "check that the export finished and that this is the right file)",
                    f"{name} 中没有任何数据:空的中心导出文件不予导入(未导入任何数据;请检查导出是否完成、文件是否正确)")


class _Refused(Exception):
    """Bad lines and no skip_bad: roll the whole import back."""


def _row_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {k: db.execute(f"SELECT count(*) FROM {_TABLE[k]}").fetchone()[0] for k in KINDS}


def refusal(report: ImportReport, shown: int = 20) -> BadInput:
    """The error for an import refused because of bad lines: every shown line with its number."""
    lines = [str(e) for e in report.errors[:shown]]
    more = report.bad - len(lines)
    if more > 0:
        lines.append(f"... and {more} more")
    name = printable(report.path)
    if report.skip_bad:  # every line was bad: there is no rest to import
        head = f"every line of {name} is bad ({report.bad}); nothing imported"
        head_zh = f"{name} 的 {report.bad} 行全部有错误,未导入任何数据"
    else:
        head = f"{report.bad} bad line(s) in {name}; nothing imported (use --skip-bad to import the rest)"
        head_zh = f"{name} 有 {report.bad} 行错误,未导入任何数据(可用 --skip-bad 跳过错误行)"
    return E.IMPORT_BAD_LINES.error("\n".join([head, *lines]), "\n".join([head_zh, *lines]),
                    errors=[{"line": e.line, "message": e.message} for e in report.errors])


def terminal_progress(stream=None) -> Progress | None:
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

