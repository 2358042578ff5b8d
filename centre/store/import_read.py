"""Reading an export into an `Importer`: the loop, and fast paths that skip the JSON parser for canonical lines.

A person, account or binding line written exactly as the export format writes it (keys in that order, plain
values) is matched by a regular expression and checked by the `*_checked` validators (the same checks and
messages as the JSON path); anything else (other key order, escapes, extra keys, other kinds) is parsed as
JSON, numbers with a fraction as Decimal (a price in yuan must arrive exactly as written).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import BinaryIO, Callable

from centre.interface.amounts import MAX_FEN
from centre.interface.codes import BindingScope, BindingStatus
from centre.interface.text import shown
from centre.store.import_lines import CHUNK, Importer, Progress

HANDLED = ("region", "person", "account", "binding", "catalogue", "medins", "region_rule")


def read_lines(imp: Importer, fh: BinaryIO, total: int, progress: Progress | None) -> None:
    """Validate every line of the export into the importer's buffers (which flush to its sink).

    The hot path: a canonical binding line (_FAST_BINDING) whose people are of this file, whose owner's
    account was accepted, and whose shape (relation, scope, begin_date, owner class, user class; see
    Importer.fast_ok) already passed every check of binding_fields and the binding rules, goes straight to
    the buffer; the first line of each shape, and every other line, takes the full checks."""
    report = imp.report
    handlers = {"region": imp.region, "person": imp.person, "account": imp.account, "binding": imp.binding,
                "catalogue": imp.catalogue, "medins": imp.medins, "region_rule": imp.region_rule}
    parse = _line_parser()
    fast_binding, binding_fields = _FAST_BINDING.match, imp.binding_fields
    fast_person, person_checked = _FAST_PERSON.match, imp.person_checked
    fast_account, account_checked = _FAST_ACCOUNT.match, imp.account_checked
    fast_ok, owner_class, user_class = imp.fast_ok, imp.owner_class.get, imp.user_class.get
    stamp, max_fen, local, active = imp.stamp, MAX_FEN, BindingScope.LOCAL.value, BindingStatus.ACTIVE.value
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
            p = fast_person(text)
            if p is not None:  # a canonical person line: plain JSON strings, no parse needed (same checks)
                problem = person_checked(n, *p.groups())
                buffers, linenos = imp.buffers, imp.linenos
                if problem is not None:
                    imp.error(n, problem)
                continue
            a = fast_account(text)
            if a is not None:
                psn_no, balc, year = a.groups()
                problem = account_checked(n, psn_no, int(balc), None if year is None else int(year))
                buffers, linenos = imp.buffers, imp.linenos
                if problem is not None:
                    imp.error(n, problem)
                continue
            obj = parse(raw)
            if type(obj) is ParseError:
                imp.error(n, obj.message)
                continue
            if type(obj) is not dict:
                imp.error(n, "not a JSON object")
                continue
            kind = obj.get("kind")
            handler = handlers.get(kind) if type(kind) is str else None
            if handler is None:
                imp.error(n, f"unknown kind {shown(kind)} ({', '.join(HANDLED)})")
                continue
            try:
                problem = handler(obj, n)
            except (TypeError, AttributeError) as exc:  # a list or object where text belongs
                problem = f"{kind}: malformed field value ({exc})"
            buffers, linenos = imp.buffers, imp.linenos
            if problem is not None:
                imp.error(n, problem)
    finally:
        report.lines += lines


# A binding line exactly as the export format writes it (keys in that order, psn_no of the interface's shape,
# no end_date/status): matched without building a dict. Anything else takes the JSON path.
_PSN = rb'"([0-9A-Za-z]{1,30})"'
_FAST_BINDING = re.compile(
    rb'\{"kind": ?"binding", ?"owner_psn_no": ?' + _PSN + rb', ?"user_psn_no": ?' + _PSN
    + rb', ?"relation": ?"([0-9]{2})", ?"scope": ?"(local|cross_province)", ?"quota": ?(0|[1-9][0-9]{0,11})'
    + rb', ?"begin_date": ?"([0-9]{4}-[0-9]{2}-[0-9]{2})"\}[ \t]*\r?\n?\Z')
# Person and account lines in the format's key order with plain JSON strings (no escapes, no control characters:
# exactly the text json would give) and JSON integers; matched on the decoded line. Anything else: JSON path.
_STR = r'"([^"\\\x00-\x1f]*)"'
_DATE = r'"([0-9]{4}-[0-9]{2}-[0-9]{2})"'
# A person line's fields here already have the shapes person_fields checks (psn_no 1-30 letters or digits, ID
# 17 digits + digit or X, gend/naty/brdy/card_no/card_sn/area/insutype/status codes, and the optional
# psn_type, cvlserv_flag, emp_name, psn_insu_date, paus_insu_date in that order): person_checked does the rest.
_FAST_PERSON = re.compile(
    r'\{"kind": ?"person", ?"psn_no": ?"([0-9A-Za-z]{1,30})", ?"certno": ?"([0-9]{17}[0-9X])", ?"psn_name": ?'
    + _STR + r', ?"gend": ?"([0129])", ?"naty": ?"([0-9]{2})", ?"brdy": ?' + _DATE
    + r', ?"card_no": ?"([0-9A-Z]{1,20})", ?"card_sn": ?"([0-9A-F]{32})", ?"insuplc_admdvs": ?"([0-9]{6})"'
    r', ?"insutype": ?"(310|390)", ?"psn_insu_stas": ?"([124])"'
    r'(?:, ?"psn_type": ?"([0-9]{1,6})")?(?:, ?"cvlserv_flag": ?"([01])")?(?:, ?"emp_name": ?' + _STR + r')?'
    r'(?:, ?"psn_insu_date": ?' + _DATE + r')?(?:, ?"paus_insu_date": ?' + _DATE + r')?\}[ \t]*\r?\n?\Z')
_FAST_ACCOUNT = re.compile(
    r'\{"kind": ?"account", ?"psn_no": ?"([0-9A-Za-z]{1,30})", ?"balc": ?(0|[1-9][0-9]{0,11})'
    r'(?:, ?"year": ?([1-9][0-9]{0,3}))?\}[ \t]*\r?\n?\Z')


class ParseError:
    """Why a line is not JSON (a type of its own: a line may well be a JSON string)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _line_parser() -> Callable[[bytes], object]:
    """bytes of one line -> the JSON value, or a ParseError. The C scanner on the whole line is about
    3x faster than json.loads (no encoding sniffing, no wrapper); json.loads only words the error."""
    scan = json.JSONDecoder(parse_float=Decimal).scan_once  # type: ignore[attr-defined]

    def parse(raw: bytes) -> object:
        try:
            text = raw.decode("utf-8").strip().lstrip("\ufeff")  # a byte-order mark from a Windows editor
        except UnicodeDecodeError:
            return ParseError("not UTF-8 text")
        try:
            obj, end = scan(text, 0)
            if end == len(text):
                return obj
        except (StopIteration, ValueError):
            pass
        except RecursionError:
            return ParseError("not valid JSON: arrays or objects nested too deeply")
        try:
            json.loads(text)
        except ValueError as exc:
            return ParseError(f"not valid JSON: {getattr(exc, 'msg', exc)}")
        except RecursionError:
            return ParseError("not valid JSON: arrays or objects nested too deeply")
        return ParseError("not valid JSON")

    return parse
