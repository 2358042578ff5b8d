"""Hostile input against the real `cashier` commands: tracebacks and silent accepts, per category.

Every case runs `cashier` as a subprocess in a folder of its own (a copy of a prepared window: the
shipped config.toml with the reader set to the emulator, the demo database) with one bad thing in it:
a config value, a bill, a centre export, a card profile, a command-line argument, a request id or a
PIN. A case expects a refusal (most), success (the controls), or either. It is counted as

- traceback: "Traceback" on stderr, an exit code other than 0, 1 or 2, `"code": "internal"`, an
  "unexpected error" line, or a command that did not finish in time;
- silent: exit 0 where a refusal was due (for `cashier web`: still serving when the time was up);
- refused_good: a control that should have worked but did not;
- raw_esc: a raw ESC (or C1 CSI) byte printed to stdout or stderr.

Output: `key=value` lines, per category and in total.

    python benchmarks/hostile_inputs.py [--jobs 2] [--category bill] [--sample N] [--seed S] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "emulator" / "profiles"
DATA = ROOT / "terminal" / "data"

REFUSE, OK, ANY = "refuse", "ok", "any"
CATEGORIES = ("config", "bill", "export", "profile", "cli", "request_id", "pin")


@dataclass
class Case:
    category: str
    label: str
    argv: list[str]                                   # after `cashier --config config.toml`
    files: dict[str, bytes | str] = field(default_factory=dict)   # written into the case folder
    expect: str = REFUSE
    timeout: float = 30.0
    serves: bool = False                              # `cashier web`: still running at the timeout = serving
    config: str | None = None                         # the whole config.toml text (None: the template's)
    no_config: bool = False                           # run without --config (the case passes its own)


@dataclass
class Outcome:
    case: Case
    rc: int | None
    stdout: bytes
    stderr: bytes
    seconds: float

    @property
    def text(self) -> str:
        return (self.stdout + self.stderr).decode("utf-8", "replace")

    @property
    def traceback(self) -> bool:
        if self.rc is None:
            return not self.case.serves          # a hang (a serving web is judged as accepted instead)
        return (self.rc not in (0, 1, 2) or b"Traceback" in self.stderr or '"code": "internal"' in self.text
                or "unexpected error" in self.text)

    @property
    def accepted(self) -> bool:
        return self.rc == 0 or (self.rc is None and self.case.serves)

    @property
    def silent(self) -> bool:
        return self.case.expect == REFUSE and self.accepted and not self.traceback

    @property
    def refused_good(self) -> bool:
        return self.case.expect == OK and not self.accepted and not self.traceback

    @property
    def raw_esc(self) -> bool:
        return any(b in self.stdout + self.stderr for b in (b"\x1b", "\x9b".encode()))


# --- the window every case starts from ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_config(port: int) -> str:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = set_key(text, "reader", "spec", '"emulator:zhang_wei"')
    return set_key(text, "web", "port", str(port))


def set_key(text: str, section: str, key: str, value: str | None) -> str:
    """config text with `key = value` in [section] (None: the key removed); the key added when absent."""
    lines = text.split("\n")
    header = f"[{section}]"
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == header)
    except StopIteration:
        return text + f"\n{header}\n{key} = {value}\n" if value is not None else text
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    pattern = re.compile(rf"^{re.escape(key)}\s*=")
    for i in range(start + 1, end):
        if pattern.match(lines[i]):
            if value is None:
                del lines[i]
            else:
                lines[i] = f"{key} = {value}"
            return "\n".join(lines)
    if value is not None:
        lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines)


def replace_block(text: str, start_header: str, block: str) -> str:
    """Replace from the first `start_header` line to the next top-level [section] with `block`."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == start_header)
    top = start_header.strip("[]").split(".")[0]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")
                and lines[i].strip("[] ").split(".")[0] != top), len(lines))
    return "\n".join(lines[:start] + block.split("\n") + lines[end:])


def make_template(folder: Path, port: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(base_config(port), encoding="utf-8")
    for argv in (["db", "init", "--regions"], ["db", "import", str(DATA / "demo_export.jsonl")]):
        out = subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", "config.toml", *argv],
                             cwd=folder, capture_output=True, env=_env(), timeout=120)
        if out.returncode != 0:
            raise SystemExit(f"template: {' '.join(argv)} failed: {out.stderr.decode(errors='replace')}")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CASHIER_CONFIG", "CASHIER_DB")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_case(case: Case, template: Path, work: Path, index: int) -> Outcome:
    folder = work / f"case{index:04d}"
    shutil.copytree(template, folder)
    if case.config is not None:
        (folder / "config.toml").write_text(case.config, encoding="utf-8")
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    argv = [a.replace("{dir}", str(folder)) for a in case.argv]
    cmd = [sys.executable, "-m", "terminal.cli.main", *([] if case.no_config else ["--config", "config.toml"]), *argv]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=_env(), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=case.timeout)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = None
    seconds = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    return Outcome(case, rc, out, err, seconds)


# --- the catalogue -------------------------------------------------------------------------------------

SETTLE = ["settle", "--reader", "emulator:zhang_wei", "--pin", "123456", "--bill", "bill.json"]
PRE = ["settle", "--pre", "--reader", "emulator:zhang_wei", "--bill", "bill.json", "--json"]
GOOD_ITEM = {"code": "X001", "name": "阿莫西林胶囊", "category": "drug", "class": "A", "qty": 2, "price": 1250}
GOOD_BILL = {"med_type": "11", "items": [GOOD_ITEM]}
GOOD_BILL_TEXT = json.dumps(GOOD_BILL, ensure_ascii=False)
MORE_EXPORT = '{"kind": "region", "admdvs": "419900", "name": "测试区", "province": "河南省", "cross_province": false}\n'
DEEP = 100_000
BIG = "9" * 5000


