"""The emulator as a reader object in this process: unit tests, the demo, fault injection.

Thread-safe: the UI calls it from worker threads while the card tray inserts and removes cards.
"""

from __future__ import annotations

import threading
import time

from drivers.errors import CARD_REMOVED, MALFORMED, NO_CARD, CardError
from drivers.reader import CardEvent, Reader
from emulator.card_os import VirtualCard
from emulator.faults import Faults


class InProcessReader(Reader):
    """A reader whose slot holds a `VirtualCard` (or nothing)."""

    has_keypad = False

    def __init__(self, card: VirtualCard | None = None, name: str = "Cashier emulator 00 00") -> None:
        super().__init__()
        self.name = name
        self.faults = Faults()
        self._lock = threading.RLock()
        self._card = card
        self._session: VirtualCard | None = None  # the card connect() powered, until disconnect()

    @property
    def card(self) -> VirtualCard | None:
        return self._card

    # tray ----------------------------------------------------------------
    def insert(self, card: VirtualCard) -> None:
        """Put a card in the slot (pulling any card already there)."""
        self.remove()
        with self._lock:
            self._card = card
        self._emit(CardEvent("inserted", self.name, card.atr))

    def remove(self) -> None:
        """Pull the card; a session with it then fails with card_removed, even if another card goes in."""
        with self._lock:
            card = self._card
            if card is None:
                return
            card.power_off()
            self._card = None
        self._emit(CardEvent("removed", self.name))

    # Reader --------------------------------------------------------------
    def connect(self) -> bytes:
        with self._lock:
            if self._card is None:
                raise CardError(NO_CARD)
            self._session = self._card
            return self._card.power_on()

    def disconnect(self) -> None:
        with self._lock:
            if self._session is not None and self._session is self._card:
                self._card.power_off()
            self._session = None

    @property
    def atr(self) -> bytes:
        with self._lock:
            return self._card.atr if (self._card is not None and self._session is self._card) else b""

    def card_present(self) -> bool:
        with self._lock:
            return self._card is not None

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if self.faults.should_remove():
            self.remove()
        if self.faults.delay_s:
            time.sleep(self.faults.delay_s)
        with self._lock:
            card = self._card
            if self._session is not None and card is not self._session:
                raise CardError(CARD_REMOVED)
            if card is None:
                raise CardError(NO_CARD)
            if self._session is None:  # transmit without connect: power the card first
                self._session = card
                card.power_on()
            response = card.process(bytes(apdu))
        response = self.faults.maybe_corrupt(response)
        if len(response) < 2:
            raise CardError(MALFORMED, "response without a status word")
        return response[:-2], int.from_bytes(response[-2:], "big")
