"""Scriptable faults for the in-process reader: pull the card after N commands,
corrupt the next responses, slow every exchange down."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    delay_s: float = 0.0                   # sleep before every response
    _remove_after: int | None = None       # commands left before the card is pulled
    _corrupt: int = 0                      # responses left to corrupt
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remove_after(self, n: int) -> None:
        """Let n more commands through, then pull the card (the next command meets no card)."""
        with self._lock:
            self._remove_after = max(0, n)

    def corrupt_next(self, k: int = 1) -> None:
        """Flip the bytes of the next k responses (data inverted; a bare SW inverted)."""
        with self._lock:
            self._corrupt = max(0, k)

    def clear(self) -> None:
        with self._lock:
            self.delay_s, self._remove_after, self._corrupt = 0.0, None, 0

    def should_remove(self) -> bool:
        """Called before a command: True when the card must be pulled now."""
        with self._lock:
            if self._remove_after is None:
                return False
            if self._remove_after == 0:
                self._remove_after = None
                return True
            self._remove_after -= 1
            return False

    def maybe_corrupt(self, response: bytes) -> bytes:
        with self._lock:
            if self._corrupt <= 0:
                return response
            self._corrupt -= 1
        return corrupt(response)


def corrupt(response: bytes) -> bytes:
    """Invert every data byte; a response without data gets its status word inverted."""
    if len(response) > 2:
        return bytes(b ^ 0xFF for b in response[:-2]) + response[-2:]
    return bytes(b ^ 0xFF for b in response)
