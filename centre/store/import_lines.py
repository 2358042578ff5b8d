"""The lines of a centre export, checked: one validator per kind, whatever database the rows go to.

`Importer` validates each line into per-kind buffers of row tuples and hands full chunks to its sink
(`centre.store.import_write.SqliteWriter`, or the pipe of the reading process). It only reads the database
(`lookup`: anything with `execute(sql, params)` returning a cursor, `?` placeholders: a sqlite3 connection or
a `centre.store.engine.Database`), so a PostgreSQL store uses these checks unchanged with its own sink.
The reading loop and its fast paths are in `centre.store.import_read`.

Row shapes (what a sink receives):
  region    (admdvs, name, province, cross_province 0/1)
  person    (psn_no, certno, psn_name, gend, naty, brdy, card_no, card_sn, insuplc_admdvs, insutype,
             psn_insu_stas, psn_type, cvlserv_flag, emp_name, psn_insu_date, paus_insu_date)
  account   (psn_no, balc, year, prior_balc or None: not given)
  binding   (owner, user, relation, scope, quota, begin_date, end_date, stamp)   active; ended ones
            arrive at the end through `Sink.ended`
  catalogue (med_list_codg, name, chrgitm_lv, med_chrgitm_type, selfpay_prop, pric_uplmt_amt, lmt_used_flag)
  medins    (fixmedins_code, fixmedins_name, hosp_lv, admdvs)
  region_rule (admdvs, name, max_users_per_owner, one_owner_per_user, share_prior_year_only,
             account_pays_class_c, cross_province_since, note): each rule None when the line does not say it
"""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from typing import Any, Callable, Protocol

from centre.errors import Refused
from centre.interface import relations
from centre.interface.amounts import MAX_FEN, MAX_YUAN
from centre.interface.codes import BindingScope, BindingStatus, ChrgitmLv, HospLv, Insutype, PsnInsuStas
from centre.interface.text import MAX_CODE, MAX_NAME, UNSAFE, shown, text_problem
from centre.rules.mutual_aid import MutualAidPolicy, Party, check_centre_binding, is_date
from centre.rules.regions import Region
from centre.store.import_report import KINDS, ImportReport
from drivers import certno as idcard

CHUNK = 5000
Progress = Callable[[int, int], None]
Row = tuple[Any, ...]

