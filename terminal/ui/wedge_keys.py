"""The keyboard-wedge scanner at the cashier's window: an e-voucher code typed fast and ended with Enter, on a
screen that waits for a patient, opens that patient through the centre (1101 with mdtrt_cert_type 01).

Every key from the terminal passes here first, timed by the stamp the driver gave it when it read it (a window
busy for a moment takes a burst late, but the gaps between its keys are the scanner's), before the key queue,
which may hold it back while the key before settles. `drivers.scanner_wedge.Wedge` says which keys are ordinary typing
(handed on, in order, to the key queue) and which made a code (spent). A burst that stops without Enter is
handed on by a timer. No key is lost or doubled, however fast they come.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Callable

from textual import events

from drivers.scanner_wedge import MAX_GAP_S, Step, Wedge

if TYPE_CHECKING:
    from terminal.ui.app import CashierApp


def waits_for_patient(app: "CashierApp") -> bool:
    """The screen on top is one where a scan may open a patient (no dialog or other screen above it)."""
    return bool(getattr(app.screen, "WAITS_FOR_PATIENT", False))


class KeyboardWedge:
    """Between the terminal and the app's key queue. `feed(key)` for every key; `hand_on(key)` is the queue."""

    def __init__(self, app: "CashierApp", hand_on: Callable[[events.Key], None]) -> None:
        self.app = app
        self.hand_on = hand_on
        self.wedge = Wedge()
        self.held: deque[events.Key] = deque()   # the keys fed and not yet handed on or spent, in order
        self._lag = 0.0                          # how late the last key held was taken after the terminal read it
        self._last_at = 0.0                      # the stamp of the last key fed

    def feed(self, key: events.Key) -> None:
        self._last_at = max(self._last_at, key.time)
        if not self.held and not waits_for_patient(self.app):
            self.hand_on(key)
            return
        self.held.append(key)
        self._lag = max(0.0, time.monotonic() - key.time)
        self._apply(self.wedge.feed(_name(key), key.time))   # stamped when the terminal delivered it
        if self.wedge.holding:
            self._arm()

    def _arm(self) -> None:
        """Look again once the burst may have stopped."""
        self.app.set_timer(MAX_GAP_S * 2, self._due)

    def _due(self) -> None:
        """The gap after the last key, on the keys' own clock: a window taking a burst late (busy) must not see the
        keys still queued behind it as a pause. Textual stamps events with the monotonic clock (POSIX)."""
        if self.app.newest_key_at > self._last_at:
            return          # a key read since is waiting for the window: no pause; that key arms the next look
        self._apply(self.wedge.due(time.monotonic() - self._lag))

    def _apply(self, step: Step) -> None:
        for _ in step.release:
            self.hand_on(self.held.popleft())
        if step.code:
            for _ in range(len(step.code) + 1):       # its keys and the Enter: spent
                self.held.popleft()
            self.app.scanned_voucher(step.code)


def _name(key: events.Key) -> str:
    """What the recogniser knows of a key: its character when it types one, else its name ("enter", "f5")."""
    if key.key == "enter":
        return "enter"
    if key.character is not None and len(key.character) == 1 and key.character.isprintable():
        return key.character
    return key.key


def load_voucher(app: "CashierApp", code: str) -> None:
    """1101 with the code through the centre, then the patient screen (as for a card read); a refusal (expired,
    used, forged) shows on the waiting screen like a card that cannot be read."""
    from terminal.ui import window_ops
    from terminal.ui.messages import PatientLoaded
    from terminal.ui.workers import run_service
    cfg, today = app.cfg, app.today()
    run_service(app, "read", lambda: window_ops.load_voucher_patient(cfg, code, today),
                lambda loaded: PatientLoaded(*loaded), group="voucher")