def bill_with(**item) -> str:
    return json.dumps({"med_type": "11", "items": [{**GOOD_ITEM, **item}]}, ensure_ascii=False)


def raw_bill_item(key: str, raw: str) -> str:
    """The good bill with one item field written as raw JSON text (NaN, 1e999, a 5,000-digit number)."""
    item = dict(GOOD_ITEM)
    item[key] = "@@"
    return json.dumps({"med_type": "11", "items": [item]}, ensure_ascii=False).replace('"@@"', raw)


def config_cases(port: int) -> list[Case]:
    base = base_config(port)
    settle_json = SETTLE + ["--json"]
    probes = {
        "terminal": settle_json,
        "reader": ["card", "read", "--json"],
        "emulator": ["card", "read", "--reader", "emulator", "--json"],
        "psam": ["card", "read", "--reader", "emulator:zhang_wei", "--json"],
        "pin": ["card", "verify", "--reader", "emulator:zhang_wei", "--pin", "123456", "--json"],
        "database": ["db", "stats", "--json"],
        "policy": PRE,
        "mutual_aid.options": ["db", "import", "more.jsonl", "--json"],
        "web": ["web", "--reader", "emulator"],
        "top": ["db", "stats", "--json"],
    }
    files = {"bill.json": GOOD_BILL_TEXT, "more.jsonl": MORE_EXPORT}
    cases: list[Case] = []

    def add(section: str, label: str, text: str, expect: str = REFUSE) -> None:
        probe = probes[section]
        web = probe[0] == "web"
        cases.append(Case("config", f"[{section}] {label}", probe, dict(files), expect, config=text,
                          timeout=8.0 if web else 30.0, serves=web))

    def key(section: str, name: str, value: str, expect: str = REFUSE) -> None:
        add(section, f"{name} = {value[:40]}", set_key(base, section, name, value), expect)

    # the controls: the shipped values, and legal spellings
    for section in ("terminal", "psam", "pin", "database", "policy", "mutual_aid.options"):
        add(section, "shipped config", base, OK)
    key("database", "synchronous", '"NORMAL"', OK)
    key("database", "synchronous", '"normal"', OK)
    key("psam", "check_card", "true", OK)
    key("terminal", "lang", '"en"', OK)

    strings = {"terminal": ["hospital_name", "hospital_code", "hosp_lv", "window", "operator", "terminal_no",
                            "device_no", "lang", "slips_dir"],
               "reader": ["spec"], "emulator": ["state_dir", "default_profile"],
               "psam": ["external_key", "internal_key"], "pin": ["initial_pin"],
               "database": ["path", "synchronous"],
               "web": ["host", "public_url", "bills_dir", "mode", "reader", "lock_dir"],
               "mutual_aid.options": ["cross_province_since", "relatives_order"]}
    for section, names in strings.items():
        for name in names:
            for bad in ("5", "true", "[]", "{ a = 1 }"):
                key(section, name, bad)
            key(section, name, '"\\u001b[2J\\u001b[31mX"')
    for section, name in (("terminal", "hospital_name"), ("terminal", "operator"), ("terminal", "window"),
                          ("terminal", "terminal_no"), ("terminal", "hospital_code"), ("emulator", "default_profile"),
                          ("web", "host")):
        key(section, name, json.dumps("x" * 5000))
    key("terminal", "hospital_code", '""', OK)
    key("terminal", "terminal_no", '"A|B"')
    key("terminal", "window", '""')
    key("terminal", "operator", '""')
    key("terminal", "slips_dir", '""')
    key("terminal", "hosp_lv", '"7"')
    key("terminal", "hosp_lv", "3")
    key("terminal", "lang", '"fr"')
    key("reader", "spec", '"bogus:x"')
    key("emulator", "default_profile", '"../../etc/passwd"')
    key("psam", "external_key", '"XYZ"')
    key("psam", "internal_key", '"0123"')
    key("pin", "initial_pin", '"12ab"')
    key("pin", "initial_pin", "123456")
    key("database", "synchronous", '"OFF"')
    key("database", "synchronous", '"off"')
    key("database", "synchronous", '"FULL; PRAGMA x"')
    key("web", "mode", '"teller"')
    key("web", "public_url", '"javascript:alert(1)"')
    key("mutual_aid.options", "cross_province_since", '"2026-13-01"')
    key("mutual_aid.options", "cross_province_since", "2026-01-09")
    key("mutual_aid.options", "relatives_order", '"random"')

    bools = {"psam": ["check_card"], "pin": ["refuse_initial_pin"], "web": ["demo_bill"],
             "mutual_aid.options": ["one_owner_per_user"]}
    for section, names in bools.items():
        for name in names:
            for bad in ('"false"', '"no"', '"true"', "0", "1", '""', "[true]"):
                key(section, name, bad)

    numbers = {"reader": ["timeout_s"], "database": ["busy_timeout_ms"], "web": ["port", "kiosk_idle_s"],
               "policy": ["max_item_price", "max_bill_total"]}
    for section, names in numbers.items():
        for name in names:
            for bad in ('"10"', "true", "-1", "[1]", BIG):
                key(section, name, bad)
    key("reader", "timeout_s", "nan")
    key("reader", "timeout_s", "inf")
    key("reader", "timeout_s", "0")
    key("reader", "timeout_s", "1e308")
    key("database", "busy_timeout_ms", "1.5")
    key("database", "busy_timeout_ms", "99999999999999999999")
    key("web", "port", "99999")
    key("web", "port", "0")
    key("web", "port", "80.5")
    key("web", "kiosk_idle_s", "0")
    key("web", "kiosk_idle_s", "nan")
    key("web", "max_sessions", "0")
    key("web", "max_sessions", '"4"')
    key("policy", "max_item_price", "1.5")
    key("policy", "b_selfpay_ratio", "0.1")
    key("policy", "b_selfpay_ratio", '"nan"')
    key("policy", "b_selfpay_ratio", '"1e999999999"')
    key("policy", "b_selfpay_ratio", json.dumps("0." + "1" * 5000))

    # unknown keys (typos), in every section
    for section, name in (("terminal", "hospital"), ("reader", "timeout"), ("emulator", "statedir"),
                          ("psam", "check_cards"), ("pin", "refuse_inital_pin"), ("database", "synchronus"),
                          ("policy", "max_price"), ("mutual_aid.options", "one_owner"), ("web", "prot")):
        key(section, name, "1")
    add("top", "unknown section [databse]", base + '\n[databse]\npath = "x.db"\n')
    add("top", "top-level key", 'lang = "en"\n' + base)
    add("top", "section as a value", base.replace("[pin]\n", "[pin_]\n", 1) + "\npin = 5\n")
    add("top", "not TOML", base + "\n[terminal\n")
    add("top", "not UTF-8", "")
    cases[-1].files["config.toml"] = base.encode("utf-8") + b"\n# \xff\xfe bad bytes\n"
    cases[-1].config = None
    add("top", "deeply nested array", base + "\n[extra]\nx = " + "[" * DEEP + "]" * DEEP + "\n")
    add("top", "5,000-digit number", base + f"\n[extra]\nx = {BIG}\n")
    add("top", "lone surrogate escape", base.replace('window = "W01"', 'window = "W\\ud800"'))
    add("top", "BOM", "\ufeff" + base, ANY)
    add("top", "empty file", "", ANY)

    # [[mutual_aid.rule]] and [[policy.rule]] blocks
    shipped_ma = ('[mutual_aid]\n[[mutual_aid.rule]]\nsince = "2021-01-01"\nrelations = ["10", "20", "30"]\n'
                  '[mutual_aid.options]\none_owner_per_user = false\n')
    for label, block in (
            ("rule is a string", '[mutual_aid]\nrule = "x"\n'),
            ("rule items are strings", '[mutual_aid]\nrule = ["x", "y"]\n'),
            ("rule items are numbers", '[mutual_aid]\nrule = [1]\n'),
            ("relations are numbers", shipped_ma.replace('["10", "20", "30"]', "[10, 20]")),
            ("relations a string", shipped_ma.replace('["10", "20", "30"]', '"10"')),
            ("since a TOML date", shipped_ma.replace('"2021-01-01"', "2021-01-01")),
            ("since missing", shipped_ma.replace('since = "2021-01-01"\n', "")),
            ("unknown rule key", shipped_ma.replace('since = ', 'sinse = "x"\nsince = ')),
            ("options a string", '[mutual_aid]\noptions = "x"\n'),
            ("unknown section key", shipped_ma + '[mutual_aid.extra]\nx = 1\n'),
            ("relation code with ESC", shipped_ma.replace('"30"]', '"\\u001b[2J"]')),
    ):
        add("mutual_aid.options", label, replace_block(base, "[mutual_aid]", block))
    rule = ('[[policy.rule]]\ninsutype = "*"\nmed_type = "*"\nhosp_lv = "*"\ndeductible = 0\n'
            'deductible_scope = "year"\nratio = "0.5"\nannual_cap = 100000\n')
    head = '[policy]\nb_selfpay_ratio = "0.10"\n'
    for label, block in (
            ("rule is a string", head + 'rule = "x"\n'),
            ("rule items are strings", head + 'rule = ["x"]\n'),
            ("ratio a float", head + rule.replace('"0.5"', "0.5")),
            ("ratio NaN text", head + rule.replace('"0.5"', '"NaN"')),
            ("ratio huge exponent", head + rule.replace('"0.5"', '"1e-999999999"')),
            ("deductible a string", head + rule.replace("deductible = 0", 'deductible = "0"')),
            ("deductible 5,000 digits", head + rule.replace("deductible = 0", f"deductible = {BIG}")),
            ("annual_cap a float", head + rule.replace("annual_cap = 100000", "annual_cap = 1e5")),
            ("insutype a number", head + rule.replace('insutype = "*"', "insutype = 310")),
            ("scope unknown", head + rule.replace('"year"', '"month"')),
            ("unknown rule key", head + rule + "ratoi = 1\n"),
            ("no rules", head),
    ):
        add("policy", label, replace_block(base, "[policy]", block))
    return cases


