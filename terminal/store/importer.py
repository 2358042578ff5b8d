"""Import a centre export (DESIGN §8.2): JSON Lines typed by `kind` (region, person, account, binding).

Every line is validated (ID check digit, codes, references, amounts, duplicates); bad lines are reported
by number and, unless skip_bad, nothing is imported. All in one transaction. Rows are upserts that
compare: a re-import of the same file changes nothing (0 changes). Fast: bulk `executemany` in chunks
(a chunk that hits a constraint is redone row by row to name the line); canonical binding lines skip the
JSON parser; from PARALLEL_MIN_BYTES a second process reads and validates while this one writes.

The export is the centre's view: an account's `balc` is after any cross-province quota, and a binding's
`quota` is its remaining earmark; import takes both as given and moves no money.

API: import_file(db, path, skip_bad=False, progress=None) -> ImportReport
     terminal_progress() -> progress callback drawing a bar on stderr, or None when not a terminal
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import sqlite_utils

from drivers import certno as certno_mod
from terminal.domain import relations
from terminal.domain.mutual_aid import MAX_FEN, SCOPES
from terminal.errors import BadInput, StoreError
from terminal.store.people import now_iso, write_transaction

CHUNK = 5000
# from this size a second process reads and validates (env CASHIER_IMPORT_PARALLEL_BYTES overrides; tests)
PARALLEL_MIN_BYTES = int(os.environ.get("CASHIER_IMPORT_PARALLEL_BYTES", 16 << 20))
MAX_ERRORS_KEPT = 1000
Progress = Callable[[int, int], None]

_ADMDVS = re.compile(r"^\d{6}$")
_NATY = re.compile(r"^\d{2}$")
_CARD_NO = re.compile(r"^[0-9A-Z]{1,20}$")
_CARD_SN = re.compile(r"^[0-9A-F]{32}$")
_GEND = frozenset({"0", "1", "2", "9"})
_INSUTYPES = frozenset({"310", "390"})
_STAS = frozenset({"1", "2", "4"})
_STATUS = frozenset({"active", "ended"})

_SQL = {
    "region": (
        "INSERT INTO regions (admdvs, name, province, cross_province) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(admdvs) DO UPDATE SET name = excluded.name, province = excluded.province, "
        "cross_province = excluded.cross_province WHERE name IS NOT excluded.name "
        "OR province IS NOT excluded.province OR cross_province IS NOT excluded.cross_province"),
    "person": (
        "INSERT INTO persons (psn_no, certno, psn_name, gend, naty, brdy, card_no, card_sn, insuplc_admdvs, "
        "insutype, psn_insu_stas) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(psn_no) DO UPDATE SET certno = excluded.certno, psn_name = excluded.psn_name, "
        "gend = excluded.gend, naty = excluded.naty, brdy = excluded.brdy, card_no = excluded.card_no, "
        "card_sn = excluded.card_sn, insuplc_admdvs = excluded.insuplc_admdvs, insutype = excluded.insutype, "
        "psn_insu_stas = excluded.psn_insu_stas "
        "WHERE certno IS NOT excluded.certno OR psn_name IS NOT excluded.psn_name OR gend IS NOT excluded.gend "
        "OR naty IS NOT excluded.naty OR brdy IS NOT excluded.brdy OR card_no IS NOT excluded.card_no "
        "OR card_sn IS NOT excluded.card_sn OR insuplc_admdvs IS NOT excluded.insuplc_admdvs "
        "OR insutype IS NOT excluded.insutype OR psn_insu_stas IS NOT excluded.psn_insu_stas"),
    "account": (
        "INSERT INTO accounts (psn_no, balc, year, version) VALUES (?, ?, ?, 0) "
        "ON CONFLICT(psn_no) DO UPDATE SET balc = excluded.balc, year = excluded.year, version = version + 1 "
        "WHERE balc IS NOT excluded.balc OR year IS NOT excluded.year"),
    "binding": (
        "INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, end_date, status, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 'centre', ?) "
        "ON CONFLICT(owner_psn_no, user_psn_no) WHERE status = 'active' DO UPDATE SET "
        "relation = excluded.relation, scope = excluded.scope, quota = excluded.quota, "
        "begin_date = excluded.begin_date, end_date = excluded.end_date "
        "WHERE relation IS NOT excluded.relation OR scope IS NOT excluded.scope OR quota IS NOT excluded.quota "
        "OR begin_date IS NOT excluded.begin_date OR end_date IS NOT excluded.end_date"),
}
_TABLE = {"region": "regions", "person": "persons", "account": "accounts", "binding": "bindings"}
KINDS = ("region", "person", "account", "binding")  # flush order: a row's references go first


@dataclass
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class KindCounts:
    lines: int = 0
    inserted: int = 0
    updated: int = 0

    @property
    def unchanged(self) -> int:
        return self.lines - self.inserted - self.updated


@dataclass
class ImportReport:
    path: str
    lines: int = 0                  # non-blank lines read
    bad: int = 0                    # lines refused
    errors: list[LineError] = field(default_factory=list)  # the first MAX_ERRORS_KEPT
    kinds: dict[str, KindCounts] = field(default_factory=lambda: {k: KindCounts() for k in KINDS})
    changes: int = 0                # rows the database changed (0 on a re-import)
    imported: bool = False          # committed
    skip_bad: bool = False
    seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "file": self.path, "lines": self.lines, "bad": self.bad, "imported": self.imported,
            "changes": self.changes, "seconds": round(self.seconds, 3),
            "kinds": {k: {"lines": c.lines, "inserted": c.inserted, "updated": c.updated,
                          "unchanged": c.unchanged} for k, c in self.kinds.items()},
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
        }


def _is_date(v: object) -> bool:
    if type(v) is not str or len(v) != 10:
        return False
    try:
        _dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _is_fen(v: object) -> bool:
    return type(v) is int and 0 <= v <= MAX_FEN


def _fen_problem(name: str, v: object) -> str:
    if type(v) is not int:
        return f"{name} must be a whole number of fen, not {v!r}"
    return f"{name} {v} is out of range (0 to {MAX_FEN} fen)"


class _Importer:
    """One run: validate lines into per-kind buffers, flush them in chunks, collect errors."""

    def __init__(self, report: ImportReport, conn: sqlite3.Connection,
                 sink: Callable[[str, list[tuple], list[int]], None] | None = None) -> None:
        self.conn = conn                  # writes (main process); in a worker: a read-only lookup connection
        self.report = report
        self.sink = sink or self.write    # where full chunks go: the database, or the pipe to it
        self.buffers: dict[str, list[tuple]] = {k: [] for k in KINDS}
        self.linenos: dict[str, list[int]] = {k: [] for k in KINDS}
        self.buffered = 0
        self.psn_seen: set[str] = set()       # psn_no of valid person lines in this file
        self.pending: list[tuple[int, str, tuple]] = []  # lines whose referenced person may come later
        self.ended: list[tuple[int, tuple]] = []         # ended bindings (history), matched row by row
        self.stamp = now_iso()
        self.relation_table = relations.table()
        self.binding_codes = frozenset(c for c, r in self.relation_table.items() if r.kind not in ("self", "none"))
        self.good_dates: set[str] = set()  # begin dates already checked (they repeat a lot)

    # --- errors ---------------------------------------------------------------------------------
    def error(self, line: int, message: str) -> None:
        self.report.bad += 1
        if len(self.report.errors) < MAX_ERRORS_KEPT:
            self.report.errors.append(LineError(line, message))

    # --- validation, one function per kind; each returns an error text or None ------------------
    def region(self, o: dict, n: int) -> str | None:
        admdvs, name, open_ = o.get("admdvs"), o.get("name"), o.get("cross_province", False)
        if type(admdvs) is not str or not _ADMDVS.match(admdvs):
            return f"region: admdvs must be a 6-digit area code, not {admdvs!r}"
        if type(name) is not str or not name.strip():
            return "region: name is missing"
        province = o.get("province")
        if province is not None and type(province) is not str:
            return "region: province must be text"
        if open_ not in (True, False, 0, 1):
            return f"region: cross_province must be true or false, not {open_!r}"
        self.add("region", n, (admdvs, name, province, int(open_)))
        return None

    def person(self, o: dict, n: int) -> str | None:
        psn_no, certno = o.get("psn_no"), o.get("certno")
        if type(psn_no) is not str or not psn_no or len(psn_no) > 32:
            return f"person: psn_no must be text of 1 to 32 characters, not {psn_no!r}"
        if psn_no in self.psn_seen:
            return f"person: duplicate psn_no {psn_no} (already on an earlier line)"
        if type(certno) is not str:
            return "person: certno is missing"
        certno = certno.upper()
        if not certno_mod.is_valid(certno):
            return f"person {psn_no}: invalid ID number {certno_mod.mask(certno)}: {certno_mod.problem(certno)}"
        name = o.get("psn_name")
        if type(name) is not str or not name.strip():
            return f"person {psn_no}: psn_name is missing"
        gend, naty, brdy = o.get("gend"), o.get("naty"), o.get("brdy")
        if gend is not None and gend not in _GEND:
            return f"person {psn_no}: gend must be one of 0 1 2 9, not {gend!r}"
        if naty is not None and (type(naty) is not str or not _NATY.match(naty)):
            return f"person {psn_no}: naty must be a 2-digit code, not {naty!r}"
        if brdy is not None:
            if not _is_date(brdy):
                return f"person {psn_no}: brdy must be a date YYYY-MM-DD, not {brdy!r}"
            if brdy.replace("-", "") != certno[6:14]:
                return f"person {psn_no}: brdy {brdy} does not match the birth date in the ID number"
        card_no, card_sn = o.get("card_no"), o.get("card_sn")
        if card_no is not None and (type(card_no) is not str or not _CARD_NO.match(card_no)):
            return f"person {psn_no}: card_no must be 1 to 20 digits or capital letters, not {card_no!r}"
        if card_sn is not None and (type(card_sn) is not str or not _CARD_SN.match(card_sn)):
            return f"person {psn_no}: card_sn must be 32 hex digits, not {card_sn!r}"
        admdvs, insutype, stas = o.get("insuplc_admdvs"), o.get("insutype"), o.get("psn_insu_stas")
        if type(admdvs) is not str or not _ADMDVS.match(admdvs):
            return f"person {psn_no}: insuplc_admdvs must be a 6-digit area code, not {admdvs!r}"
        if insutype not in _INSUTYPES:
            return f"person {psn_no}: insutype must be 310 (employee) or 390 (resident), not {insutype!r}"
        if stas not in _STAS:
            return f"person {psn_no}: psn_insu_stas must be 1 (active), 2 (suspended) or 4 (ended), not {stas!r}"
        self.psn_seen.add(psn_no)
        self.add("person", n, (psn_no, certno, name, gend, naty, brdy, card_no, card_sn, admdvs, insutype, stas))
        return None

    def account(self, o: dict, n: int) -> str | None:
        psn_no, balc, year = o.get("psn_no"), o.get("balc"), o.get("year")
        if type(psn_no) is not str or not psn_no:
            return "account: psn_no is missing"
        if not _is_fen(balc):
            return f"account {psn_no}: " + _fen_problem("balc", balc)
        if year is not None and (type(year) is not int or not 1990 <= year <= 2100):
            return f"account {psn_no}: year must be a year like 2026, not {year!r}"
        self.route("account", n, (psn_no, balc, year), (psn_no,))
        return None

    def binding(self, o: dict, n: int) -> str | None:
        g = o.get
        return self.binding_fields(n, g("owner_psn_no"), g("user_psn_no"), g("relation"), g("scope", "local"),
                                   g("quota", 0), g("begin_date"), g("end_date"), g("status", "active"))

    def binding_fields(self, n: int, owner: object, user: object, code: object, scope: object, quota: object,
                       begin: object, end: object, status: object) -> str | None:
        # the hot path of a large export (3 bindings a person): plain checks, no calls when all is well
        if type(owner) is not str or not owner or type(user) is not str or not user:
            return "binding: owner_psn_no and user_psn_no are required"
        if owner == user:
            return f"binding: owner and user are the same person {owner}"
        if type(code) is not str or code not in self.binding_codes:
            rel = self.relation_table.get(code) if type(code) is str else None
            if rel is None:
                return f"binding {owner}->{user}: unknown relation code {code!r} (GB/T 4761)"
            return f"binding {owner}->{user}: relation {code} ({rel.en}) is not a family relation"
        if scope not in SCOPES:
            return f"binding {owner}->{user}: scope must be local or cross_province, not {scope!r}"
        if type(quota) is not int or not 0 <= quota <= MAX_FEN:
            return f"binding {owner}->{user}: " + _fen_problem("quota", quota)
        if scope == "local" and quota:
            return f"binding {owner}->{user}: a local binding has no quota (got {quota})"
        if begin not in self.good_dates:
            if not _is_date(begin):
                return f"binding {owner}->{user}: begin_date must be a date YYYY-MM-DD, not {begin!r}"
            self.good_dates.add(begin)
        if end is not None and (not _is_date(end) or end < begin):
            return f"binding {owner}->{user}: end_date must be a date on or after begin_date, not {end!r}"
        if status not in _STATUS:
            return f"binding {owner}->{user}: status must be active or ended, not {status!r}"
        row = (owner, user, code, scope, quota, begin, end, self.stamp)
        if status == "ended":
            self.route("binding_ended", n, row, (owner, user))
        elif owner in self.psn_seen and user in self.psn_seen:
            self.buffers["binding"].append(row)
            self.linenos["binding"].append(n)
            self.buffered += 1
            if self.buffered >= CHUNK:
                self.flush()
        else:
            self.route("binding", n, row, (owner, user))
        return None

    # --- routing and flushing -------------------------------------------------------------------
    def known_person(self, psn_no: str) -> bool:
        if psn_no in self.psn_seen:
            return True
        return self.conn.execute("SELECT 1 FROM persons WHERE psn_no = ?", (psn_no,)).fetchone() is not None

    def route(self, kind: str, n: int, row: tuple, refs: tuple[str, ...]) -> None:
        """Buffer a row whose references are known; hold it back when one may come later in the file."""
        if all(self.known_person(r) for r in refs):
            self.add(kind, n, row)
        else:
            self.pending.append((n, kind, row))

    def add(self, kind: str, n: int, row: tuple) -> None:
        if kind == "binding_ended":  # history: matched row by row in finish()
            self.ended.append((n, row))
            return
        self.buffers[kind].append(row)
        self.linenos[kind].append(n)
        self.buffered += 1
        if self.buffered >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for kind in KINDS:
            rows = self.buffers[kind]
            if rows:
                self.sink(kind, rows, self.linenos[kind])
                self.buffers[kind] = []
                self.linenos[kind] = []
        self.buffered = 0

    def write(self, kind: str, rows: list[tuple], linenos: list[int]) -> None:
        conn, sql = self.conn, _SQL[kind]
        before = conn.total_changes
        conn.execute("SAVEPOINT import_chunk")
        try:
            conn.executemany(sql, rows)
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK TO SAVEPOINT import_chunk")
            before = conn.total_changes
            for n, row in zip(linenos, rows):
                try:
                    conn.execute(sql, row)
                except sqlite3.IntegrityError as exc:
                    self.error(n, self.explain(kind, row, exc))
        conn.execute("RELEASE SAVEPOINT import_chunk")
        self.report.kinds[kind].lines += len(rows)
        self.report.kinds[kind].updated += conn.total_changes - before  # inserted split out at the end

    def explain(self, kind: str, row: tuple, exc: sqlite3.IntegrityError) -> str:
        text = str(exc)
        if kind == "person":
            for col, idx in (("certno", 1), ("card_no", 6)):
                if f"persons.{col}" in text:
                    holder = self.conn.execute(f"SELECT psn_no FROM persons WHERE {col} = ?",
                                               (row[idx],)).fetchone()
                    value = certno_mod.mask(row[idx]) if col == "certno" else row[idx]
                    return (f"person {row[0]}: duplicate {col} {value}, already held by "
                            f"{holder[0] if holder else 'another person'}")
        if "FOREIGN KEY" in text:
            return f"{kind}: refers to a person that was not imported"
        return f"{kind}: {text}"

    def finish(self) -> None:
        """Lines held back for a later person: resolve them now, or report the dangling reference."""
        self.flush()
        for n, kind, row in self.pending:
            refs = (row[0],) if kind == "account" else (row[0], row[1])
            missing = [r for r in refs if not self.known_person(r)]
            if missing:
                what = "binding" if kind == "binding_ended" else kind
                self.error(n, f"{what}: {', '.join(missing)} is not a person in this file or the database")
            else:
                self.add(kind, n, row)
        self.flush()
        for n, row in self.ended:
            exists = self.conn.execute(
                "SELECT 1 FROM bindings WHERE owner_psn_no = ? AND user_psn_no = ? AND begin_date = ? "
                "AND status = 'ended'", row[:2] + (row[5],)).fetchone()
            self.report.kinds["binding"].lines += 1
            if exists is None:
                try:
                    self.conn.execute(
                        "INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, "
                        "end_date, status, created_by, created_at, end_reason) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 'ended', 'centre', ?, 'centre')", row[:8])
                    self.report.kinds["binding"].updated += 1
                except sqlite3.IntegrityError as exc:
                    self.error(n, self.explain("binding", row, exc))


def import_file(db: sqlite_utils.Database, path: str | Path, *, skip_bad: bool = False,
                progress: Progress | None = None) -> ImportReport:
    """Validate and import a centre export in one transaction; see the module docstring."""
    path = Path(path)
    report = ImportReport(str(path), skip_bad=skip_bad)
    try:
        total = path.stat().st_size
        fh = open(path, "rb")
    except OSError as exc:
        raise BadInput("import_file", f"cannot read {path}: {exc.strerror or exc}",
                       f"无法读取导入文件 {path}") from None
    started = time.perf_counter()
    counts_before = _row_counts(db)
    conn = db.conn
    old_cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB while importing: index pages stay in memory
    imp = _Importer(report, conn)
    db_file = _file_of(conn)
    parallel = bool(db_file) and total >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
    try:
        with fh, write_transaction(db):
            if parallel:
                _read_in_worker(imp, path, db_file, progress)
            else:
                _read_lines(imp, fh, total, progress)
            imp.finish()
            counts_after = _row_counts(db)
            for kind in KINDS:
                k = report.kinds[kind]
                k.inserted = counts_after[kind] - counts_before[kind]
                k.updated -= k.inserted
            report.changes = sum(k.inserted + k.updated for k in report.kinds.values())
            report.errors.sort(key=lambda e: e.line)
            del report.errors[MAX_ERRORS_KEPT:]
            if report.bad and not skip_bad:
                raise _Refused()
        report.imported = True
    except _Refused:
        report.imported = False
        report.changes = 0
        for k in report.kinds.values():
            k.inserted = k.updated = 0
    finally:
        conn.execute(f"PRAGMA cache_size = {old_cache}")
        if progress is not None:
            progress(total, total)
    report.seconds = time.perf_counter() - started
    return report


def _read_lines(imp: _Importer, fh, total: int, progress: Progress | None) -> None:
    """Validate every line of the export into the importer's buffers (which flush to its sink)."""
    report = imp.report
    handlers = {"region": imp.region, "person": imp.person, "account": imp.account, "binding": imp.binding}
    parse = _line_parser()
    fast_binding, binding_fields = _FAST_BINDING.match, imp.binding_fields
    done = 0
    for n, raw in enumerate(fh, 1):
        done += len(raw)
        if progress is not None and not n & 0x3FFF:
            progress(done, total)
        if not raw.strip():
            continue
        report.lines += 1
        m = fast_binding(raw)
        if m is not None:  # a canonical binding line: no JSON parse needed (same checks follow)
            owner, user, code, scope, quota, begin = m.groups()
            problem = binding_fields(n, owner.decode(), user.decode(), code.decode(), scope.decode(),
                                     int(quota), begin.decode(), None, "active")
            if problem is not None:
                imp.error(n, problem)
            continue
        obj = parse(raw)
        if type(obj) is str:  # the parse error
            imp.error(n, obj)
            continue
        if type(obj) is not dict:
            imp.error(n, "not a JSON object")
            continue
        handler = handlers.get(obj.get("kind"))
        if handler is None:
            imp.error(n, f"unknown kind {obj.get('kind')!r} (region, person, account, binding)")
            continue
        try:
            problem = handler(obj, n)
        except (TypeError, AttributeError) as exc:  # a list or object where text belongs
            problem = f"{obj.get('kind')}: malformed field value ({exc})"
        if problem is not None:
            imp.error(n, problem)


