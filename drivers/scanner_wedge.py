"""A keyboard-wedge scanner's e-voucher code among ordinary keys: pure, for any UI to feed its key events.

A wedge scanner types what it read as keystrokes, a few milliseconds apart, and ends with Enter; a person types
far slower. `Wedge.feed(key, at)` takes every key as it arrives and answers a `Step`:

    release   keys that are ordinary typing after all: hand them to the screen, in this order ("\\r" is Enter)
    code      a whole e-voucher code that ended with Enter in one fast burst (its keys and the Enter are spent)

A key in neither is held back (`holding`): with the keys before it, it may be the start of a code. No key is
ever dropped or doubled: each comes back exactly once, in a `release` or inside a `code`. A burst that stops
without an Enter is let go by `due(now)`, which the UI calls from a timer `max_gap_s` after the last key.

The times are when the machine read each key, not when the scanner sent it: a machine held up for a moment in
the middle of a scan (the terminal's reader thread not scheduled, a garbage collection) reads the keys that
piled up meanwhile all at once, and the burst shows one pause that the scanner never made. So one pause longer
than `max_gap_s` inside a burst is forgiven; a second is a person typing, and the keys held are let go.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.voucher import could_begin, looks_like, normalise

#: the longest pause inside one scan (scanners type 1-10 ms apart; a person rarely under 60 ms)
MAX_GAP_S = 0.05
ENTER = "\r"
_ENTER_KEYS = {"\r", "\n", "enter"}


@dataclass(frozen=True)
class Step:
    """What one key led to: keys to give the screen now, and a code when one was completed."""

    release: tuple[str, ...] = ()
    code: str | None = None


class Wedge:
    """The recogniser: keys in, `Step`s out. One per screen that waits for a patient."""

    def __init__(self, max_gap_s: float = MAX_GAP_S) -> None:
        self.max_gap_s = max_gap_s
        self._held: list[str] = []
        self._last_at = 0.0
        self._paused = False     # the burst held has already had its one pause longer than max_gap_s

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def feed(self, key: str, at: float) -> Step:
        """One key (a single character, or "enter"/"\\r"/"\\n" for Enter) arriving at `at` (seconds, monotonic)."""
        stale: tuple[str, ...] = ()
        if self._held and at - self._last_at > self.max_gap_s:
            if self._paused:                     # a second pause: the burst had stopped, that was typing
                stale = self._let_go()
            else:                                # the machine read the rest late: the key below decides
                self._paused = True
        self._last_at = at
        if key in _ENTER_KEYS:
            text = "".join(self._held)
            if self._held and looks_like(text):
                self._let_go()
                return Step(stale, normalise(text))
            return Step((*stale, *self._let_go(), ENTER))
        if len(key) != 1 or not key.isprintable():
            return Step((*stale, *self._let_go(), key))
        if could_begin("".join(self._held).upper() + key.upper()):
            self._held.append(key)
            return Step(stale)
        typed = (*stale, *self._let_go())
        if could_begin(key.upper()):              # typing, then a scan began right after it
            self._held.append(key)
            return Step(typed)
        return Step((*typed, key))

    def due(self, now: float) -> Step:
        """The held keys, once no key came for longer than a scan pauses (call it from a timer)."""
        if self._held and now - self._last_at > self.max_gap_s:
            return Step(self._let_go())
        return Step()

    def _let_go(self) -> tuple[str, ...]:
        keys = tuple(self._held)
        self._held.clear()
        self._paused = False
        return keys


__all__ = ["ENTER", "MAX_GAP_S", "Step", "Wedge"]
