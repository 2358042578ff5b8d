"""pytest plugin: the real PC/SC stack (our own pcscd + vpcd + the emulator's card side).

Session fixture `pcsc_stack` takes the machine-wide lock (other runs wait for it),
refuses a pcscd we did not start, starts ours and stops it by PID. Where the stack
cannot run (not installed, a foreign pcscd, no root) the PC/SC tests are skipped
with the reason — unless CI=true, where that is a failure.
`pcsc_reader_factory` serves a profile's card in a vpcd slot and returns a PcscReader on it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from emulator.pcscd_runner import Pcscd, PcscdUnavailable, foreign_pcscd, machine_lock, missing_parts
from emulator.vpcd import VpcdCardSide

LOCK_WAIT_S = 600.0
SEEN_TIMEOUT_S = 3.0


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"PC/SC stack unavailable under CI=true: {reason}", pytrace=False)
    pytest.skip(f"PC/SC stack unavailable: {reason}")


@dataclass
class PcscStack:
    """Our pcscd and one vpcd card side per slot."""

    daemon: Pcscd
    sides: dict[int, VpcdCardSide] = field(default_factory=dict)

    def side(self, slot: int) -> VpcdCardSide:
        if slot not in self.sides:
            self.sides[slot] = VpcdCardSide(slot).start()
        return self.sides[slot]

    def serve(self, card, slot: int = 0) -> str:
        """Insert `card` in the slot and wait until pcscd shows it; returns the reader name.

        The slot is first seen empty (so the old card is not mistaken for the new one);
        a card missed by pcscd's polling (the reinsertion trap) is put in once more.
        """
        from drivers.pcsc import wait_card_state
        side = self.side(slot)
        self.pull(slot)
        for _attempt in range(2):
            if not side.insert(card, wait=SEEN_TIMEOUT_S):
                raise RuntimeError(f"vpcd did not accept slot {slot} (port {side.port})")
            if wait_card_state(side.reader_name, True, SEEN_TIMEOUT_S):
                return side.reader_name
            self.pull(slot)
        raise RuntimeError(f"pcscd never saw the card in {side.reader_name}")

    def pull(self, slot: int = 0) -> None:
        """Remove the card from the slot and wait until pcscd shows it empty (then the next card needs no
        reinsertion gap: pcscd has noticed the removal)."""
        from drivers.pcsc import wait_card_state
        side = self.side(slot)
        if side.card is None and not side.connected:
            return
        side.remove()
        if wait_card_state(side.reader_name, False, SEEN_TIMEOUT_S):
            side.removal_seen()

    @contextlib.contextmanager
    def without_pcscd(self) -> Iterator[None]:
        """Stop our pcscd for a while (to see what users get when the service is down), then restart it."""
        for slot in list(self.sides):
            self.pull(slot)
        self.daemon.stop()
        try:
            yield
        finally:
            self.daemon.start()

    def close(self) -> None:
        for side in self.sides.values():
            side.stop()
        self.sides.clear()


@pytest.fixture(scope="session")
def pcsc_stack() -> Iterator[PcscStack]:
    why = missing_parts()
    if why:
        _unavailable(why)
    try:
        with machine_lock(LOCK_WAIT_S):
            why = foreign_pcscd()
            if why:
                _unavailable(why)
            try:
                daemon = Pcscd().start()
            except PcscdUnavailable as exc:
                _unavailable(str(exc))
            stack = PcscStack(daemon)
            try:
                yield stack
            finally:
                stack.close()
                daemon.stop()
    except PcscdUnavailable as exc:  # the lock wait ran out
        _unavailable(str(exc))


@pytest.fixture
def pcsc_reader_factory(pcsc_stack: PcscStack, state_dir: Path) -> Iterator[Callable[..., object]]:
    """make(profile, slot=0, **card_options) -> PcscReader on the slot holding that profile's card."""
    from drivers.pcsc import PcscReader
    readers: list[PcscReader] = []
    used: set[int] = set()

    def make(profile: str, slot: int = 0, **card_options) -> PcscReader:
        from emulator.profiles import load_card
        card = load_card(profile, state_dir, **card_options)
        return make_for(card, slot)

    def make_for(card, slot: int = 0) -> PcscReader:
        name = pcsc_stack.serve(card, slot)
        used.add(slot)
        reader = PcscReader(name, timeout=5.0)
        readers.append(reader)
        return reader

    make.serve_card = make_for  # type: ignore[attr-defined]  # any CardLike, for tests with their own card
    make.stack = pcsc_stack  # type: ignore[attr-defined]
    yield make
    for reader in readers:
        reader.close()
    for slot in used:
        pcsc_stack.pull(slot)


def uses_pcsc(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return ("pcsc_stack" in names or "pcsc_reader_factory" in names
            or item.get_closest_marker("pcsc") is not None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that use the stack `pcsc` (before `-m` selects on it)."""
    for item in items:
        if uses_pcsc(item) and item.get_closest_marker("pcsc") is None:
            item.add_marker(pytest.mark.pcsc)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The first PC/SC test that will run sets the stack up: give it time to wait for the lock."""
    for item in session.items:
        if uses_pcsc(item):
            item.add_marker(pytest.mark.timeout(LOCK_WAIT_S + 120))
            return
