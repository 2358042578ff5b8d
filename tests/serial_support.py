"""Helpers of the serial tests: a serial card terminal on a real pty, and a host reader on it."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from drivers.serial_t1.reader import SerialReader
from emulator.profiles import load_card
from emulator.serial_terminal import Keypad, LineFaults, SerialTerminal


@contextmanager
def terminal_with(profile: str | None, state_dir: Path, tmp_path: Path, faults: LineFaults | None = None,
                  keypad: list[str] | None = None, **card_options) -> Iterator[SerialTerminal]:
    """A started serial terminal holding `profile`'s card, its pty linked at tmp_path/ttyT1."""
    card = load_card(profile, state_dir, **card_options) if profile else None
    term = SerialTerminal(card, tmp_path / "ttyT1", faults, Keypad(keypad)).start()
    try:
        yield term
    finally:
        term.stop()


@contextmanager
def reader_on(term: SerialTerminal, timeout: float = 5.0, **link_options) -> Iterator[SerialReader]:
    reader = SerialReader(term.path, timeout=timeout, link_options=link_options)
    try:
        yield reader
    finally:
        reader.close()
