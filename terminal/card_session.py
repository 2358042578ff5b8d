"""The card presented at the window: read it, check it is genuine, verify its PIN.

Used by the command line, the services and the UI alike, over any reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.apdu import Trace
from drivers.card_data import CardRead
from drivers.errors import CardError
from drivers.reader import Reader
from drivers.ssse import ReadOptions, SocialSecurityCard
from terminal.config import Config


@dataclass
class CardSession:
    reader: Reader
    cfg: Config
    trace: Trace | None = None
    card: SocialSecurityCard = field(init=False)
    last_read: CardRead | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.card = SocialSecurityCard(self.reader, self.cfg.psam_keys(), self.trace)

    def read(self) -> CardRead:
        """Connect, read EF05/EF06 (authenticating where needed), check genuineness when configured."""
        self.reader.connect()
        result = self.card.read(ReadOptions(terminal_no=self.cfg.terminal.terminal_no,
                                            device_no=self.cfg.terminal.device_no))
        if self.cfg.psam.check_card and self.cfg.psam.internal_key:
            try:
                self.card.internal_authenticate()
            except CardError as exc:
                # A card that refuses the command (any status word) has no such key: not a failure.
                # Only an answer that fails the PSAM's check (no status word) means "not genuine".
                if exc.sw is None:
                    raise
        self.last_read = result
        return result

    def require_valid(self, today: str) -> CardRead:
        """The card last read, refused (card_expired) when past its expiry date on `today` (YYYY-MM-DD).

        One check for every use of the card at the window (bind, unbind, settle), so they agree.
        """
        read = self.last_read if self.last_read is not None else self.read()
        if read.card.expired(today):
            from drivers.errors import CARD_EXPIRED
            raise CardError(CARD_EXPIRED, f"expired on {read.card.expiry_date}")
        return read

    def verify_pin(self, pin: str | None) -> None:
        """VERIFY with the PIN typed at the window, or on the reader's keypad when pin is None."""
        if pin is None:
            if not self.reader.has_keypad:
                from drivers.errors import PIN_INVALID
                raise CardError(PIN_INVALID, "no PIN given and the reader has no keypad")
            self.card.verify_pin_on_keypad()
            return
        refuse = self.cfg.pin.initial_pin if self.cfg.pin.refuse_initial_pin else None
        self.card.verify_pin(pin, refuse_initial=refuse)

    def still_present(self) -> bool:
        """The same card is still in the reader (checked again before a commit)."""
        return self.reader.card_present()

    def close(self) -> None:
        self.reader.disconnect()