def bill_cases() -> list[Case]:
    cases: list[Case] = []

    def add(label: str, text: str | bytes, expect: str = REFUSE, argv: list[str] | None = None) -> None:
        cases.append(Case("bill", label, argv or PRE, {"bill.json": text}, expect))

    add("the good bill", GOOD_BILL_TEXT, OK)
    add("the good bill, settled, text", GOOD_BILL_TEXT, OK, SETTLE)
    add("qty 1.5", bill_with(qty=1.5), OK)
    add("med_type as a number", GOOD_BILL_TEXT.replace('"11"', "11"), ANY)
    add("BOM", "\ufeff" + GOOD_BILL_TEXT, ANY)
    for label, text in (("empty", ""), ("spaces", "   \n"), ("not JSON", "{med_type: 11}"), ("array", "[]"),
                        ("string", '"bill"'), ("number", "5"), ("null", "null"), ("true", "true"),
                        ("trailing garbage", GOOD_BILL_TEXT + " x"), ("two objects", GOOD_BILL_TEXT * 2)):
        add(label, text)
    add("not UTF-8", GOOD_BILL_TEXT.encode("utf-8").replace(b"X001", b"X\xff\xfe1"))
    add("UTF-16", GOOD_BILL_TEXT.encode("utf-16"))
    add("binary", bytes(range(256)) * 4)
    add("raw surrogate bytes", GOOD_BILL_TEXT.encode("utf-8").replace(b"X001", b"X\xed\xa0\x80"))
    add("deep items array", '{"med_type":"11","items":' + "[" * DEEP + "]" * DEEP + "}")
    add("deep top array", "[" * DEEP + "]" * DEEP)
    add("deep object", '{"a":' * DEEP + "1" + "}" * DEEP)
    add("deep item", raw_bill_item("name", '{"a":' * DEEP + "1" + "}" * DEEP))
    add("deep unknown key", GOOD_BILL_TEXT[:-1] + ',"x":' + "[" * DEEP + "]" * DEEP + "}")
    for key in ("qty", "price"):
        for label, raw in (("5,000 digits", BIG), ("-5,000 digits", "-" + BIG), ("NaN", "NaN"),
                           ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e999", "1e999"),
                           ("1E+999999999", "1E+999999999"), ("1E-999999999", "1E-999999999"),
                           ("5,000 decimals", "0." + "1" * 5000), ("a string", '"1"'), ("true", "true"),
                           ("null", "null"), ("a list", "[1]"), ("an object", '{"v":1}'), ("zero", "0"),
                           ("negative", "-1")):
            if key == "price" and label == "zero":
                continue
            add(f"{key} {label}", raw_bill_item(key, raw))
    add("price 1.5", bill_with(price=1.5))
    add("price 1e2", raw_bill_item("price", "1e2"), ANY)
    add("price -0", raw_bill_item("price", "-0"), ANY)
    add("price 0", bill_with(price=0), ANY)
    add("qty 10001", bill_with(qty=10001))
    add("qty 4 decimals", bill_with(qty=1.0001))
    add("unit price over the limit", bill_with(price=100_000_001))
    add("total over the limit",
        json.dumps({"med_type": "21", "items": [dict(GOOD_ITEM, qty=10000, price=100_000_000)]}))
    add("med_type 5,000 digits", GOOD_BILL_TEXT.replace('"11"', BIG))
    add("med_type NaN", GOOD_BILL_TEXT.replace('"11"', "NaN"))
    add("med_type 11.0", GOOD_BILL_TEXT.replace('"11"', "11.0"))
    add("med_type list", GOOD_BILL_TEXT.replace('"11"', '["11"]'))
    add("med_type with ESC", GOOD_BILL_TEXT.replace('"11"', '"\\u001b[2J"'))
    add("med_type lone surrogate", GOOD_BILL_TEXT.replace('"11"', '"\\ud800"'))
    add("items an object", json.dumps({"med_type": "11", "items": {"a": GOOD_ITEM}}))
    add("items empty", json.dumps({"med_type": "11", "items": []}))
    add("items missing", json.dumps({"med_type": "11"}))
    add("501 items", json.dumps({"med_type": "11", "items": [dict(GOOD_ITEM, price=1)] * 501}))
    add("item a string", json.dumps({"med_type": "11", "items": ["X001"]}))
    add("item null", json.dumps({"med_type": "11", "items": [None]}))
    for key in ("code", "class", "qty", "price"):
        add(f"item without {key}", json.dumps({"med_type": "11", "items": [
            {k: v for k, v in GOOD_ITEM.items() if k != key}]}))
    add("class lower case", bill_with(**{"class": "a"}))
    add("class a list", bill_with(**{"class": ["A"]}))
    add("class with ESC", bill_with(**{"class": "\x1b"}))
    for key, limit in (("code", 50), ("name", 100), ("category", 100)):
        add(f"{key} lone surrogate", raw_bill_item(key, '"X\\ud800"'))
        add(f"{key} lone low surrogate", raw_bill_item(key, '"\\udc00X"'))
        add(f"{key} ESC sequence", bill_with(**{key: "\x1b[2J\x1b[31mred"}), argv=SETTLE)
        add(f"{key} C1 CSI", bill_with(**{key: "a\x9b31mb"}), argv=SETTLE)
        add(f"{key} NUL", bill_with(**{key: "a\x00b"}))
        add(f"{key} newline", bill_with(**{key: "a\nb"}), argv=SETTLE)
        add(f"{key} DEL", bill_with(**{key: "a\x7fb"}))
        add(f"{key} bidi override", bill_with(**{key: "a\u202eb"}))
        add(f"{key} too long ({limit + 1})", bill_with(**{key: "x" * (limit + 1)}))
        add(f"{key} 100,000 characters", bill_with(**{key: "药" * 100_000}))
        add(f"{key} a number", bill_with(**{key: 5}))
        add(f"{key} 5,000-digit number", raw_bill_item(key, BIG))
    add("code only spaces", bill_with(code="   "))
    add("name at the limit", bill_with(name="药" * 100), OK)
    add("code at the limit", bill_with(code="X" * 50), OK)
    add("bill file is a folder", "", argv=["settle", "--pre", "--reader", "emulator:zhang_wei", "--bill", ".",
                                            "--json"])
    add("bill file missing", "", argv=["settle", "--pre", "--reader", "emulator:zhang_wei", "--bill", "none.json",
                                       "--json"])
    add("20 MB bill", '{"med_type":"11","items":[' + ",".join([json.dumps(GOOD_ITEM)] * 200_000) + "]}")
    return cases


