"""The patient's phone: the insurance app's e-voucher (医保电子凭证) QR code, for a person of the cast.

The person is a bundled card profile (`zhang_wei`) or a card profile file: the code names them by the ID
number on their card, as the app names its user. Each call issues a fresh code (a new nonce) valid
`lifetime_s` seconds, sealed with the key the app shares with the centre (`drivers.voucher`). Shown as a QR
code: text for a terminal (the demo), a PNG file for a scanner or a test.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # segno, the profiles and the cipher load when a code is made: `cashier` starts without them
    import segno

DEFAULT_LIFETIME_S = 180
#: QR error correction: M (15 %) reads well off a phone's screen, still a small symbol (version 4 for a code)
ERROR_LEVEL = "m"


@dataclass(frozen=True)
class PhoneCode:
    """A code the phone shows: the text (what a scanner reads) and when it stops being accepted."""

    code: str
    profile: str
    name: str
    issued: int        # Unix seconds
    expires: int       # Unix seconds

    @property
    def lifetime_s(self) -> int:
        return self.expires - self.issued

    def expires_text(self) -> str:
        """The expiry as ISO 8601 with this machine's UTC offset (unambiguous wherever it is read)."""
        return dt.datetime.fromtimestamp(self.expires).astimezone().isoformat(timespec="seconds")

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "expires": self.expires_text(), "lifetime_s": self.lifetime_s,
                "profile": self.profile}


def show_code(profile: str, key: bytes, *, lifetime_s: int = DEFAULT_LIFETIME_S, now: float | None = None) -> PhoneCode:
    """A fresh code for the holder of this card profile (an id or a .json file); CardError for an unknown or
    invalid profile, VoucherError for a bad key or lifetime."""
    from drivers.voucher import issue
    from emulator.profiles import read_profile
    data = read_profile(profile)
    holder = data["holder"]
    issued = int(time.time() if now is None else now)
    code = issue(key, holder["certno"], issued=issued, lifetime_s=lifetime_s)
    return PhoneCode(code=code, profile=str(data.get("id", profile)), name=holder.get("name", ""),
                     issued=issued, expires=issued + lifetime_s)


def qr(code: str) -> "segno.QRCode":
    """The QR symbol of a code (alphanumeric mode: the code's alphabet is that mode's)."""
    import segno
    return segno.make_qr(code, error=ERROR_LEVEL, mode="alphanumeric", boost_error=False)


def qr_text(code: str, *, ansi: bool = False, border: int = 2) -> str:
    """The QR code as terminal text: half blocks (light modules drawn, for a dark background, as the demo
    has), or with `ansi` ANSI colours that read the same on any background."""
    out = io.StringIO()
    qr(code).terminal(out=out, compact=not ansi, border=border)
    return out.getvalue()


def write_png(code: str, path: str | Path, *, scale: int = 8, border: int = 4) -> Path:
    """The QR code as a PNG file (black on white, a 4-module quiet zone as scanners expect)."""
    target = Path(path)
    qr(code).save(str(target), kind="png", scale=scale, border=border)
    return target


__all__ = ["DEFAULT_LIFETIME_S", "PhoneCode", "qr", "qr_text", "show_code", "write_png"]


# ---------------------------------------------------------------------------------------------- command line
def register_cli(group, common) -> None:
    """Add `cashier emulator voucher --profile P [--json] [--png FILE] [--qr] [--lifetime S]`."""
    p = group.add_parser(
        "voucher", parents=[common], help="a fresh e-voucher code (医保电子凭证) of a person, as the phone shows it",
        description="Print a fresh e-voucher code for the holder of a card profile (its first line of output; "
                    "with --json one object {code, expires, lifetime_s, profile}). The code is valid --lifetime "
                    "seconds and once; the key is the config's [voucher] key, shared with the centre.")
    p.add_argument("--profile", required=True, help="a bundled card profile (zhang_wei) or a profile .json file")
    p.add_argument("--png", metavar="FILE", help="also write the QR code to FILE as a PNG image")
    p.add_argument("--qr", action="store_true", help="also print the QR code as text (for a terminal)")
    p.add_argument("--lifetime", type=_lifetime, metavar="S",
                   help="seconds the code is valid (default: [voucher] lifetime_s)")
    p.set_defaults(handler=_cli_voucher)


def _lifetime(text: str) -> int:
    """argparse type: whole seconds the format can carry (a bad value is a usage error)."""
    import argparse

    from drivers.voucher import MAX_LIFETIME_S
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIFETIME_S:
        raise argparse.ArgumentTypeError(f"whole seconds from 1 to {MAX_LIFETIME_S}, not {text!r}")
    return int(text)


def _cli_voucher(args) -> int:
    import json
    import sys

    from drivers.voucher import VOUCHER_KEY, VoucherError, parse_key
    key_hex, lifetime_s = args.resolve_voucher(args)   # given by the terminal's CLI: the config's [voucher] table
    if not key_hex:
        raise VoucherError(VOUCHER_KEY, "the config's [voucher] key is empty: set one (shared with the centre)")
    shown = show_code(args.profile, parse_key(key_hex),
                      lifetime_s=lifetime_s if args.lifetime is None else args.lifetime)
    out = shown.as_json()
    if args.png:
        try:
            out["png"] = str(write_png(shown.code, args.png))
        except OSError as exc:
            print(f"cashier: --png {args.png}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    if getattr(args, "json", False):
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(shown.code)
    if args.qr:
        print(qr_text(shown.code), end="")
    print(f"{shown.name}: valid until {shown.expires_text()} ({shown.lifetime_s} s), once"
          + (f"; QR code written to {out['png']}" if args.png else ""), file=sys.stderr)
    return 0
