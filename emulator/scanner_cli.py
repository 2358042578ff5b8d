"""`cashier emulator scanner`: a serial code scanner on a pty (`emulator.scanner`), driven from stdin or --code."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.scanner import PtyScanner


def register_cli(group, common: argparse.ArgumentParser) -> None:
    """Add `cashier emulator scanner --link PATH [--code CODE ...]` to the emulator group."""
    p = group.add_parser(
        "scanner", parents=[common], help="a serial code scanner on a pty, its path at --link",
        description="Serve a serial code scanner on a pty until stopped: each scan is one line (CR LF). "
                    "The --code codes are scanned once a program opens the port; then each line on stdin is "
                    "scanned as typed, except 'phone PROFILE' (scans a fresh e-voucher of that person) and 'quit'.")
    p.add_argument("--link", required=True, help="where to publish the pty's path (a symlink)")
    p.add_argument("--code", action="append", default=[], metavar="TEXT", help="a code to scan (repeatable)")
    p.add_argument("--wait", type=float, default=60.0, metavar="S",
                   help="how long the --code scans wait for a program to open the port (default 60)")
    p.add_argument("--interval", type=float, default=0.2, metavar="S", help="seconds between --code scans")
    p.set_defaults(handler=_cli_serve)


class _Say:
    """One status line per event, flushed (a driving program reads them)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json = getattr(args, "json", False)

    def __call__(self, text: str) -> None:
        print(json.dumps({"scanner": text}, ensure_ascii=False) if self.json else text, flush=True)


def _cli_serve(args: argparse.Namespace) -> int:
    import signal

    from emulator.scanner import PtyScanner  # not for every `cashier` start

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        scanner = PtyScanner(args.link)
    except (FileExistsError, FileNotFoundError) as exc:
        print(f"cashier: --link: {exc}", file=sys.stderr)
        return 2
    say = _Say(args)
    say(f"scanner ready at {args.link} ({scanner.slave_path}); stdin: a code to scan / 'phone PROFILE' / 'quit'")
    try:
        if args.code:
            if not scanner.wait_for_host(args.wait):
                say(f"error: no program opened the scanner's port within {args.wait:g} s: nothing scanned")
            for i, code in enumerate(args.code):
                if i:
                    time.sleep(args.interval)
                _scan(scanner, code, say)
        for line in sys.stdin:
            text = line.strip()
            if not text:
                continue
            if text == "quit":
                break
            words = text.split()
            if words[0] == "phone":
                if len(words) != 2:
                    say("error: phone PROFILE")
                    continue
                code = _fresh_code(args, words[1], say)
                if code is not None:
                    _scan(scanner, code, say)
            else:
                _scan(scanner, text, say)
        else:
            while True:  # stdin closed (a service): keep the port until a signal
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        scanner.stop()
    return 0


def _scan(scanner: PtyScanner, text: str, say: _Say) -> None:
    if scanner.scan(text):
        say("scanned")
    else:
        say("error: no program has the scanner's port open: not scanned")


def _fresh_code(args: argparse.Namespace, profile: str, say: _Say) -> str | None:
    """A fresh e-voucher of that person, made with the config's key (as `cashier emulator voucher`)."""
    from drivers.errors import CardError
    from drivers.voucher import parse_key
    from emulator.phone import show_code
    key_hex, lifetime_s = args.resolve_voucher(args)
    if not key_hex:
        say("error: the config's [voucher] key is empty: no e-voucher can be made")
        return None
    try:
        return show_code(profile, parse_key(key_hex), lifetime_s=lifetime_s).code
    except CardError as exc:     # an unknown profile: say so, keep serving
        say(f"error: {exc.message}")
        return None