PERSON = {"kind": "person", "psn_no": "H1", "certno": "410102197805126716", "psn_name": "测试", "gend": "1",
          "naty": "01", "brdy": "1978-05-12", "card_no": "H0000001", "card_sn": "410100D156000005C38275EEFC9BFF01",
          "insuplc_admdvs": "410100", "insutype": "310", "psn_insu_stas": "1"}
IMPORT = ["db", "import", "export.jsonl", "--json"]


def _person(**changes) -> str:
    return json.dumps({**PERSON, "certno": "410102197805120023", "gend": "2", **changes}, ensure_ascii=False)


def export_cases() -> list[Case]:
    cases: list[Case] = []

    def add(label: str, text: str | bytes, expect: str = REFUSE, argv: list[str] | None = None) -> None:
        cases.append(Case("export", label, argv or IMPORT, {"export.jsonl": text}, expect))

    add("a good region and person", MORE_EXPORT + _person() + "\n", OK)
    add("a name of 100 characters", _person(psn_name="张" * 100) + "\n", OK)
    for label, text in (("empty", ""), ("blank lines", "\n\n  \n"), ("BOM only", "\ufeff"),
                        ("a lone newline", "\n"), ("spaces", "   ")):
        add(f"{label} export", text)
    add("empty export, --skip-bad", "", argv=IMPORT + ["--skip-bad"])
    for field_name in ("psn_name",):
        for label, value in (("ESC sequence", "\x1b[2J\x1b[31m张"), ("C1 CSI", "张\x9b31m"), ("NUL", "张\x00"),
                             ("DEL", "张\x7f"), ("newline", "张\n伟"), ("tab", "张\t伟"), ("bidi override", "张\u202e"),
                             ("BEL", "张\x07"), ("101 characters", "张" * 101), ("100,000 characters", "张" * 100_000),
                             ("spaces only", "   ")):
            add(f"{field_name} {label}", _person(**{field_name: value}) + "\n")
        add(f"{field_name} lone surrogate", _person(psn_name="@@").replace('"@@"', '"张\\ud800"') + "\n")
        add(f"{field_name} lone low surrogate", _person(psn_name="@@").replace('"@@"', '"\\udfff"') + "\n")
        add(f"{field_name} a number", _person(psn_name=5) + "\n")
        add(f"{field_name} 5,000-digit number", _person(psn_name="@@").replace('"@@"', BIG) + "\n")
    for label, value in (("ESC", "H\x1b[2J"), ("lone surrogate", None), ("33 characters", "H" * 33),
                         ("newline", "H\n1"), ("spaces", " ")):
        text = _person(psn_no=value if value is not None else "@@")
        if value is None:
            text = text.replace('"@@"', '"H\\ud800"')
        add(f"psn_no {label}", text + "\n")
    region = {"kind": "region", "admdvs": "419900", "name": "测试区", "province": "河南省", "cross_province": False}
    for key in ("name", "province"):
        for label, value in (("ESC", "区\x1b]0;pwned\x07"), ("101 characters", "区" * 101), ("NUL", "区\x00")):
            add(f"region {key} {label}", json.dumps({**region, key: value}, ensure_ascii=False) + "\n")
        add(f"region {key} lone surrogate",
            json.dumps({**region, key: "@@"}, ensure_ascii=False).replace('"@@"', '"\\ud83d"') + "\n")
    add("region cross_province NaN", json.dumps(region).replace("false", "NaN") + "\n")
    account = '{"kind": "account", "psn_no": "P10000001", "balc": @@}\n'
    for label, raw in (("5,000 digits", BIG), ("NaN", "NaN"), ("Infinity", "Infinity"), ("1e400", "1e400"),
                       ("1.5", "1.5"), ("-1", "-1"), ("a string", '"100"'), ("true", "true"), ("a list", "[1]")):
        add(f"account balc {label}", account.replace("@@", raw))
    binding = ('{"kind": "binding", "owner_psn_no": "P10000001", "user_psn_no": "P10000003", "relation": "30", '
               '"scope": "cross_province", "quota": @@, "begin_date": "2026-02-01"}\n')
    for label, raw in (("5,000 digits", BIG), ("NaN", "NaN"), ("-Infinity", "-Infinity"), ("1e400", "1e400")):
        add(f"binding quota {label}", binding.replace("@@", raw))
    add("binding relation ESC", binding.replace('"30"', '"\\u001b[2J"').replace("@@", "0"))
    add("binding begin_date surrogate", binding.replace('"2026-02-01"', '"\\ud800"').replace("@@", "0"))
    add("deep line", "[" * DEEP + "]" * DEEP + "\n")
    add("deep object line", '{"kind": "region", "name": ' + '{"a":' * DEEP + "1" + "}" * DEEP + "}\n")
    add("deep value", '{"kind": "person", "psn_no": ' + "[" * DEEP + "]" * DEEP + "}\n")
    add("kind with ESC", '{"kind": "\\u001b[2Jperson"}\n')
    add("kind lone surrogate", '{"kind": "\\ud800"}\n')
    add("kind 5,000 digits", '{"kind": ' + BIG + "}\n")
    add("not UTF-8", b'{"kind": "region", "admdvs": "419900", "name": "\xff\xfe"}\n')
    add("UTF-16", MORE_EXPORT.encode("utf-16"))
    add("array line", "[1, 2]\n")
    add("null line", "null\n")
    add("unknown kind", '{"kind": "payment"}\n')
    add("no kind", '{"psn_no": "x"}\n')
    add("export file is a folder", "", argv=["db", "import", ".", "--json"])
    add("export file missing", "", argv=["db", "import", "none.jsonl", "--json"])
    add("ESC in every name, --skip-bad", _person(psn_name="\x1b[31m张") + "\n", argv=IMPORT + ["--skip-bad"])
    add("a 5 MB name", _person(psn_name="张" * 5_000_000) + "\n")
    return cases