_ADMDVS = re.compile(r"^\d{6}$", re.ASCII)
PSN_NO = re.compile(r"^[0-9A-Za-z]{1,30}$")  # the interface's 人员编号: a psn_no it could never name is refused
_CERTNO = idcard.ASCII_SHAPE  # on the upper-cased number
# MOD 11-2: the check digit indexes "10X98765432" by sum(d[i] * 2**(17-i)) mod 11. As 13 = 2 (mod 11),
# that sum is 2 * int(first17, 13) (mod 11): one C-level int() (only ever on 17 ASCII digits)
_NATY = re.compile(r"^\d{2}$", re.ASCII)
_CARD_NO = re.compile(r"^[0-9A-Z]{1,20}$")
_CARD_SN = re.compile(r"^[0-9A-F]{32}$")
_PSN_TYPE = re.compile(r"^[0-9]{1,6}$")
_LIST_CODE = re.compile(rf"^[!-~]{{1,{MAX_CODE}}}$")      # visible ASCII: a code the 2204 upload can name
_CHRGITM_TYPE = re.compile(r"^[0-9A-Za-z]{1,10}$")
_FIXMEDINS = re.compile(r"^[0-9A-Za-z]{12}$")
_RATIO = re.compile(r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$")
_GEND = frozenset({"0", "1", "2", "9"})
_INSUTYPES = frozenset(Insutype.values())
_EMPLOYEE = Insutype.EMPLOYEE.value
_STAS = frozenset(PsnInsuStas.values())
_STATUS = frozenset(BindingStatus.values())
_SCOPES = frozenset(BindingScope.values())
_LOCAL = BindingScope.LOCAL.value
_ACTIVE, _ENDED = BindingStatus.ACTIVE.value, BindingStatus.ENDED.value
_CHRGITM_LV = frozenset(ChrgitmLv.values())
_HOSP_LV = frozenset(HospLv.values())
_FLAG = frozenset({"0", "1"})
_unsafe = UNSAFE.search


class Sink(Protocol):
    """Where checked rows go: a database writer, or the pipe from the reading process."""

    def rows(self, kind: str, rows: list[Row], linenos: list[int]) -> None: ...

    def ended(self, items: list[tuple[int, Row]]) -> None: ...


def _is_fen(v: object) -> bool:
    return type(v) is int and 0 <= v <= MAX_FEN


def _fen_problem(name: str, v: object) -> str:
    if type(v) is not int:
        return f"{name} must be a whole number of fen, not {shown(v)}"
    return f"{name} {shown(v)} is out of range (0 to {MAX_FEN} fen)"


def _price_problem(value: object) -> str | None:
    """A price limit: a JSON number of yuan above 0, at most MAX_YUAN, with at most six decimals (16,6)."""
    if type(value) not in (int, Decimal):
        return f"must be a JSON number in yuan, not {shown(value)}"
    d = Decimal(value)  # type: ignore[arg-type]
    if not d.is_finite() or d <= 0 or d > MAX_YUAN:
        return f"must be more than 0 and at most {MAX_YUAN} yuan, not {shown(value)}"
    if d != d.quantize(Decimal("0.000001")):
        return f"has more than 6 decimals: {d}"
    return None


def _name_problem(where: str, key: str, value: object, required: bool = True) -> str | None:
    """A name the centre hands to windows: clean text of at most MAX_NAME characters."""
    if type(value) is str and len(value) <= MAX_NAME and not _unsafe(value) and (value.strip() or not required):
        return None
    why = text_problem(value, MAX_NAME, required=required)
    return f"{where}: {key} {why}" if why else None


def _psn_no_problem(where: str, key: str, value: object) -> str | None:
    if type(value) is str and PSN_NO.match(value):
        return None
    if value is None or value == "":
        return f"{where}: {key} is missing"
    return f"{where}: {key} must be 1 to 30 letters or digits, not {shown(value)}"


class Importer:
    """One run: validate lines into per-kind buffers, hand them to the sink in chunks, collect errors."""

    def __init__(self, report: ImportReport, lookup: Any, sink: Sink | None,
                 policy: MutualAidPolicy | None = None, stamp: str = "") -> None:
        self.lookup = lookup              # reads only: the database as it is (or was, for a reading process)
        self.report = report
        self.sink: Sink = sink  # type: ignore[assignment]
        self.policy = policy or MutualAidPolicy.default()
        self.stamp = stamp or _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        self.buffers: dict[str, list[Row]] = {k: [] for k in KINDS}
        self.linenos: dict[str, list[int]] = {k: [] for k in KINDS}
        self.buffered = 0
        self.psn_lines: set[str] = set()      # psn_no of every valid person line (duplicates are refused)
        self.psn_seen: set[str] = set()       # psn_no of the person lines accepted
        self.info: dict[str, tuple] = {}      # psn_no -> (name, gend, insutype, stas, admdvs) from this file
        self.acct_seen: set[str] = set()      # psn_no of the account lines accepted
        self.regions: dict[str, Region] = {}  # region lines of this file
        self.codes_seen: set[str] = set()     # catalogue codes of this file (duplicates are refused)
        self.medins_seen: set[str] = set()
        self.pending: list[tuple[int, str, Row]] = []  # lines whose references may come later
        self.ended: list[tuple[int, Row]] = []         # ended bindings (history), matched row by row
        self.finishing = False                # in finish(): nothing more can come, decide every pending line
        self.relation_table = relations.table()
        self.binding_codes = frozenset(c for c, r in self.relation_table.items() if r.kind not in ("self", "none"))
        self.good_dates: set[str] = set()  # dates already checked (they repeat a lot)
        self.rules_ok: set[tuple] = set()  # binding shapes that passed the binding rules (they repeat a lot)
        # the canonical-line fast path (import_read): a binding line is decided by its relation, scope and
        # begin_date and by two small classes, the owner's (insutype, area) and the user's (sex, area)
        self.classes: dict[tuple, int] = {}
        self.owner_class: dict[str, int] = {}  # file persons with an accepted account -> class id
        self.user_class: dict[str, int] = {}   # file persons accepted -> class id
        self.fast_ok: dict[tuple, tuple[str, str, str]] = {}  # (code, scope, begin bytes, owner class,
        #                                          user class) of an accepted line -> (code, scope, begin) text
        self.area_cache: dict[str, Region | None] = {}  # area() answers; a region line clears them
        self.good_births: set[str] = set()  # YYYYMMDD of ID numbers already found real dates

    # --- errors ---------------------------------------------------------------------------------
    def error(self, line: int, message: str) -> None:
        self.report.refuse_line(line, message)

    def date_ok(self, value: object) -> bool:
        if type(value) is not str:
            return False
        if value in self.good_dates:
            return True
        if not is_date(value):
            return False
        self.good_dates.add(value)
        return True

    # --- validation, one function per kind; each returns an error text or None ------------------
    def region(self, o: dict, n: int) -> str | None:
        admdvs, name, open_ = o.get("admdvs"), o.get("name"), o.get("cross_province", False)
        if type(admdvs) is not str or not _ADMDVS.match(admdvs):
            return f"region: admdvs must be a 6-digit area code, not {shown(admdvs)}"
        problem = _name_problem(f"region {admdvs}", "name", name)
        if problem is not None:
            return problem
        province = o.get("province")
        if province is not None and (problem := _name_problem(f"region {admdvs}", "province", province, False)):
            return problem
        if type(open_) not in (bool, int) or open_ not in (True, False, 0, 1):
            return f"region {admdvs}: cross_province must be true or false, not {shown(open_)}"
        self.regions[admdvs] = Region(admdvs, name, province or "", bool(open_))  # type: ignore[arg-type]
        self.area_cache.clear()  # a new or changed area: decisions that looked at areas are made again
        self.rules_ok.clear()
        self.fast_ok.clear()
        self.add("region", n, (admdvs, name, province, int(open_)))
        return None

    def person(self, o: dict, n: int) -> str | None:
        g = o.get
        return self.person_fields(n, g("psn_no"), g("certno"), g("psn_name"), g("gend"), g("naty"), g("brdy"),
                                  g("card_no"), g("card_sn"), g("insuplc_admdvs"), g("insutype"),
                                  g("psn_insu_stas"), g("psn_type"), g("cvlserv_flag"), g("emp_name"),
                                  g("psn_insu_date"), g("paus_insu_date"))

    def person_fields(self, n: int, psn_no: object, certno: object, name: object, gend: object, naty: object,
                      brdy: object, card_no: object, card_sn: object, admdvs: object, insutype: object,
                      stas: object, psn_type: object = None, cvlserv: object = None, emp_name: object = None,
                      insu_date: object = None, paus_date: object = None) -> str | None:
        if type(psn_no) is not str or not PSN_NO.match(psn_no):
            return _psn_no_problem("person", "psn_no", psn_no)
        if psn_no in self.psn_lines:
            return f"person: duplicate psn_no {psn_no} (already on an earlier line)"
        if type(certno) is not str:
            return f"person {psn_no}: certno is missing"
        certno = certno.upper()
        if not self.certno_ok(certno):  # the slow path words the problem
            why = idcard.problem(certno)
            if why is not None:
                return f"person {psn_no}: invalid ID number {idcard.mask(certno)}: {why}"
        problem = _name_problem(f"person {psn_no}", "psn_name", name)
        if problem is not None:
            return problem
        if gend is not None and gend not in _GEND:
            return f"person {psn_no}: gend must be one of 0 1 2 9, not {shown(gend)}"
        if gend in ("1", "2") and gend != ("1" if certno[16] in "13579" else "2"):
            said = "male (odd)" if gend == "2" else "female (even)"
            return (f"person {psn_no}: gend {gend} does not match the ID number, whose 17th digit "
                    f"{certno[16]} says {said}")
        if naty is not None and (type(naty) is not str or not _NATY.match(naty)):
            return f"person {psn_no}: naty must be a 2-digit code, not {shown(naty)}"
        if brdy is not None:
            if not self.date_ok(brdy):
                return f"person {psn_no}: brdy must be a date YYYY-MM-DD, not {shown(brdy)}"
            if brdy != f"{certno[6:10]}-{certno[10:12]}-{certno[12:14]}":  # the birth date in the ID number
                return f"person {psn_no}: brdy {brdy} does not match the birth date in the ID number"
        if card_no is not None and (type(card_no) is not str or not _CARD_NO.match(card_no)):
            return f"person {psn_no}: card_no must be 1 to 20 digits or capital letters, not {shown(card_no)}"
        if card_sn is not None and (type(card_sn) is not str or not _CARD_SN.match(card_sn)):
            return f"person {psn_no}: card_sn must be 32 hex digits, not {shown(card_sn)}"
        if type(admdvs) is not str or not _ADMDVS.match(admdvs):
            return f"person {psn_no}: insuplc_admdvs must be a 6-digit area code, not {shown(admdvs)}"
        if insutype not in _INSUTYPES:
            return f"person {psn_no}: insutype must be 310 (employee) or 390 (resident), not {shown(insutype)}"
        if stas not in _STAS:
            return (f"person {psn_no}: psn_insu_stas must be 1 (active), 2 (suspended) or 4 (ended), "
                    f"not {shown(stas)}")
        problem = self.person_extras(psn_no, psn_type, cvlserv, emp_name, insu_date, paus_date)
        if problem is not None:
            return problem
        self.psn_lines.add(psn_no)
        row = (psn_no, certno, name, gend, naty, brdy, card_no, card_sn, admdvs, insutype, stas,
               psn_type, cvlserv, emp_name, insu_date, paus_date)
        if self.area(admdvs) is None and not self.finishing:
            self.pending.append((n, "person", row))  # its region line may come later in the file
            return None
        return self.accept("person", n, row)

    def person_extras(self, psn_no: str, psn_type: object, cvlserv: object, emp_name: object, insu_date: object,
                      paus_date: object) -> str | None:
        """The optional fields 1101 returns: 人员类别, 公务员标志, 单位名称, 参保日期, 暂停参保日期."""
        if psn_type is not None and (type(psn_type) is not str or not _PSN_TYPE.match(psn_type)):
            return f"person {psn_no}: psn_type must be a code of 1 to 6 digits, not {shown(psn_type)}"
        if cvlserv is not None and cvlserv not in _FLAG:
            return f"person {psn_no}: cvlserv_flag must be 0 or 1, not {shown(cvlserv)}"
        if emp_name is not None and (problem := _name_problem(f"person {psn_no}", "emp_name", emp_name, False)):
            return problem
        if insu_date is not None and not self.date_ok(insu_date):
            return f"person {psn_no}: psn_insu_date must be a date YYYY-MM-DD, not {shown(insu_date)}"
        if paus_date is not None:
            if not self.date_ok(paus_date):
                return f"person {psn_no}: paus_insu_date must be a date YYYY-MM-DD, not {shown(paus_date)}"
            if insu_date is not None and paus_date < insu_date:  # type: ignore[operator]
                return f"person {psn_no}: paus_insu_date {paus_date} is before psn_insu_date {insu_date}"
        return None

    def person_checked(self, n: int, psn_no: str, certno: str, name: str, gend: str, naty: str, brdy: str,
                       card_no: str, card_sn: str, admdvs: str, insutype: str, stas: str,
                       psn_type: str | None = None, cvlserv: str | None = None, emp_name: str | None = None,
                       insu_date: str | None = None, paus_date: str | None = None) -> str | None:
        """person_fields for a line the fast path matched: the field shapes are known good, so only the checks
        that look further (in person_fields' order, with its messages) remain; then accept() inlined."""
        if psn_no in self.psn_lines:
            return f"person: duplicate psn_no {psn_no} (already on an earlier line)"
        if not self.certno_digits_ok(certno):
            why = idcard.problem(certno)
            if why is not None:
                return f"person {psn_no}: invalid ID number {idcard.mask(certno)}: {why}"
        if (len(name) > MAX_NAME or _unsafe(name) or not name.strip()) and (
                problem := _name_problem(f"person {psn_no}", "psn_name", name)):
            return problem
        if gend in ("1", "2") and gend != ("1" if certno[16] in "13579" else "2"):
            said = "male (odd)" if gend == "2" else "female (even)"
            return (f"person {psn_no}: gend {gend} does not match the ID number, whose 17th digit "
                    f"{certno[16]} says {said}")
        if not self.date_ok(brdy):
            return f"person {psn_no}: brdy must be a date YYYY-MM-DD, not {shown(brdy)}"
        if brdy != f"{certno[6:10]}-{certno[10:12]}-{certno[12:14]}":
            return f"person {psn_no}: brdy {brdy} does not match the birth date in the ID number"
        if (emp_name is not None and (len(emp_name) > MAX_NAME or _unsafe(emp_name)) or paus_date is not None
                or insu_date is not None and insu_date not in self.good_dates) and (
                problem := self.person_extras(psn_no, psn_type, cvlserv, emp_name, insu_date, paus_date)):
            return problem
        self.psn_lines.add(psn_no)
        row = (psn_no, certno, name, gend, naty, brdy, card_no, card_sn, admdvs, insutype, stas,
               psn_type, cvlserv, emp_name, insu_date, paus_date)
        if self.area(admdvs) is None:
            if not self.finishing:
                self.pending.append((n, "person", row))  # its region line may come later in the file
                return None
            return self.accept("person", n, row)
        self.psn_seen.add(psn_no)  # accept("person") and add() inlined
        self.info[psn_no] = (name, gend, insutype, stas, admdvs)
        uc = self.classes.get(("user", gend, admdvs))
        self.user_class[psn_no] = uc if uc is not None else self.class_id(("user", gend, admdvs))
        self.buffers["person"].append(row)
        self.linenos["person"].append(n)
        self.buffered += 1
        if self.buffered >= CHUNK:
            self.flush()
        return None

    def certno_ok(self, certno: str) -> bool:
        """idcard.problem(certno) is None, fast: the check digit in one C-level pass, known birth dates
        remembered. False only means "ask idcard.problem" (which words the reason)."""
        if len(certno) != 18 or not _CERTNO.match(certno):
            return False
        return self.certno_digits_ok(certno)

    def certno_digits_ok(self, certno: str) -> bool:
        """certno_ok for a number already of the shape (17 ASCII digits and a digit or X)."""
        return idcard.shaped_ok(certno, self.good_births)

    def class_id(self, shape: tuple) -> int:
        found = self.classes.get(shape)
        if found is None:
            found = self.classes[shape] = len(self.classes)
        return found

    def account(self, o: dict, n: int) -> str | None:
        prior = o.get("prior_balc")
        if prior is not None:
            psn_no, balc = o.get("psn_no"), o.get("balc")
            if not _is_fen(prior):
                return f"account {shown(psn_no)}: " + _fen_problem("prior_balc", prior)
            if _is_fen(balc) and prior > balc:
                return (f"account {shown(psn_no)}: prior_balc {prior} (the prior-year balance, 历年结余) is part of "
                        f"balc and cannot exceed it ({balc})")
        return self.account_fields(n, o.get("psn_no"), o.get("balc"), o.get("year"), prior)

    def account_checked(self, n: int, psn_no: str, balc: int, year: int | None) -> str | None:
        """account_fields for a line the fast path matched (a psn_no of the interface's shape, a whole
        non-negative balc, a year or none): the same checks and words; route() and accept() inlined."""
        if balc > MAX_FEN:
            return f"account {psn_no}: " + _fen_problem("balc", balc)
        if year is not None and not 1990 <= year <= 2100:
            return f"account {psn_no}: year must be a year like 2026, not {year!r}"
        info = self.info.get(psn_no)
        if info is None:
            return self.route("account", n, (psn_no, balc, year, None), (psn_no,))
        if info[2] != _EMPLOYEE:
            return (f"account {psn_no}: only employee insurance (310) has a personal account "
                    f"({psn_no} has {info[2]})")
        self.acct_seen.add(psn_no)
        self.owner_class[psn_no] = self.class_id(("owner", info[2], info[4]))
        self.add("account", n, (psn_no, balc, year, None))
        return None

    def account_fields(self, n: int, psn_no: object, balc: object, year: object, prior: object = None) -> str | None:
        if type(psn_no) is not str or not PSN_NO.match(psn_no):
            return _psn_no_problem("account", "psn_no", psn_no)
        if not _is_fen(balc):
            return f"account {psn_no}: " + _fen_problem("balc", balc)
        if year is not None and (type(year) is not int or not 1990 <= year <= 2100):
            return f"account {psn_no}: year must be a year like 2026, not {shown(year)}"
        return self.route("account", n, (psn_no, balc, year, prior), (psn_no,))

    def binding(self, o: dict, n: int) -> str | None:
        g = o.get
        for key in ("owner_psn_no", "user_psn_no"):
            value = g(key)
            if value is not None and value != "" and (type(value) is not str or not PSN_NO.match(value)):
                return _psn_no_problem("binding", key, value)
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
                return f"binding {owner}->{user}: unknown relation code {shown(code)} (GB/T 4761)"
            return f"binding {owner}->{user}: relation {code} ({rel.en}) is not a family relation"
        if scope not in _SCOPES:
            return f"binding {owner}->{user}: scope must be local or cross_province, not {shown(scope)}"
        if type(quota) is not int or not 0 <= quota <= MAX_FEN:
            return f"binding {owner}->{user}: " + _fen_problem("quota", quota)
        if scope == _LOCAL and quota:
            return f"binding {owner}->{user}: a local binding has no quota (got {quota})"
        if not self.date_ok(begin):
            return f"binding {owner}->{user}: begin_date must be a date YYYY-MM-DD, not {shown(begin)}"
        if end is not None and (not self.date_ok(end) or end < begin):  # type: ignore[operator]
            return f"binding {owner}->{user}: end_date must be a date on or after begin_date, not {shown(end)}"
        if status not in _STATUS:
            return f"binding {owner}->{user}: status must be active or ended, not {shown(status)}"
        row = (owner, user, code, scope, quota, begin, end, self.stamp)
        if status == _ACTIVE and owner in self.acct_seen and user in self.info:  # the common case, inlined
            o, u = self.info.get(owner), self.info[user]
            if o is not None and (code, begin, scope, status, u[1], o[2], True, o[4], u[4]) in self.rules_ok:
                self.buffers["binding"].append(row)
                self.linenos["binding"].append(n)
                self.buffered += 1
                if self.buffered >= CHUNK:
                    self.flush()
                return None
        return self.route("binding_ended" if status == _ENDED else "binding", n, row, (owner, user))

    def catalogue(self, o: dict, n: int) -> str | None:
        """医保目录: an item code, its class (01 A, 02 B, 03 C), its charge type, an optional self-paid-first
        ratio (a decimal string, at most 4 decimals) and price limit (yuan, at most 6 decimals)."""
        g = o.get
        code = g("med_list_codg")
        if type(code) is not str or not _LIST_CODE.match(code):
            return (f"catalogue: med_list_codg must be 1 to {MAX_CODE} visible ASCII characters (no spaces), "
                    f"not {shown(code)}")
        where = f"catalogue {code}"
        if code in self.codes_seen:
            return f"catalogue: duplicate med_list_codg {code} (already on an earlier line)"
        problem = _name_problem(where, "name", g("name"))
        if problem is not None:
            return problem
        lv = g("chrgitm_lv")
        if lv not in _CHRGITM_LV:
            return f"{where}: chrgitm_lv must be 01 (class A), 02 (class B) or 03 (class C), not {shown(lv)}"
        kind = g("med_chrgitm_type")
        if type(kind) is not str or not _CHRGITM_TYPE.match(kind):
            return f"{where}: med_chrgitm_type must be a code of 1 to 10 letters or digits, not {shown(kind)}"
        ratio = g("selfpay_prop")
        if ratio is not None:
            if type(ratio) is not str or not _RATIO.match(ratio):
                return (f"{where}: selfpay_prop must be a decimal string from 0 to 1 with at most 4 decimals "
                        f"(\"0.10\"), not {shown(ratio)}")
            if lv == ChrgitmLv.A and Decimal(ratio) != 0 or lv == ChrgitmLv.C and Decimal(ratio) != 1:
                return (f"{where}: selfpay_prop {ratio} contradicts chrgitm_lv {lv} (class A pays nothing first, "
                        "class C all of it)")
        limit = g("pric_uplmt_amt")
        if limit is not None and (problem := _price_problem(limit)):
            return f"{where}: pric_uplmt_amt {problem}"
        limit_text = None if limit is None else format(Decimal(limit).normalize(), "f")
        flag = g("lmt_used_flag", "0")
        if flag not in _FLAG:
            return f"{where}: lmt_used_flag must be 0 or 1, not {shown(flag)}"
        self.codes_seen.add(code)
        self.add("catalogue", n, (code, g("name"), lv, kind, ratio, limit_text, flag))
        return None

    def medins(self, o: dict, n: int) -> str | None:
        """A designated hospital (定点医药机构): its code, name, level (the policy rules match on it), area."""
        g = o.get
        code = g("fixmedins_code")
        if type(code) is not str or not _FIXMEDINS.match(code):
            return f"medins: fixmedins_code must be 12 letters or digits, not {shown(code)}"
        if code in self.medins_seen:
            return f"medins: duplicate fixmedins_code {code} (already on an earlier line)"
        problem = _name_problem(f"medins {code}", "fixmedins_name", g("fixmedins_name"))
        if problem is not None:
            return problem
        lv = g("hosp_lv")
        if lv not in _HOSP_LV:
            return f"medins {code}: hosp_lv must be 1, 2 or 3, not {shown(lv)}"
        admdvs = g("admdvs")
        if type(admdvs) is not str or not _ADMDVS.match(admdvs):
            return f"medins {code}: admdvs must be a 6-digit area code, not {shown(admdvs)}"
        self.medins_seen.add(code)
        row = (code, g("fixmedins_name"), lv, admdvs)
        if self.area(admdvs) is None and not self.finishing:
            self.pending.append((n, "medins", row))  # its region line may come later in the file
            return None
        return self.accept("medins", n, row)

    def region_rule(self, o: dict, n: int) -> str | None:
        """What an area, a city (xxxx00) or a province (xx0000) says differently about mutual aid; a rule left
        out is not said there (see centre.rules.regional)."""
        g = o.get
        admdvs = g("admdvs")
        if type(admdvs) is not str or not _ADMDVS.match(admdvs):
            return f"region_rule: admdvs must be a 6-digit area code, not {shown(admdvs)}"
        where = f"region_rule {admdvs}"
        problem = _name_problem(where, "name", g("name"))
        if problem is not None:
            return problem
        cap = g("max_users_per_owner")
        if cap is not None and (type(cap) is not int or not 0 <= cap <= 1000):
            return f"{where}: max_users_per_owner must be a whole number from 0 (no cap) to 1000, not {shown(cap)}"
        flags = []
        for key in ("one_owner_per_user", "share_prior_year_only", "account_pays_class_c"):
            value = g(key)
            if value is not None and type(value) is not bool:
                return f"{where}: {key} must be true or false, not {shown(value)}"
            flags.append(None if value is None else int(value))
        since = g("cross_province_since")
        if since is not None and not self.date_ok(since):
            return f"{where}: cross_province_since must be a date YYYY-MM-DD, not {shown(since)}"
        note = g("note")
        if note is not None and (problem := _name_problem(where, "note", note, False)):
            return problem
        self.add("region_rule", n, (admdvs, g("name"), cap, *flags, since, note))
        return None

    # --- what the rules need to know about the people of a line: this file first, then the database ---
    def known_person(self, psn_no: str) -> bool:
        if psn_no in self.psn_seen:
            return True
        return self.lookup.execute("SELECT 1 FROM persons WHERE psn_no = ?", (psn_no,)).fetchone() is not None

    def person_info(self, psn_no: str) -> tuple | None:
        """(name, gend, insutype, stas, admdvs) of a person of this file or of the database."""
        found = self.info.get(psn_no)
        if found is None:
            found = self.lookup.execute("SELECT psn_name, gend, insutype, psn_insu_stas, insuplc_admdvs "
                                        "FROM persons WHERE psn_no = ?", (psn_no,)).fetchone()
        return found

    def has_account(self, psn_no: str) -> bool:
        if psn_no in self.acct_seen:
            return True
        return self.lookup.execute("SELECT 1 FROM accounts WHERE psn_no = ?", (psn_no,)).fetchone() is not None

    def area(self, admdvs: str) -> Region | None:
        """The pooling area of an area code (a district falls back to its city): file, then database.
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
                row = self.lookup.execute("SELECT admdvs, name, province, cross_province FROM regions "
                                          "WHERE admdvs = ?", (code,)).fetchone()
                found = Region(row[0], row[1], row[2] or "", bool(row[3])) if row else None
            if found is not None:
                break
        self.area_cache[admdvs] = found
        return found

    # --- routing and flushing -------------------------------------------------------------------
    def route(self, kind: str, n: int, row: Row, refs: tuple[str, ...]) -> str | None:
        """Accept a row whose references are known; hold it back when one may come later in the file
        (a person, or an owner's account the binding rules need)."""
        ready = all(self.known_person(r) for r in refs)
        if ready and kind == "binding" and not self.finishing and not self.has_account(row[0]):
            ready = False
        if not ready and not self.finishing:
            self.pending.append((n, kind, row))
            return None
        return self.accept(kind, n, row)

    def accept(self, kind: str, n: int, row: Row) -> str | None:
        """The checks that need the other lines (areas, the person of an account, the binding rules); then buffer."""
        if kind == "person":
            psn_no, admdvs = row[0], row[8]
            if self.area(admdvs) is None:
                return (f"person {psn_no}: insuplc_admdvs {admdvs} is not a known pooling area "
                        "(no region line for it in the file or the database)")
            self.psn_seen.add(psn_no)
            self.info[psn_no] = (row[2], row[3], row[9], row[10], admdvs)
            self.user_class[psn_no] = self.class_id(("user", row[3], admdvs))
        elif kind == "medins":
            if self.area(row[3]) is None:
                return (f"medins {row[0]}: admdvs {row[3]} is not a known pooling area "
                        "(no region line for it or its city in the file or the database)")
        elif kind == "account":
            info = self.person_info(row[0])
            if info is not None and info[2] != _EMPLOYEE:
                return (f"account {row[0]}: only employee insurance (310) has a personal account "
                        f"({row[0]} has {info[2]})")
            self.acct_seen.add(row[0])
            if info is not None and row[0] in self.info:
                self.owner_class[row[0]] = self.class_id(("owner", info[2], info[4]))
        elif kind in ("binding", "binding_ended"):
            problem = self.binding_rules(row, _ENDED if kind == "binding_ended" else _ACTIVE)
            if problem is not None:
                return problem
        self.add(kind, n, row)
        return None

    def binding_rules(self, row: Row, status: str) -> str | None:
        """The mutual-aid rules on a binding line (mutual_aid.check_centre_binding), cached by the line's shape."""
        owner, user, code, scope, _quota, begin = row[:6]
        o, u = self.person_info(owner), self.person_info(user)
        if o is None or u is None:
            return f"binding: {owner if o is None else user} is not a person in this file or the database"
        has_acct = self.has_account(owner) if status == _ACTIVE else True
        key = (code, begin, scope, status, u[1], o[2], has_acct, o[4], u[4])
        if key in self.rules_ok:
            return None
        owner_party = Party(owner, o[0], o[2], o[3], o[4], o[1], 0 if has_acct else None)
        user_party = Party(user, u[0], u[2], u[3], u[4], u[1])
        try:
            check_centre_binding(self.policy, owner_party, user_party, code, begin_date=begin, scope=scope,
                                 status=status, owner_area=self.area(o[4]), user_area=self.area(u[4]))
        except Refused as exc:
            return f"binding {owner}->{user} (begin {begin}): {exc.code}: {exc.en}"
        self.rules_ok.add(key)
        return None

    def add(self, kind: str, n: int, row: Row) -> None:
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
                self.sink.rows(kind, rows, self.linenos[kind])
                self.buffers[kind] = []
                self.linenos[kind] = []
        self.buffered = 0

    def finish(self) -> None:
        """Lines held back for a later line: resolve them now, or report the dangling reference; then the
        ended bindings (history)."""
        self.flush()
        self.finishing = True
        order = {"person": 0, "medins": 0, "account": 1, "binding": 2, "binding_ended": 2}  # what a line needs first
        for n, kind, row in sorted(self.pending, key=lambda p: (order[p[1]], p[0])):
            if kind in ("person", "medins"):
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
        self.sink.ended(self.ended)
