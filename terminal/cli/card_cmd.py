"""`cashier card read|verify|change-pin`: the card in a reader, read by the drivers.

Text output masks the ID number; `--json` prints the contract's unmasked object;
`--line` prints the iReadCardBas-style line. `--trace` prints the APDUs to stderr with
PIN data, and the ID number and name in EF06's answers, redacted; `--trace-raw` (card
debugging) shows those answers as the card sent them, with a warning.
PINs: `--pin -` (and `--old -`, `--new -`) read a line of stdin; without them, $CASHIER_PIN
(and $CASHIER_NEW_PIN) — a PIN on the command line shows in `ps`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from drivers.certno import mask
from drivers.errors import PIN_INVALID, CardError
from terminal.cli.output import NEW_PIN_ENV, PIN_ENV, PIN_HELP, emit, pin_arg
from terminal.error_codes import E

if TYPE_CHECKING:
    from drivers.apdu import Trace
    from drivers.card_data import CardRead

_GEND = {"1": "男 male", "2": "女 female"}


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    card = sub.add_parser("card", help="read the card in a reader; verify or change its PIN")
    cmds = card.add_subparsers(dest="card_command", metavar="ACTION", required=True)

    def reader_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--reader", help="emulator:PROFILE, pcsc, pcsc:NAME or serial:URL (default [reader].spec)")
        p.add_argument("--trace", action="store_true",
                       help="print the APDUs to stderr (PIN data, and the ID number and name the card answers, "
                            "redacted)")
        p.add_argument("--trace-raw", action="store_true",
                       help="card debugging: like --trace, but the ID number and name as the card sent them "
                            "(PIN data stays redacted)")

    read = cmds.add_parser("read", parents=[common], help="read the card (EF05 card, EF06 holder)")
    reader_options(read)
    read.add_argument("--line", action="store_true", help="print the iReadCardBas-style line only")
    read.set_defaults(handler=cmd_read)

    verify = cmds.add_parser("verify", parents=[common], help="check the card's PIN (counts a try)")
    reader_options(verify)
    verify.add_argument("--pin", help=PIN_HELP)
    verify.set_defaults(handler=cmd_verify)

    change = cmds.add_parser("change-pin", parents=[common], help="change the card's PIN")
    reader_options(change)
    change.add_argument("--old", help=f"the current PIN; '-' reads it from a line on stdin; default ${PIN_ENV}")
    change.add_argument("--new", help=f"the new PIN, 4 to 16 digits; '-' reads it from a line on stdin (after "
                                      f"--old's, when both are '-'); default ${NEW_PIN_ENV}")
    change.set_defaults(handler=cmd_change_pin)


def _session(args: argparse.Namespace):
    from drivers.apdu import Trace
    from terminal.card_session import CardSession
    from terminal.cli.card_trace import HolderRedactingTrace
    from terminal.cli.main import load_cfg
    from terminal.readers import open_reader
    cfg = load_cfg(args)
    trace: Trace | None = None
    if args.trace_raw:
        print("cashier: warning: --trace-raw shows the holder's ID number and name as the card sends them; "
              "keep this output out of logs and tickets", file=sys.stderr)
        trace = Trace()
    elif args.trace:
        trace = HolderRedactingTrace()
    return CardSession(open_reader(args.reader, cfg), cfg, trace), trace


def _print_trace(trace: Trace | None) -> None:
    if trace is not None:
        print("\n".join(trace.lines), file=sys.stderr)


def cmd_read(args: argparse.Namespace) -> int:
    session, trace = _session(args)
    try:
        result = session.read()
    finally:
        _print_trace(trace)
        session.close()
    if args.line and not args.json:
        print(result.line)
        return 0
    return emit(args, result.to_json(), text_of(result))


def text_of(r: CardRead) -> str:
    """A readable card: the ID number masked (first 6 + last 4)."""
    c, h = r.card, r.holder
    name = h.full_name or "(not readable without PSAM authentication)"
    rows = [
        ("姓名 name", name),
        ("证件号 ID number", mask(h.certno) or "-"),
        ("性别 sex", _GEND.get(h.gend, h.gend or "-")),
        ("民族 ethnicity", h.naty or "-"),
        ("出生日期 born", h.brdy or "-"),
        ("出生地 birthplace", h.birthplace or "-"),
        ("卡号 card no", c.card_no),
        ("卡识别码 card sn", c.card_sn),
        ("地区 region", r.region),
        ("规范版本 version", c.version),
        ("发卡日期 issued", c.issue_date or "-"),
        ("有效期 expires", (c.expiry_date or "-") + ("  已过期 EXPIRED" if c.expired(_today()) else "")),
        ("ATR", r.atr),
    ]
    width = max(_width(k) for k, _ in rows)
    return "\n".join(f"{k}{' ' * (width - _width(k))}  {v}" for k, v in rows)


def _today() -> str:
    from terminal import clock
    return clock.day()


def _width(s: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def cmd_verify(args: argparse.Namespace) -> int:
    pin = pin_arg(args.pin)                  # before any card: pin_invalid is a usage error
    session, trace = _session(args)
    try:
        session.read()
        session.verify_pin(pin)
    finally:
        _print_trace(trace)
        session.close()
    return emit(args, {"verified": True}, "PIN correct. 密码正确")


def cmd_change_pin(args: argparse.Namespace) -> int:
    old = pin_arg(args.old, option="--old", env=PIN_ENV)        # '-': the first line of stdin
    new = pin_arg(args.new, option="--new", env=NEW_PIN_ENV)    # '-': the next one
    if old is None or new is None:
        which = "--old" if old is None else "--new"
        raise E.PIN_MISSING.error(f"change-pin needs {which}: the PIN, '-' to read it from a line on stdin, "
                         f"or ${PIN_ENV if old is None else NEW_PIN_ENV}",
                         f"change-pin 需要 {which}:密码、'-'(从标准输入读取一行)或环境变量 "
                         f"{PIN_ENV if old is None else NEW_PIN_ENV}")
    if old == new:
        raise CardError(PIN_INVALID, "the new PIN must differ from the old one")
    session, trace = _session(args)
    try:
        session.read()
        session.card.change_pin(old, new)
    finally:
        _print_trace(trace)
        session.close()
    return emit(args, {"changed": True}, "PIN changed. 密码已修改")