def _profile() -> dict:
    return json.loads((PROFILES / "zhang_wei.json").read_text(encoding="utf-8"))


def profile_cases() -> list[Case]:
    cases: list[Case] = []
    read = ["card", "read", "--reader", "emulator:{dir}/card.json"]

    def add(label: str, content: str | bytes | dict, expect: str = REFUSE, text_mode: bool = False) -> None:
        if isinstance(content, dict):
            content = json.dumps(content, ensure_ascii=False)
        cases.append(Case("profile", label, read + ([] if text_mode else ["--json"]), {"card.json": content},
                          expect))

    def changed(part: str, key: str, value, drop: bool = False) -> dict:
        p = _profile()
        if part:
            if drop:
                p[part].pop(key, None)
            else:
                p[part][key] = value
        elif drop:
            p.pop(key, None)
        else:
            p[key] = value
        return p

    add("the shipped profile", _profile(), OK)
    add("the shipped profile, text", _profile(), OK, text_mode=True)
    for part, keys in (("card", ("card_sn", "card_type", "version", "issuer", "issue_date", "expiry_date",
                                 "card_no")),
                       ("holder", ("certno", "name", "gend", "naty", "birthplace", "brdy"))):
        for key in keys:
            add(f"{part}.{key} missing", changed(part, key, None, drop=True))
            add(f"{part}.{key} a number", changed(part, key, 5))
            add(f"{part}.{key} null", changed(part, key, None))
            add(f"{part}.{key} a list", changed(part, key, ["x"]))
            add(f"{part}.{key} 100,000 characters", changed(part, key, "9" * 100_000))
            add(f"{part}.{key} ESC", changed(part, key, "\x1b[2J\x1b[31mX"), text_mode=True)
            add(f"{part}.{key} empty", changed(part, key, ""))
    for key, value in (("card_sn", "ZZ"), ("card_sn", "ABC"), ("card_sn", "00" * 15), ("card_sn", "00" * 17),
                       ("card_type", "3"), ("card_type", "3333"), ("issuer", "41"), ("issuer", "GG" * 12),
                       ("version", "3.00.1"), ("version", "三"), ("card_no", "A1000000１"),
                       ("card_no", "A" * 21), ("issue_date", "2019-13-45"), ("issue_date", "20190315"),
                       ("expiry_date", "9999-99-99"), ("expiry_date", "2029-02-30"), ("issue_date", "0000-01-01")):
        add(f"card.{key} = {value[:20]!r}", changed("card", key, value))
    for key, value in (("certno", "41010219780512671"), ("certno", "4101021978051267161"),
                       ("certno", "４１０１０２１９７８０５１２６７１６"), ("name", "张" * 16),
                       ("name", "a\u202eb"), ("gend", "x"), ("gend", "12"), ("naty", "1234"), ("naty", "x"),
                       ("birthplace", "x"), ("birthplace", "1" * 7), ("brdy", "1978-02-30"), ("brdy", "19780512"),
                       ("name_ext", 5), ("name_ext", "x" * 30)):
        add(f"holder.{key} = {str(value)[:20]!r}", changed("holder", key, value))
    add("holder.name an emoji (GB18030 can hold it)", changed("holder", "name", "😀"), ANY)
    add("holder.name lone surrogate", json.dumps(_profile(), ensure_ascii=False).replace('"张伟"', '"张\\ud800"'),
        text_mode=True)
    for key, value in (("initial", "12ab"), ("initial", 123456), ("initial", "1" * 20), ("max_tries", "3"),
                       ("max_tries", -1), ("max_tries", 1000), ("max_tries", 1.5), ("tries_left", "x"),
                       ("tries_left", 99)):
        add(f"pin.{key} = {value!r}", changed("pin", key, value))
    add("pin.max_tries 5,000 digits", json.dumps(_profile()).replace('"max_tries": 3', f'"max_tries": {BIG}'))
    add("pin.max_tries NaN", json.dumps(_profile()).replace('"max_tries": 3', '"max_tries": NaN'))
    for key, value in (("external_key", "XYZ"), ("external_key", "0123"), ("external_key", 5),
                       ("internal_key", "0" * 31), ("needs_external_auth", "yes"), ("has_external_key", "no"),
                       ("locked_reads_blank", 2)):
        add(f"security.{key} = {value!r}", changed("security", key, value))
    add("quirks unknown key", changed("", "quirks", {"fast": True}))
    add("quirks name_padding 300", changed("", "quirks", {"name_padding": 300}))
    add("quirks name_padding a string", changed("", "quirks", {"name_padding": "x"}))
    add("quirks a list", changed("", "quirks", [1]))
    add("pin a string", changed("", "pin", "123456"))
    add("security a list", changed("", "security", ["x"]))
    add("atr bad hex", changed("", "atr", "ZZ"))
    add("atr empty", changed("", "atr", ""))
    add("atr 40 bytes", changed("", "atr", "3B" * 40))
    add("atr a number", changed("", "atr", 5))
    add("id with ESC", changed("", "id", "\x1b[2Jx"), text_mode=True)
    add("id a number", changed("", "id", 5))
    add("unknown top key", changed("", "extra", 1))
    add("card a list", changed("", "card", []))
    add("holder a string", changed("", "holder", "x"))
    add("a JSON array", "[]")
    add("not JSON", "{card: 1}")
    add("empty", "")
    add("not UTF-8", b'{"card": {"card_no": "\xff"}}')
    add("deep nesting", '{"card": ' + "[" * DEEP + "]" * DEEP + "}")
    add("a 5,000-digit number", json.dumps(_profile()).replace('"gend": "1"', f'"gend": {BIG}'))
    add("NaN", json.dumps(_profile()).replace('"gend": "1"', '"gend": NaN'))
    cases.append(Case("profile", "profile path missing", ["card", "read", "--reader", "emulator:{dir}/none.json",
                                                          "--json"]))
    cases.append(Case("profile", "profile path a folder", ["card", "read", "--reader", "emulator:{dir}/x.json",
                                                           "--json"], {"x.json/keep": ""}))
    cases.append(Case("profile", "settle with a hostile profile", ["settle", "--pre", "--reader",
                                                                   "emulator:{dir}/card.json", "--bill", "bill.json"],
                      {"card.json": json.dumps(changed("holder", "name", "\x1b[2J张伟"), ensure_ascii=False),
                       "bill.json": GOOD_BILL_TEXT}))
    return cases


