"""The one small reader interface every transport implements.

PC/SC, the serial card terminal and the in-process emulator all look like this,
so the social-security-card protocol runs unchanged over any of them.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Literal


@dataclass(frozen=True)
class CardEvent:
    """A card was inserted into or removed from a reader."""

    kind: Literal["inserted", "removed"]
    reader: str
    atr: bytes = b""


CardListener = Callable[[CardEvent], None]


class Reader(ABC):
    """connect/disconnect, transmit, ATR, card present, insert/remove events."""

    name: str = "reader"
    #: True when PINs are typed on the reader's own keypad (serial terminal)
    has_keypad: bool = False

    def __init__(self) -> None:
        self._listeners: list[CardListener] = []
        self._listeners_lock = threading.Lock()

    @abstractmethod
    def connect(self) -> bytes:
        """Power the card and return its ATR; CardError(no_card) if none."""

    @abstractmethod
    def disconnect(self) -> None:
        """Release the card (idempotent)."""

    @abstractmethod
    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one command APDU; return (response data, status word)."""

    @property
    @abstractmethod
    def atr(self) -> bytes:
        """ATR of the connected card (b"" when none)."""

    @abstractmethod
    def card_present(self) -> bool:
        """Whether a card sits in the reader now."""

    def verify_on_keypad(self, p2: int = 0x00, timeout: float = 30.0) -> int:
        """PIN typed on the reader's keypad; returns the card's status word."""
        raise NotImplementedError(f"{self.name} has no PIN keypad")

    # events -------------------------------------------------------------
    def add_listener(self, listener: CardListener) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)
        self._start_events()

    def remove_listener(self, listener: CardListener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            empty = not self._listeners
        if empty:
            self._stop_events()

    def _emit(self, event: CardEvent) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # one failing listener must not starve the others
                logging.getLogger("cashier.reader").exception("card event listener failed")

    # an optional hook, not abstract: the in-process reader emits from insert()/remove() and starts nothing
    def _start_events(self) -> None:  # noqa: B027
        """Transports with their own event source (CardMonitor, polling) start it here."""

    def _stop_events(self) -> None:  # noqa: B027
        """...and stop it here."""

    def close(self) -> None:
        """Stop events and release the card."""
        with self._listeners_lock:
            self._listeners.clear()
        self._stop_events()
        self.disconnect()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