def _file_of(conn: sqlite3.Connection) -> str:
    """The main database's file, or "" for an in-memory one."""
    for _seq, name, file in conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return file or ""
    return ""


def _read_in_worker(imp: _Importer, path: Path, db_file: str, progress: Progress | None) -> None:
    """Large files: a second process reads and validates while this one writes (the JSON work and the
    SQLite work overlap on two cores). Rows arrive in chunks, in file order, over a pipe."""
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")  # never fork a process holding an open SQLite connection
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_validate_worker, args=(str(path), db_file, imp.stamp, send), daemon=True)
    proc.start()
    send.close()
    try:
        while True:
            try:
                msg = recv.recv()
            except EOFError:
                raise StoreError("import_worker", "the import's reading process stopped unexpectedly",
                                 "导入读取进程意外退出") from None
            if msg[0] == "rows":
                imp.write(msg[1], msg[2], msg[3])
            elif msg[0] == "progress":
                if progress is not None:
                    progress(msg[1], msg[2])
            elif msg[0] == "end":
                _, lines, bad, errors, pending, ended = msg
                imp.report.lines += lines
                imp.report.bad += bad
                imp.report.errors.extend(errors)
                imp.pending.extend(pending)
                imp.ended.extend(ended)
                return
            else:
                raise BadInput("import_file", f"cannot read {path}: {msg[1]}", f"无法读取导入文件 {path}")
    finally:
        recv.close()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
            proc.join()