def cli_cases() -> list[Case]:
    cases: list[Case] = []

    def add(label: str, argv: list[str], expect: str = REFUSE, files: dict | None = None, **kw) -> None:
        cases.append(Case("cli", label, argv, files or {}, expect, **kw))

    for port in ("99999", "65536", "-1", "0", "abc", "1e3", "", "8000.5", "0x50", BIG, " 80"):
        add(f"web --port {port[:12]!r}", ["web", "--reader", "emulator", "--port", port], timeout=8.0, serves=True)
    for url in ("not a url", "javascript:alert(1)", "\x1b[2J", "http://"):
        add(f"web --public-url {url!r}", ["web", "--reader", "emulator", "--public-url", url], timeout=8.0,
            serves=True)
    add("web --host with ESC", ["web", "--reader", "emulator", "--host", "\x1b[2J"], timeout=8.0, serves=True)
    add("web --host 999.1.1.1", ["web", "--reader", "emulator", "--host", "999.1.1.1"], timeout=8.0, serves=True)
    add("web --host 5,000 chars", ["web", "--reader", "emulator", "--host", "h" * 5000], timeout=8.0, serves=True)
    add("web --reader bogus", ["web", "--reader", "bogus"], timeout=8.0, serves=True)
    add("web --mode teller", ["web", "--mode", "teller"], timeout=8.0, serves=True)
    for value in ("2026-13-01", "x", BIG, "\x1b[2J", "2026-02-30"):
        add(f"reconcile --date {value[:12]!r}", ["reconcile", "--date", value, "--json"])
    add("reconcile --window ESC", ["reconcile", "--window", "\x1b[2J", "--json"], ANY)
    for value in ("", "\x1b[2J", "S" * 10_000, "'; DROP TABLE settlements; --", "S2026\n"):
        add(f"reverse {value[:12]!r}", ["reverse", value, "--json"])
    for value in ("", "\x1b[2J", "9" * 5000, "' OR 1=1 --"):
        add(f"family --psn-no {value[:12]!r}", ["family", "--psn-no", value, "--json"])
        add(f"family --certno {value[:12]!r}", ["family", "--certno", value, "--json"])
    add("family --date bad", ["family", "--psn-no", "P10000001", "--date", "2026-02-30", "--json"])
    add("family --date ESC", ["family", "--psn-no", "P10000001", "--date", "\x1b[2J", "--json"])
    bind = ["bind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user", "A10000003"]
    for label, extra in (("relation ESC", ["--relation", "\x1b[2J"]), ("relation long", ["--relation", "3" * 5000]),
                         ("quota 5,000 digits", ["--relation", "30", "--scope", "cross_province", "--quota", BIG]),
                         ("quota negative", ["--relation", "30", "--scope", "cross_province", "--quota", "-1"]),
                         ("quota 1e30", ["--relation", "30", "--scope", "cross_province",
                                         "--quota", "1" + "0" * 30])):
        add(f"bind {label}", bind + extra + ["--json"])
    add("bind --user ESC", ["bind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user", "\x1b[2J",
                            "--relation", "30", "--json"])
    add("bind --date bad", bind + ["--relation", "30", "--date", "2026-99-99", "--json"])
    add("unbind --user long", ["unbind", "--reader", "emulator:zhang_wei", "--pin", "123456", "--user", "9" * 5000,
                               "--json"])
    for spec in ("emulator:../../etc/passwd", "emulator:\x1b[2J", "emulator:" + "a" * 5000, "emulator:/etc/passwd",
                 "serial:", "serial:/nonexistent/tty", "serial:socket://256.0.0.1:1", "serial:\x1b[2J",
                 "bogus", ":", "emulator:ZHANG_WEI"):
        add(f"card read --reader {spec[:24]!r}", ["card", "read", "--reader", spec, "--json"], timeout=30.0)
    add("card read --reader '' (the config's reader)", ["card", "read", "--reader", "", "--json"], ANY)
    add("--config a folder", ["--config", ".", "db", "stats", "--json"], no_config=True)
    add("--config missing", ["--config", "none.toml", "db", "stats", "--json"], no_config=True)
    add("--config /dev/null", ["--config", "/dev/null", "db", "stats", "--json"], ANY, no_config=True)
    add("--db a folder", ["--db", ".", "db", "stats", "--json"])
    add("--db missing", ["--db", "none.db", "db", "stats", "--json"])
    add("--db not a database", ["--db", "junk.db", "db", "stats", "--json"], files={"junk.db": b"\x00" * 4096})
    add("--db text file", ["--db", "junk.db", "db", "stats", "--json"], files={"junk.db": "hello\n" * 100})
    add("--db under a file", ["--db", "config.toml/x.db", "db", "init", "--json"])
    add("--lang fr", ["--lang", "fr", "db", "stats"])
    add("unknown command", ["pay", "--json"])
    add("settle --relatives ESC", SETTLE + ["--relatives", "\x1b[2J", "--json"], files={"bill.json": GOOD_BILL_TEXT})
    add("settle --relatives commas", SETTLE + ["--relatives", ",,,", "--json"], files={"bill.json": GOOD_BILL_TEXT})
    add("settle --relatives long", SETTLE + ["--relatives", "P" * 5000, "--json"], files={"bill.json": GOOD_BILL_TEXT})
    return cases


