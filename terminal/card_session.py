"""The card presented at the window: read it, check it is genuine, verify its PIN, and make sure the card
charged is the card that was read and shown (`CardIdentity`).

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


@dataclass(frozen=True)
class CardIdentity:
    """Which card: card number, card identification code (卡识别码, unique per chip) and ID number.

    Taken from the CardRead a screen showed, and compared with the card in the reader before anything is
    written: a card swapped in the reader must never pay the bill on screen. A field that is None is not
    known to the caller and not compared (the kiosk knows the card number only).
    """

    card_no: str
    card_sn: str | None = None
    certno: str | None = None

    @classmethod
    def of(cls, read: CardRead) -> "CardIdentity":
        return cls(read.card.card_no, read.card.card_sn, read.holder.certno)

    def matches(self, card_no: str, card_sn: str, certno: str | None = None) -> bool:
        """Same card; certno None: not read this time (EF06 is not read again before a commit)."""
        if card_no != self.card_no or (self.card_sn is not None and card_sn.upper() != self.card_sn.upper()):
            return False
        return certno is None or self.certno is None or certno.upper() == self.certno.upper()


def _swapped(expected: CardIdentity, card_no: str) -> CardError:
    from drivers.errors import CARD_SWAPPED
    return CardError(CARD_SWAPPED, f"the card read was {expected.card_no}, the card in the reader is {card_no}",
                     detail_zh=f"读取并显示的是卡号 {expected.card_no} 的卡,读卡器中现在是卡号 {card_no} 的卡")


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
        """Connect, read EF05/EF06 (authenticating where needed), check genuineness when configured.

        Always a new card session: a connection left open by an earlier read may belong to a card that has
        been swapped since (PC/SC would answer "removed"; the card in the reader now is the one read).
        """
        if self.reader.atr:
            self.reader.disconnect()
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

    def check_card(self, expected: CardIdentity | None) -> None:
        """The card last read is `expected` (the card shown), else card_swapped. None: nothing to compare."""
        read = self.last_read
        if expected is None or read is None:
            return
        if not expected.matches(read.card.card_no, read.card.card_sn, read.holder.certno):
            raise _swapped(expected, read.card.card_no)

    def confirm_card(self, expected: CardIdentity) -> bool:
        """Just before a commit: the card in the reader is still `expected`, in the same session.

        Reads the card number and identification code again over the connection of the read (a few APDUs,
        no PIN, no authentication). A card swapped since (even while its PIN was typed on a keypad, when the
        reader cannot tell) is found either way: the transport reports the old session gone, or the card
        answers with another number. Raises card_swapped when another card is in the reader now,
        card_removed when none is (or the same card was pulled and put back: its PIN check is gone).
        Returns True, so it can stand where a `still_present()` did.
        """
        from drivers.errors import CARD_REMOVED, NO_CARD
        try:
            info = self._which_card()
        except CardError as exc:
            now = self._card_now()
            if now is not None and not expected.matches(*now):
                raise _swapped(expected, now[0]) from None
            if exc.kind not in (CARD_REMOVED, NO_CARD):
                raise
            raise CardError(CARD_REMOVED, "the card left the reader before the commit; nothing was written",
                            detail_zh="提交前卡离开了读卡器,未记账") from None
        if not expected.matches(*info):
            raise _swapped(expected, info[0])
        return True

    def _card_now(self) -> tuple[str, str] | None:
        """EF05 of whatever card is in the reader now (a new session), or None when there is none."""
        try:
            if not self.reader.card_present():
                return None
            self.reader.disconnect()
            self.reader.connect()
            return self._which_card()
        except CardError:
            return None

    def _which_card(self) -> tuple[str, str]:
        """(card_no, card_sn) of the card in this session: SELECT, EF05, two records (no PIN, no key)."""
        from drivers import codecs
        from drivers.ssse import EF05, T_CARD_NO, T_CARD_SN
        self.card.select_application()
        self.card.select_ef(EF05)
        card_sn = (self.card.read_tag(T_CARD_SN) or b"").hex().upper()
        return codecs.ascii_text(self.card.read_tag(T_CARD_NO) or b""), card_sn

    def require_valid(self, today: str) -> CardRead:
        """The card last read, refused (card_expired) when past its expiry date on `today` (YYYY-MM-DD).

        One check for every use of the card at the window (bind, unbind, settle), so they agree.
        """
        read = self.last_read if self.last_read is not None else self.read()
        if read.card.expired(today):
            from drivers.errors import CARD_EXPIRED
            raise CardError(CARD_EXPIRED, f"expired on {read.card.expiry_date}",
                            detail_zh=f"有效期至 {read.card.expiry_date}")
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
