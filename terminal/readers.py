"""Open a reader from a spec (docs/readers.md): emulator:PROFILE, pcsc, pcsc:NAME, serial:URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.errors import BAD_READER_SPEC, CardError
from drivers.reader import Reader

if TYPE_CHECKING:
    from terminal.config import Config


def open_reader(spec: str | None, cfg: "Config") -> Reader:
    """Build (not yet connect) the reader named by spec (default: [reader].spec)."""
    spec = (spec or cfg.reader.spec).strip()
    kind, _, arg = spec.partition(":")
    if kind == "emulator":
        from emulator.inprocess import InProcessReader
        from emulator.profiles import load_card
        profile = arg or cfg.emulator.default_profile
        return InProcessReader(load_card(profile, cfg.state_dir))
    if kind == "pcsc":
        from drivers.pcsc import PcscReader
        return PcscReader(arg or None, timeout=cfg.reader.timeout_s)
    if kind == "serial":
        if not arg:
            raise CardError(BAD_READER_SPEC, "serial: needs a pyserial URL, e.g. serial:/dev/ttyUSB0")
        from drivers.serial_t1.reader import SerialReader
        return SerialReader(arg, timeout=cfg.reader.timeout_s)
    raise CardError(BAD_READER_SPEC, spec)