def request_id_cases() -> list[Case]:
    cases: list[Case] = []
    files = {"bill.json": GOOD_BILL_TEXT}
    for label, value, expect in (("64 visible ASCII", "r" * 64, OK),
                                 ("a uuid", "8c2d1f0e-6e7b-4c54-9a0e-8f1b2c3d4e5f", OK),
                                 ("empty", "", REFUSE), ("a space", " ", REFUSE), ("65 characters", "r" * 65, REFUSE),
                                 ("10,000 characters", "r" * 10_000, REFUSE), ("ESC", "\x1b[2Jr", REFUSE),
                                 ("C1 CSI", "r\x9b2J", REFUSE), ("newline", "r\nx", REFUSE), ("tab", "r\tx", REFUSE),
                                 ("DEL", "r\x7f", REFUSE), ("Chinese", "请求号1", REFUSE), ("emoji", "r😀", REFUSE),
                                 ("bidi", "r\u202ex", REFUSE), ("inner space", "r x", REFUSE),
                                 ("trailing space", "rx ", REFUSE), ("lone surrogate", "r\udc80", REFUSE),
                                 ("full-width", "ｒｘ", REFUSE), ("NBSP", "r\xa0x", REFUSE)):
        for mode in ("--json", "text"):
            argv = SETTLE + ["--request-id", value] + (["--json"] if mode == "--json" else [])
            cases.append(Case("request_id", f"{label} ({mode})", argv, dict(files), expect))
    return cases