def _validate_worker(path: str, db_file: str, stamp: str, out) -> None:
    """The reading process: validate, send chunks; references are checked against the database as it was
    before this import (a read-only connection) and against the persons of the file itself."""
    try:
        lookup = sqlite3.connect(Path(db_file).as_uri() + "?mode=ro", uri=True)
        report = ImportReport(path)
        imp = _Importer(report, lookup, sink=lambda kind, rows, linenos: out.send(("rows", kind, rows, linenos)))
        imp.stamp = stamp
        with open(path, "rb") as fh:
            _read_lines(imp, fh, os.path.getsize(path), lambda done, total: out.send(("progress", done, total)))
        imp.flush()
        out.send(("end", report.lines, report.bad, report.errors, imp.pending, imp.ended))
    except BaseException as exc:  # noqa: BLE001  the parent turns it into a clear message
        try:
            out.send(("fail", f"{type(exc).__name__}: {exc}"))
        except OSError:
            pass
    finally:
        out.close()


# A binding line exactly as §8.2 writes it (keys in that order, plain ASCII values, no end_date/status):
# matched without building a dict. Anything else (other order, escapes, extra keys) takes the JSON path.
_JSON_TEXT = rb'"([\x20\x21\x23-\x5b\x5d-\x7e]{1,32})"'
_FAST_BINDING = re.compile(
    rb'\{"kind": ?"binding", ?"owner_psn_no": ?' + _JSON_TEXT + rb', ?"user_psn_no": ?' + _JSON_TEXT
    + rb', ?"relation": ?"([0-9]{2})", ?"scope": ?"(local|cross_province)", ?"quota": ?(0|[1-9][0-9]{0,11})'
    + rb', ?"begin_date": ?"([0-9]{4}-[0-9]{2}-[0-9]{2})"\}[ \t]*\r?\n?\Z')


def _line_parser() -> Callable[[bytes], object]:
    """bytes of one line -> the JSON value, or an error text. The C scanner on the whole line is about
    3x faster than json.loads (no encoding sniffing, no wrapper); json.loads only words the error."""
    scan = json.JSONDecoder().scan_once

    def parse(raw: bytes) -> object:
        try:
            text = raw.decode("utf-8").strip().lstrip("\ufeff")  # a byte-order mark from a Windows editor
        except UnicodeDecodeError:
            return "not UTF-8 text"
        try:
            obj, end = scan(text, 0)
            if end == len(text):
                return obj
        except (StopIteration, ValueError):
            pass
        try:
            json.loads(text)
        except ValueError as exc:
            return f"not valid JSON: {getattr(exc, 'msg', exc)}"
        return "not valid JSON"

    return parse


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
    head = f"{report.bad} bad line(s) in {report.path}; nothing imported (use --skip-bad to import the rest)"
    head_zh = f"{report.path} 有 {report.bad} 行错误,未导入任何数据(可用 --skip-bad 跳过错误行)"
    return BadInput("import_bad_lines", "\n".join([head, *lines]), "\n".join([head_zh, *lines]),
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

