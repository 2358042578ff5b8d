"""The lines of a centre export (docs/interfaces.md), checked: the per-line validators and the reading loop.

`_Importer` validates each kind of line into per-kind buffers and flushes them in chunks (to the
database, or to the pipe of the reading process); `_read_lines` reads a file into it, with the
fast-path parsers for canonical person, account and binding lines (`_FAST_*`, same checks, no JSON
parse) and `_line_parser` for the rest. The report types (ImportReport, KindCounts, LineError) live
here; `terminal.store.importer` holds the transaction around them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from centre.interface.amounts import MAX_FEN
from centre.interface.codes import BindingScope, BindingStatus, Insutype, PsnInsuStas
from drivers import certno as certno_mod
from terminal.domain import relations
from terminal.domain.mutual_aid import MutualAidPolicy, Party, check_centre_binding, is_date
from terminal.domain.regions import Region
from terminal.domain.text import MAX_NAME, UNSAFE, shown, text_problem
from terminal.errors import CashierError
from terminal.store.people import now_iso

CHUNK = 5000
MAX_ERRORS_KEPT = 1000
Progress = Callable[[int, int], None]

_ADMDVS = re.compile(r"^\d{6}$")
_CERTNO = certno_mod.ASCII_SHAPE
_shaped_ok = certno_mod.shaped_ok   # the ID-number check (check digit, real birth date), fast
_NATY = re.compile(r"^\d{2}$")
_CARD_NO = re.compile(r"^[0-9A-Z]{1,20}$")
_CARD_SN = re.compile(r"^[0-9A-F]{32}$")
_GEND = frozenset({"0", "1", "2", "9"})
_INSUTYPES = frozenset(Insutype.values())
_EMPLOYEE = Insutype.EMPLOYEE.value
_STAS = frozenset(PsnInsuStas.values())
_STATUS = frozenset(BindingStatus.values())
_SCOPES = frozenset(BindingScope.values())
_LOCAL = BindingScope.LOCAL.value
_ACTIVE, _ENDED = BindingStatus.ACTIVE.value, BindingStatus.ENDED.value

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
        "INSERT INTO accounts (psn_no, balc, year, version, opening) VALUES (?1, ?2, ?3, 0, ?2) "
        "ON CONFLICT(psn_no) DO UPDATE SET balc = excluded.balc, year = excluded.year, version = version + 1, "
        "opening = opening + excluded.balc - balc "
        "WHERE balc IS NOT excluded.balc OR year IS NOT excluded.year"),
    "binding": (
        "INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, end_date, status, "
        "created_by, created_at, opening) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', 'centre', ?8, ?5) "
        "ON CONFLICT(owner_psn_no, user_psn_no) WHERE status = 'active' DO UPDATE SET "
        "relation = excluded.relation, scope = excluded.scope, quota = excluded.quota, "
        "opening = opening + excluded.quota - quota, "
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
    lines: int = 0      # good lines of this kind (bad ones are in ImportReport.bad)
    inserted: int = 0
    updated: int = 0
    kept: int = 0       # lines that would have changed a row the window acted on since the last import

    @property
    def unchanged(self) -> int:
        return self.lines - self.inserted - self.updated - self.kept


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
    sha256: str = ""
    already: bool = False           # this very file was imported before: nothing read, nothing changed
    kept_accounts: list[str] = field(default_factory=list)  # psn_no whose local balance was kept

    def summary(self) -> dict:
        return {
            "file": self.path, "lines": self.lines, "bad": self.bad, "imported": self.imported,
            "changes": self.changes, "seconds": round(self.seconds, 3), "sha256": self.sha256,
            "already_imported": self.already, "kept_accounts": len(self.kept_accounts),
            "kinds": {k: {"lines": c.lines, "inserted": c.inserted, "updated": c.updated, "kept": c.kept,
                          "unchanged": c.unchanged} for k, c in self.kinds.items()},
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
        }


_unsafe = UNSAFE.search  # control and invisible characters, lone surrogates: never stored, never printed


def _name_problem(where: str, key: str, value: object, required: bool = True) -> str | None:
    """A name (person, region, province) the window will show: clean text of at most MAX_NAME characters."""
    if type(value) is str and len(value) <= MAX_NAME and not _unsafe(value) and (value.strip() or not required):
        return None
    if required and type(value) is str and not value.strip():
        return f"{where}: {key} is missing"
    why = text_problem(value, MAX_NAME, required=required)
    return f"{where}: {key} {why[0]}" if why else None


def _is_fen(v: object) -> bool:
    return type(v) is int and 0 <= v <= MAX_FEN


def _fen_problem(name: str, v: object) -> str:
    if type(v) is not int:
        return f"{name} must be a whole number of fen, not {v!r}"
    return f"{name} {v} is out of range (0 to {MAX_FEN} fen)"


class PersonInfo(NamedTuple):
    """What the mutual-aid rules need of a person (a tuple: the importer keeps one per person of a file)."""
    name: str
    gend: str | None
    insutype: str
    stas: str
    admdvs: str


def _duplicate(psn_no: str) -> str:
    return f"person: duplicate psn_no {psn_no} (already on an earlier line)"


def _certno_problem(psn_no: str, certno: str) -> str | None:
    why = certno_mod.problem(certno)
    return None if why is None else f"person {psn_no}: invalid ID number {certno_mod.mask(certno)}: {why}"


def _sex_problem(psn_no: str, gend: str, certno: str) -> str:
    said = "male (odd)" if gend == "2" else "female (even)"
    return f"person {psn_no}: gend {gend} does not match the ID number, whose 17th digit {certno[16]} says {said}"


class _Importer:
    """One run: validate lines into per-kind buffers, flush them in chunks, collect errors."""

    def __init__(self, report: ImportReport, conn: sqlite3.Connection,
                 sink: Callable[[str, list[tuple], list[int]], None] | None = None,
                 policy: MutualAidPolicy | None = None) -> None:
        self.conn = conn                  # writes (main process); in a worker: a read-only lookup connection
        self.report = report
        self.sink = sink or self.write    # where full chunks go: the database, or the pipe to it
        self.policy = policy or MutualAidPolicy.default()
        self.buffers: dict[str, list[tuple]] = {k: [] for k in KINDS}
        self.linenos: dict[str, list[int]] = {k: [] for k in KINDS}
        self.buffered = 0
        self.psn_lines: set[str] = set()      # psn_no of every valid person line (duplicates are refused)
        self.psn_seen: set[str] = set()       # psn_no of the person lines accepted
        self.info: dict[str, PersonInfo] = {}  # psn_no -> what the rules need of a person of this file
        self.acct_seen: set[str] = set()      # psn_no of the account lines accepted
        self.regions: dict[str, Region] = {}  # region lines of this file
        self.pending: list[tuple[int, str, tuple]] = []  # lines whose references may come later
        self.ended: list[tuple[int, tuple]] = []         # ended bindings (history), matched row by row
        self.finishing = False                # in finish(): nothing more can come, decide every pending line
        self.stamp = now_iso()
        self.relation_table = relations.table()
        self.binding_codes = frozenset(c for c, r in self.relation_table.items() if r.kind not in ("self", "none"))
        self.good_dates: set[str] = set()  # begin dates already checked (they repeat a lot)
        self.rules_ok: set[tuple] = set()  # binding shapes that passed the mutual-aid rules (they repeat a lot)
        # the canonical-line fast path (_read_lines): a binding line is decided by its relation, scope and
        # begin_date and by two small classes, the owner's (insutype, area) and the user's (sex, area)
        self.classes: dict[tuple, int] = {}
        self.owner_class: dict[str, int] = {}  # file persons with an accepted account -> class id
        self.user_class: dict[str, int] = {}   # file persons accepted -> class id
        self.fast_ok: dict[tuple, tuple[str, str, str]] = {}  # (code, scope, begin bytes, owner class,
        #                                          user class) of an accepted line -> (code, scope, begin) text
        self.area_cache: dict[str, Region | None] = {}  # area() answers; a region line clears them
        self.good_births: set[str] = set()  # YYYYMMDD of ID numbers already found real dates
        self.kept_accounts: set[str] = set()             # window activity since the last import (write side)
        self.kept_pairs: set[tuple[str, str]] = set()
        self.ended_keys: set[tuple[str, str, str]] = set()  # (owner, user, begin_date) of ended bindings

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
        problem = _name_problem(f"region {admdvs}", "name", name)
        if problem is not None:
            return problem
        province = o.get("province")
        if province is not None and type(province) is not str:
            return "region: province must be text"
        if province is not None and (problem := _name_problem(f"region {admdvs}", "province", province, False)):
            return problem
        if open_ not in (True, False, 0, 1):
            return f"region: cross_province must be true or false, not {open_!r}"
        self.regions[admdvs] = Region(admdvs, str(name), province or "", bool(open_))
        self.area_cache.clear()  # a new or changed area: decisions that looked at areas are made again
        self.rules_ok.clear()
        self.fast_ok.clear()
        self.add("region", n, (admdvs, name, province, int(open_)))
        return None

    def person(self, o: dict, n: int) -> str | None:
        g = o.get
        return self.person_fields(n, g("psn_no"), g("certno"), g("psn_name"), g("gend"), g("naty"), g("brdy"),
                                  g("card_no"), g("card_sn"), g("insuplc_admdvs"), g("insutype"),
                                  g("psn_insu_stas"))

    def person_fields(self, n: int, psn_no: object, certno: object, name: object, gend: object, naty: object,
                      brdy: object, card_no: object, card_sn: object, admdvs: object, insutype: object,
                      stas: object) -> str | None:
        if type(psn_no) is not str or not psn_no or len(psn_no) > 32 or _unsafe(psn_no) or psn_no != psn_no.strip():
            return (f"person: psn_no must be text of 1 to 32 printable characters, no spaces around, "
                    f"not {shown(psn_no)}")
        if psn_no in self.psn_lines:
            return _duplicate(psn_no)
        if type(certno) is not str:
            return "person: certno is missing"
        certno = certno.upper()
        if not (len(certno) == 18 and _CERTNO.match(certno) and _shaped_ok(certno, self.good_births)) and (
                problem := _certno_problem(psn_no, certno)):   # the slow path words the problem
            return problem
        if (type(name) is not str or len(name) > MAX_NAME or _unsafe(name) or not name.strip()) and (
                problem := _name_problem(f"person {psn_no}", "psn_name", name)):
            return problem
        if gend is not None and gend not in _GEND:
            return f"person {psn_no}: gend must be one of 0 1 2 9, not {gend!r}"
        if gend in ("1", "2") and gend != ("1" if certno[16] in "13579" else "2"):   # certno_mod.sex
            return _sex_problem(psn_no, gend, certno)
        if naty is not None and (type(naty) is not str or not _NATY.match(naty)):
            return f"person {psn_no}: naty must be a 2-digit code, not {naty!r}"
        if brdy is not None and (problem := self.brdy_problem(psn_no, brdy, certno)):
            return problem
        if card_no is not None and (type(card_no) is not str or not _CARD_NO.match(card_no)):
            return f"person {psn_no}: card_no must be 1 to 20 digits or capital letters, not {card_no!r}"
        if card_sn is not None and (type(card_sn) is not str or not _CARD_SN.match(card_sn)):
            return f"person {psn_no}: card_sn must be 32 hex digits, not {card_sn!r}"
        if type(admdvs) is not str or not _ADMDVS.match(admdvs):
            return f"person {psn_no}: insuplc_admdvs must be a 6-digit area code, not {admdvs!r}"
        if insutype not in _INSUTYPES:
            return f"person {psn_no}: insutype must be 310 (employee) or 390 (resident), not {insutype!r}"
        if stas not in _STAS:
            return f"person {psn_no}: psn_insu_stas must be 1 (active), 2 (suspended) or 4 (ended), not {stas!r}"
        return self.person_row(n, (psn_no, certno, name, gend, naty, brdy, card_no, card_sn, admdvs, insutype,
                                   stas))

    def person_checked(self, n: int, psn_no: str, certno: str, name: str, gend: str, naty: str, brdy: str,
                       card_no: str, card_sn: str, admdvs: str, insutype: str, stas: str) -> str | None:
        """person_fields for a line _FAST_PERSON matched: the field shapes are known good, so only the checks
        that look further (in person_fields' order, with its messages) remain; then accept() inlined."""
        if _unsafe(psn_no) or psn_no != psn_no.strip():
            return (f"person: psn_no must be text of 1 to 32 printable characters, no spaces around, "
                    f"not {shown(psn_no)}")
        if psn_no in self.psn_lines:
            return _duplicate(psn_no)
        if not _shaped_ok(certno, self.good_births) and (problem := _certno_problem(psn_no, certno)):
            return problem
        if (len(name) > MAX_NAME or _unsafe(name) or not name.strip()) and (
                problem := _name_problem(f"person {psn_no}", "psn_name", name)):
            return problem
        if gend in ("1", "2") and gend != ("1" if certno[16] in "13579" else "2"):   # certno_mod.sex
            return _sex_problem(psn_no, gend, certno)
        if problem := self.brdy_problem(psn_no, brdy, certno):
            return problem
        return self.person_row(n, (psn_no, certno, name, gend, naty, brdy, card_no, card_sn, admdvs, insutype,
                                   stas))

    def brdy_problem(self, psn_no: str, brdy: object, certno: str) -> str | None:
        """A birth date that is not a date, or not the one written in the ID number (certno_mod.birth_date)."""
        if type(brdy) is not str or brdy not in self.good_dates:
            if not is_date(brdy):
                return f"person {psn_no}: brdy must be a date YYYY-MM-DD, not {brdy!r}"
            self.good_dates.add(str(brdy))
        if brdy != f"{certno[6:10]}-{certno[10:12]}-{certno[12:14]}":
            return f"person {psn_no}: brdy {brdy} does not match the birth date in the ID number"
        return None

    def person_row(self, n: int, row: tuple) -> str | None:
        """A person line whose own fields passed: held back until its area is known, else accepted (accept()
        and add() inlined for the common case)."""
        psn_no, admdvs = row[0], row[8]
        self.psn_lines.add(psn_no)
        if self.area(admdvs) is None:
            if not self.finishing:
                self.pending.append((n, "person", row))  # its region line may come later in the file
                return None
            return self.accept("person", n, row)
        gend = row[3]
        self.psn_seen.add(psn_no)
        self.info[psn_no] = PersonInfo(row[2], gend, row[9], row[10], admdvs)
        uc = self.classes.get(("user", gend, admdvs))
        self.user_class[psn_no] = uc if uc is not None else self.class_id(("user", gend, admdvs))
        self.buffers["person"].append(row)
        self.linenos["person"].append(n)
        self.buffered += 1
        if self.buffered >= CHUNK:
            self.flush()
        return None

    def class_id(self, shape: tuple) -> int:
        found = self.classes.get(shape)
        if found is None:
            found = self.classes[shape] = len(self.classes)
        return found

    def account(self, o: dict, n: int) -> str | None:
        return self.account_fields(n, o.get("psn_no"), o.get("balc"), o.get("year"))

    def account_checked(self, n: int, psn_no: str, balc: int, year: int | None) -> str | None:
        """account_fields for a line _FAST_ACCOUNT matched (text psn_no, whole non-negative balc, a year or
        none): the same checks and words; route() and accept() inlined for a person of this file."""
        if not psn_no:
            return "account: psn_no is missing"
        if _unsafe(psn_no):
            return f"account: psn_no must be printable text, not {shown(psn_no)}"
        if balc > MAX_FEN:
            return f"account {psn_no}: " + _fen_problem("balc", balc)
        if year is not None and not 1990 <= year <= 2100:
            return f"account {psn_no}: year must be a year like 2026, not {year!r}"
        info = self.info.get(psn_no)
        if info is None:
            return self.route("account", n, (psn_no, balc, year), (psn_no,))
        if info.insutype != _EMPLOYEE:
            return (f"account {psn_no}: only employee insurance (310) has a personal account "
                    f"({psn_no} has {info.insutype})")
        self.acct_seen.add(psn_no)
        self.owner_class[psn_no] = self.class_id(("owner", info.insutype, info.admdvs))
        self.add("account", n, (psn_no, balc, year))
        return None

    def account_fields(self, n: int, psn_no: object, balc: object, year: object) -> str | None:
        if type(psn_no) is not str or not psn_no:
            return "account: psn_no is missing"
        if _unsafe(psn_no):
            return f"account: psn_no must be printable text, not {shown(psn_no)}"
        if not _is_fen(balc):
            return f"account {psn_no}: " + _fen_problem("balc", balc)
        if year is not None and (type(year) is not int or not 1990 <= year <= 2100):
            return f"account {psn_no}: year must be a year like 2026, not {year!r}"
        return self.route("account", n, (psn_no, balc, year), (psn_no,))

    def binding(self, o: dict, n: int) -> str | None:
        g = o.get
        for key in ("owner_psn_no", "user_psn_no"):  # the canonical-line path has printable ASCII here
            value = g(key)
            if type(value) is str and _unsafe(value):
                return f"binding: {key} must be printable text, not {shown(value)}"
        return self.binding_fields(n, g("owner_psn_no"), g("user_psn_no"), g("relation"), g("scope", _LOCAL),
                                   g("quota", 0), g("begin_date"), g("end_date"), g("status", _ACTIVE))

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
        if scope not in _SCOPES:
            return f"binding {owner}->{user}: scope must be local or cross_province, not {scope!r}"
        if type(quota) is not int or not 0 <= quota <= MAX_FEN:
            return f"binding {owner}->{user}: " + _fen_problem("quota", quota)
        if scope == _LOCAL and quota:
            return f"binding {owner}->{user}: a local binding has no quota (got {quota})"
        if begin not in self.good_dates:
            if not is_date(begin):
                return f"binding {owner}->{user}: begin_date must be a date YYYY-MM-DD, not {begin!r}"
            self.good_dates.add(str(begin))
        if end is not None and (not is_date(end) or str(end) < str(begin)):
            return f"binding {owner}->{user}: end_date must be a date on or after begin_date, not {end!r}"
        if status not in _STATUS:
            return f"binding {owner}->{user}: status must be active or ended, not {status!r}"
        row = (owner, user, code, scope, quota, begin, end, self.stamp)
        if status == _ACTIVE and owner in self.acct_seen and user in self.info:  # the common case, inlined
            o, u = self.info.get(owner), self.info[user]
            if o is not None and (code, begin, scope, status, u.gend, o.insutype, True, o.admdvs,
                                  u.admdvs) in self.rules_ok:
                self.buffers["binding"].append(row)
                self.linenos["binding"].append(n)
                self.buffered += 1
                if self.buffered >= CHUNK:
                    self.flush()
                return None
        return self.route("binding_ended" if status == _ENDED else "binding", n, row, (owner, user))

    # --- what the rules need to know about the people of a line: this file first, then the database ---
    def known_person(self, psn_no: str) -> bool:
        if psn_no in self.psn_seen:
            return True
        return self.conn.execute("SELECT 1 FROM persons WHERE psn_no = ?", (psn_no,)).fetchone() is not None

    def person_info(self, psn_no: str) -> PersonInfo | None:
        """What the rules need of a person of this file or of the database."""
        found = self.info.get(psn_no)
        if found is None:
            row = self.conn.execute("SELECT psn_name, gend, insutype, psn_insu_stas, insuplc_admdvs FROM persons "
                                    "WHERE psn_no = ?", (psn_no,)).fetchone()
            return PersonInfo(*row) if row else None
        return found

    def has_account(self, psn_no: str) -> bool:
        if psn_no in self.acct_seen:
            return True
        return self.conn.execute("SELECT 1 FROM accounts WHERE psn_no = ?", (psn_no,)).fetchone() is not None

    def area(self, admdvs: str) -> Region | None:
        """The pooling area of an insured-area code (a district falls back to its city): file, then database.
        Remembered per code until the next region line (an export without region lines asks the database
        once per code, not once per person)."""
        try:
            return self.area_cache[admdvs]
        except KeyError:
            pass
        found = None
        for code in (admdvs, admdvs[:4] + "00"):
            found = self.regions.get(code)
            if found is None:
                row = self.conn.execute("SELECT admdvs, name, province, cross_province FROM regions "
                                        "WHERE admdvs = ?", (code,)).fetchone()
                found = Region(row[0], row[1], row[2] or "", bool(row[3])) if row else None
            if found is not None:
                break
        self.area_cache[admdvs] = found
        return found

    # --- routing and flushing -------------------------------------------------------------------
    def route(self, kind: str, n: int, row: tuple, refs: tuple[str, ...]) -> str | None:
        """Accept a row whose references are known; hold it back when one may come later in the file
        (a person, or an owner's account the binding rules need)."""
        ready = all(self.known_person(r) for r in refs)
        if ready and kind == "binding" and not self.finishing and not self.has_account(row[0]):
            ready = False
        if not ready and not self.finishing:
            self.pending.append((n, kind, row))
            return None
        return self.accept(kind, n, row)

    def accept(self, kind: str, n: int, row: tuple) -> str | None:
        """The checks that need the other lines (areas, the person of an account, the mutual-aid rules); then buffer."""
        if kind == "person":
            psn_no, admdvs = row[0], row[8]
            if self.area(admdvs) is None:
                return (f"person {psn_no}: insuplc_admdvs {admdvs} is not a known pooling area "
                        "(no region line for it in the file or the database)")
            self.psn_seen.add(psn_no)
            self.info[psn_no] = PersonInfo(row[2], row[3], row[9], row[10], admdvs)
            self.user_class[psn_no] = self.class_id(("user", row[3], admdvs))
        elif kind == "account":
            info = self.person_info(row[0])
            if info is not None and info.insutype != _EMPLOYEE:
                return (f"account {row[0]}: only employee insurance (310) has a personal account "
                        f"({row[0]} has {info.insutype})")
            self.acct_seen.add(row[0])
            if info is not None and row[0] in self.info:
                self.owner_class[row[0]] = self.class_id(("owner", info.insutype, info.admdvs))
        elif kind in ("binding", "binding_ended"):
            problem = self.binding_rules(row, _ENDED if kind == "binding_ended" else _ACTIVE)
            if problem is not None:
                return problem
        self.add(kind, n, row)
        return None

    def binding_rules(self, row: tuple, status: str) -> str | None:
        """The mutual-aid rules on a binding line (mutual_aid.check_centre_binding), cached by the line's shape."""
        owner, user, code, scope, _quota, begin = row[:6]
        o, u = self.person_info(owner), self.person_info(user)
        if o is None or u is None:
            return f"binding: {owner if o is None else user} is not a person in this file or the database"
        has_acct = self.has_account(owner) if status == _ACTIVE else True
        key = (code, begin, scope, status, u.gend, o.insutype, has_acct, o.admdvs, u.admdvs)
        if key in self.rules_ok:
            return None
        owner_party = Party(owner, o.name, o.insutype, o.stas, o.admdvs, o.gend, 0 if has_acct else None)
        user_party = Party(user, u.name, u.insutype, u.stas, u.admdvs, u.gend)
        try:
            check_centre_binding(self.policy, owner_party, user_party, code, begin_date=begin, scope=scope,
                                 status=status, owner_area=self.area(o.admdvs), user_area=self.area(u.admdvs))
        except CashierError as exc:
            return f"binding {owner}->{user} (begin {begin}): {exc.code}: {exc.message}"
        self.rules_ok.add(key)
        return None

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

    def keep_local(self, kind: str, rows: list[tuple], linenos: list[int]) -> tuple[list[tuple], list[int]]:
        """Drop the lines that would overwrite what the window did since the last import (see the module
        docstring); those that differ from the local row are counted as kept."""
        out_rows, out_lines = [], []
        for n, row in zip(linenos, rows):
            if kind == "account":
                local_activity = row[0] in self.kept_accounts
            else:  # a binding ended here is not brought back; one whose quota moved here keeps its row
                ended_here = (row[0], row[1], row[5]) in self.ended_keys
                local_activity = ended_here or (row[0], row[1]) in self.kept_pairs
            if not local_activity:
                out_rows.append(row)
                out_lines.append(n)
                continue
            if kind == "account":
                local = self.conn.execute("SELECT balc FROM accounts WHERE psn_no = ?", (row[0],)).fetchone()
                differs = local is None or local[0] != row[1]
                if differs and row[0] not in self.report.kept_accounts:
                    self.report.kept_accounts.append(row[0])
            elif ended_here:
                differs = True
            else:
                local = self.conn.execute("SELECT relation, scope, quota, begin_date FROM bindings WHERE "
                                          "owner_psn_no = ? AND user_psn_no = ? AND status = 'active'",
                                          (row[0], row[1])).fetchone()
                differs = local is None or tuple(local) != tuple(row[2:6])
            self.report.kinds[kind].lines += 1
            if differs:
                self.report.kinds[kind].kept += 1
        return out_rows, out_lines

    def write(self, kind: str, rows: list[tuple], linenos: list[int]) -> None:
        if (kind == "account" and self.kept_accounts) or (kind == "binding" and (self.kept_pairs or self.ended_keys)):
            rows, linenos = self.keep_local(kind, rows, linenos)
            if not rows:
                return
        conn, sql = self.conn, _SQL[kind]
        before = conn.total_changes
        failed = 0
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
                    failed += 1
                    self.error(n, self.explain(kind, row, exc))
        conn.execute("RELEASE SAVEPOINT import_chunk")
        self.report.kinds[kind].lines += len(rows) - failed
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
        """Lines held back for a later line: resolve them now, or report the dangling reference."""
        self.flush()
        self.finishing = True
        order = {"person": 0, "account": 1, "binding": 2, "binding_ended": 2}  # what a line needs goes first
        for n, kind, row in sorted(self.pending, key=lambda p: (order[p[1]], p[0])):
            if kind == "person":
                problem = self.accept(kind, n, row)
            else:
                refs = (row[0],) if kind == "account" else (row[0], row[1])
                missing = [r for r in refs if not self.known_person(r)]
                if missing:
                    what = "binding" if kind == "binding_ended" else kind
                    problem = f"{what}: {', '.join(missing)} is not a person in this file or the database"
                else:
                    problem = self.accept(kind, n, row)
            if problem is not None:
                self.error(n, problem)
        self.flush()
        for n, row in self.ended:
            exists = self.conn.execute(
                "SELECT 1 FROM bindings WHERE owner_psn_no = ? AND user_psn_no = ? AND begin_date = ? "
                "AND status = 'ended'", row[:2] + (row[5],)).fetchone()
            if exists is None:
                try:
                    self.conn.execute(
                        "INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, "
                        "end_date, status, created_by, created_at, end_reason, opening) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ended', 'centre', ?8, 'centre', ?5)", row[:8])
                    self.report.kinds["binding"].updated += 1
                except sqlite3.IntegrityError as exc:
                    self.error(n, self.explain("binding", row, exc))
                    continue
            self.report.kinds["binding"].lines += 1



def _read_lines(imp: _Importer, fh, total: int, progress: Progress | None) -> None:
    """Validate every line of the export into the importer's buffers (which flush to its sink).

    The hot path: a canonical binding line (_FAST_BINDING) whose people are of this file, whose owner's
    account was accepted, and whose shape (relation, scope, begin_date, owner class, user class; see
    _Importer.fast_ok) already passed every check of binding_fields and the mutual-aid rules, goes straight to
    the buffer; the first line of each shape, and every other line, takes the full checks."""
    report = imp.report
    handlers = {"region": imp.region, "person": imp.person, "account": imp.account, "binding": imp.binding}
    parse = _line_parser()
    fast_binding, binding_fields = _FAST_BINDING.match, imp.binding_fields
    fast_person, person_checked = _FAST_PERSON.match, imp.person_checked
    fast_account, account_checked = _FAST_ACCOUNT.match, imp.account_checked
    fast_ok, owner_class, user_class = imp.fast_ok, imp.owner_class.get, imp.user_class.get
    stamp, max_fen, local, active = imp.stamp, MAX_FEN, _LOCAL, _ACTIVE
    buffers, linenos = imp.buffers, imp.linenos
    lines = 0
    try:
        for n, raw in enumerate(fh, 1):
            if progress is not None and not n & 0x3FFF:
                progress(fh.tell(), total)
            m = fast_binding(raw)
            if m is not None:  # a canonical binding line: no JSON parse needed (same checks follow)
                lines += 1
                owner_b, user_b, code_b, scope_b, quota_b, begin_b = m.groups()
                owner, user, quota = owner_b.decode(), user_b.decode(), int(quota_b)
                oc, uc = owner_class(owner), user_class(user)
                key = (code_b, scope_b, begin_b, oc, uc)
                texts = fast_ok.get(key) if oc is not None and uc is not None else None
                if texts is not None and owner != user and quota <= max_fen and (not quota or texts[1] != local):
                    buf = buffers["binding"]  # imp.add("binding", ...) inlined
                    buf.append((owner, user, texts[0], texts[1], quota, texts[2], None, stamp))
                    linenos["binding"].append(n)
                    imp.buffered += 1
                    if imp.buffered >= CHUNK:
                        imp.flush()
                        buffers, linenos = imp.buffers, imp.linenos
                    continue
                code, scope, begin = code_b.decode(), scope_b.decode(), begin_b.decode()
                held = len(imp.pending)
                problem = binding_fields(n, owner, user, code, scope, quota, begin, None, active)
                buffers, linenos = imp.buffers, imp.linenos
                if problem is not None:
                    imp.error(n, problem)
                elif oc is not None and uc is not None and len(imp.pending) == held:
                    fast_ok[key] = (code, scope, begin)  # accepted with both classes known: its shape is good
                continue
            if not raw.strip():
                continue
            lines += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = ""  # parse() words it
            mp = fast_person(text)
            if mp is not None:  # a canonical person line: plain JSON strings, no parse needed (same checks)
                problem = person_checked(n, *mp.groups())
                buffers, linenos = imp.buffers, imp.linenos
                if problem is not None:
                    imp.error(n, problem)
                continue
            ma = fast_account(text)
            if ma is not None:
                psn_no, balc, year = ma.groups()
                problem = account_checked(n, psn_no, int(balc), None if year is None else int(year))
                buffers, linenos = imp.buffers, imp.linenos
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
            handler = handlers.get(str(obj.get("kind")))
            if handler is None:
                imp.error(n, f"unknown kind {obj.get('kind')!r} (region, person, account, binding)")
                continue
            try:
                problem = handler(obj, n)
            except (TypeError, AttributeError) as exc:  # a list or object where text belongs
                problem = f"{obj.get('kind')}: malformed field value ({exc})"
            buffers, linenos = imp.buffers, imp.linenos
            if problem is not None:
                imp.error(n, problem)
    finally:
        report.lines += lines
# A binding line exactly as docs/interfaces.md writes it (keys in that order, plain ASCII values, no end_date/status):
# matched without building a dict. Anything else (other order, escapes, extra keys) takes the JSON path.
_JSON_TEXT = rb'"([\x20\x21\x23-\x5b\x5d-\x7e]{1,32})"'
_FAST_BINDING = re.compile(
    rb'\{"kind": ?"binding", ?"owner_psn_no": ?' + _JSON_TEXT + rb', ?"user_psn_no": ?' + _JSON_TEXT
    + rb', ?"relation": ?"([0-9]{2})", ?"scope": ?"(local|cross_province)", ?"quota": ?(0|[1-9][0-9]{0,11})'
    + rb', ?"begin_date": ?"([0-9]{4}-[0-9]{2}-[0-9]{2})"\}[ \t]*\r?\n?\Z')
# Person and account lines in the export's key order with plain JSON strings (no escapes, no control characters:
# exactly the text json would give) and JSON integers; matched on the decoded line. Anything else: JSON path.
_STR = r'"([^"\\\x00-\x1f]*)"'
# A person line's fields here already have the shapes person_fields checks (psn_no 1-32 characters, ID
# 17 digits + digit or X, gend/naty/brdy/card_no/card_sn/area/insutype/status codes): person_checked does the rest.
_FAST_PERSON = re.compile(
    r'\{"kind": ?"person", ?"psn_no": ?"([^"\\\x00-\x1f]{1,32})", ?"certno": ?"([0-9]{17}[0-9X])", ?"psn_name": ?'
    + _STR + r', ?"gend": ?"([0129])", ?"naty": ?"([0-9]{2})", ?"brdy": ?"([0-9]{4}-[0-9]{2}-[0-9]{2})"'
    r', ?"card_no": ?"([0-9A-Z]{1,20})", ?"card_sn": ?"([0-9A-F]{32})", ?"insuplc_admdvs": ?"([0-9]{6})"'
    r', ?"insutype": ?"(310|390)", ?"psn_insu_stas": ?"([124])"\}[ \t]*\r?\n?\Z')
_FAST_ACCOUNT = re.compile(
    r'\{"kind": ?"account", ?"psn_no": ?' + _STR + r', ?"balc": ?(0|[1-9][0-9]{0,11})'
    r'(?:, ?"year": ?([1-9][0-9]{0,3}))?\}[ \t]*\r?\n?\Z')


def _line_parser() -> Callable[[bytes], object]:
    """bytes of one line -> the JSON value, or an error text. The C scanner on the whole line is about
    3x faster than json.loads (no encoding sniffing, no wrapper); json.loads only words the error."""
    scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner json.loads itself uses

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
        except RecursionError:
            return "not valid JSON: arrays or objects nested too deeply"
        try:
            json.loads(text)
        except ValueError as exc:
            return f"not valid JSON: {getattr(exc, 'msg', exc)}"
        except RecursionError:
            return "not valid JSON: arrays or objects nested too deeply"
        return "not valid JSON"

    return parse