def pin_cases() -> list[Case]:
    cases: list[Case] = []
    verify = ["card", "verify", "--reader", "emulator:zhang_wei", "--json", "--pin"]
    for label, value in (("empty", ""), ("letters", "abcdef"), ("3 digits", "123"), ("17 digits", "1" * 17),
                         ("5,000 digits", BIG), ("Arabic-Indic digits", "١٢٣٤٥٦"), ("full-width digits", "１２３４５６"),
                         ("trailing newline", "123456\n"), ("ESC", "\x1b[2J1234"), ("leading space", " 123456"),
                         ("wrong PIN", "000000"), ("a dash", "-1234"), ("lone surrogate", "1234\udc80"),
                         ("NBSP", "1234\xa056")):
        cases.append(Case("pin", f"verify {label}", verify + [value]))
        cases.append(Case("pin", f"settle {label}", ["settle", "--reader", "emulator:zhang_wei", "--bill", "bill.json",
                                                     "--json", "--pin", value], {"bill.json": GOOD_BILL_TEXT}))
    change = ["card", "change-pin", "--reader", "emulator:zhang_wei", "--json"]
    for label, old, new in (("new letters", "123456", "abcdef"), ("new 3 digits", "123456", "123"),
                            ("new 17 digits", "123456", "1" * 17), ("new ESC", "123456", "\x1b1234"),
                            ("old empty", "", "654321"), ("old wrong", "000000", "654321"),
                            ("new full-width", "123456", "６５４３２１")):
        cases.append(Case("pin", f"change-pin {label}", change + ["--old", old, "--new", new]))
    cases.append(Case("pin", "verify the right PIN", verify + ["123456"], expect=OK))
    cases.append(Case("pin", "change-pin good", change + ["--old", "123456", "--new", "654321"], expect=OK))
    return cases


def catalogue(port: int) -> list[Case]:
    return (config_cases(port) + bill_cases() + export_cases() + profile_cases() + cli_cases() + request_id_cases()
            + pin_cases())


def sample(cases: list[Case], per_category: int, seed: int) -> list[Case]:
    """A few cases of every category, the same for the same seed."""
    rng = random.Random(seed)
    out: list[Case] = []
    for category in CATEGORIES:
        pool = [c for c in cases if c.category == category]
        out += rng.sample(pool, min(per_category, len(pool)))
    return out


# --- running and counting ------------------------------------------------------------------------------

def run(cases: list[Case], jobs: int = 2, port: int | None = None) -> list[Outcome]:
    work = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        template = work / "template"
        make_template(template, port or free_port())
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(lambda ic: run_case(ic[1], template, work, ic[0]), enumerate(cases)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    out: dict[str, int] = {}
    for category in (*CATEGORIES, "total"):
        mine = [o for o in outcomes if category in ("total", o.case.category)]
        if not mine:
            continue
        out[f"{category}_tried"] = len(mine)
        out[f"{category}_tracebacks"] = sum(o.traceback for o in mine)
        out[f"{category}_silent"] = sum(o.silent for o in mine)
        out[f"{category}_refused_good"] = sum(o.refused_good for o in mine)
        out[f"{category}_raw_esc"] = sum(o.raw_esc for o in mine)
    return out


def problems(outcomes: list[Outcome]) -> list[str]:
    """One line per case that went wrong: what it was, what happened."""
    lines = []
    for o in outcomes:
        what = [w for w, bad in (("TRACEBACK", o.traceback), ("SILENT", o.silent), ("REFUSED_GOOD", o.refused_good),
                                 ("RAW_ESC", o.raw_esc)) if bad]
        if what:
            tail = o.text.strip().splitlines()[-1:] if o.text.strip() else [""]
            lines.append(f"{'+'.join(what)} [{o.case.category}] {o.case.label!r} rc={o.rc}: {tail[0][:200]!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--category", choices=CATEGORIES)
    parser.add_argument("--sample", type=int, help="this many cases of each category")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--verbose", action="store_true", help="print every case that went wrong")
    args = parser.parse_args(argv)
    port = free_port()
    cases = catalogue(port)
    if args.category:
        cases = [c for c in cases if c.category == args.category]
    if args.sample:
        cases = sample(cases, args.sample, args.seed)
    started = time.perf_counter()
    outcomes = run(cases, args.jobs, port)
    for key, value in counts(outcomes).items():
        print(f"{key}={value}")
    print(f"seconds={time.perf_counter() - started:.1f}")
    if args.verbose:
        for line in problems(outcomes):
            print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
