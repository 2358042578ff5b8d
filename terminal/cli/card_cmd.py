"""`cashier card read|verify|change-pin` (DESIGN §8.1): the card in a reader, read by the drivers.

Text output masks the ID number; `--json` prints the contract's unmasked object;
`--line` prints the iReadCardBas-style line (§3.5). `--trace` prints the APDUs
to stderr with PIN data redacted.
"""

from __future__ import annotations

import argparse
import sys

from drivers.apdu import Trace
from drivers.card_data import CardRead
from drivers.certno import mask
from drivers.errors import PIN_INVALID, CardError
from terminal.cli.output import emit

_GEND = {"1": "男 male", "2": "女 female"}


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    card = sub.add_parser("card", help="read the card in a reader; verify or change its PIN")
    cmds = card.add_subparsers(dest="card_command", metavar="ACTION", required=True)

    def reader_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--reader", help="emulator:PROFILE, pcsc, pcsc:NAME or serial:URL (default [reader].spec)")
        p.add_argument("--trace", action="store_true", help="print the APDUs to stderr (PIN data redacted)")

    read = cmds.add_parser("read", parents=[common], help="read the card (EF05 card, EF06 holder)")
    reader_options(read)
    read.add_argument("--line", action="store_true", help="print the iReadCardBas-style line only")
    read.set_defaults(handler=cmd_read)

    verify = cmds.add_parser("verify", parents=[common], help="check the card's PIN (counts a try)")
    reader_options(verify)
    verify.add_argument("--pin", help="the PIN (omit to type it on the reader's keypad)")
    verify.set_defaults(handler=cmd_verify)

    change = cmds.add_parser("change-pin", parents=[common], help="change the card's PIN")
    reader_options(change)
    change.add_argument("--old", required=True, help="current PIN")
    change.add_argument("--new", required=True, help="new PIN, 4 to 16 digits")
    change.set_defaults(handler=cmd_change_pin)


def _session(args: argparse.Namespace):
    from terminal.card_session import CardSession
    from terminal.cli.main import load_cfg
    from terminal.readers import open_reader
    cfg = load_cfg(args)
    trace = Trace() if args.trace else None
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
    """A readable card: the ID number masked (DESIGN §7)."""
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
    import datetime as dt
    return dt.date.today().isoformat()


def _width(s: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def cmd_verify(args: argparse.Namespace) -> int:
    session, trace = _session(args)
    try:
        session.read()
        session.verify_pin(args.pin)
    finally:
        _print_trace(trace)
        session.close()
    return emit(args, {"verified": True}, "PIN correct. 密码正确")


def cmd_change_pin(args: argparse.Namespace) -> int:
    from drivers.codecs import pin_block
    for pin in (args.old, args.new):
        pin_block(pin)  # CardError(pin_invalid) before touching the card
    if args.old == args.new:
        raise CardError(PIN_INVALID, "the new PIN must differ from the old one")
    session, trace = _session(args)
    try:
        session.read()
        session.card.change_pin(args.old, args.new)
    finally:
        _print_trace(trace)
        session.close()
    return emit(args, {"changed": True}, "PIN changed. 密码已修改")
