"""The virtual card: power, the INS dispatch table and response shaping.

`process(apdu) -> response bytes` never raises: every malformed or out-of-order
command gets an ISO status word. Card "quirks" let a test play a card that is
not this project's (FCI on SELECT, 61xx + GET RESPONSE, 6Cxx unless Le is exact).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Callable

from drivers.apdu import CommandAPDU
from drivers.errors import CardError
from drivers.iso7816 import CLA, INS, SW, more_data, wrong_le
from emulator.card_os.files import DF, EF
from emulator.state import PinState, StateStore

log = logging.getLogger("cashier.emulator")


@dataclass(frozen=True)
class Quirks:
    """Habits of other issuers' cards the drivers must cope with (a test can make this card play them)."""

    select_fci: bool = False      # SELECT answers with FCI/FCP data
    get_response: bool = False    # data comes as 61 xx; the terminal must GET RESPONSE
    exact_le: bool = False        # 6C xx unless Le is exactly the length
    name_padding: int = 0x00      # byte that pads the name fields (0x20 on some cards)


@dataclass
class Keys:
    external: bytes | None = None   # key 0A, EXTERNAL AUTHENTICATE
    internal: bytes | None = None   # INTERNAL AUTHENTICATE


@dataclass
class Session:
    """What a power cycle resets: selection, authentication, the challenge, pending data."""

    current_df: DF
    current_ef: EF | None = None
    current_record: int = 0
    authenticated: bool = False
    challenge: bytes | None = None
    pending: bytes = b""


Reply = tuple[bytes, int]
Handler = Callable[["VirtualCard", CommandAPDU], Reply]


@dataclass
class VirtualCard:
    """A social security card in memory. Used by every transport (in-process, vpcd, serial)."""

    atr: bytes
    mf: DF
    card_sn: str
    pin: PinState
    store: StateStore
    keys: Keys = field(default_factory=Keys)
    quirks: Quirks = field(default_factory=Quirks)
    profile_id: str = ""
    session: Session = field(init=False)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self.session = Session(self.mf)

    # power ---------------------------------------------------------------
    def power_on(self) -> bytes:
        """Cold reset: security state and selection are lost; PIN state is re-read from the state folder."""
        with self._lock:
            saved = self.store.load(self.card_sn)
            if saved is not None:
                self.pin = saved
            self.session = Session(self.mf)
            return self.atr

    def power_off(self) -> None:
        with self._lock:
            self.session = Session(self.mf)

    def save_state(self) -> None:
        try:
            self.store.save(self.pin)
        except OSError as exc:  # a read-only state folder must not break the card
            log.warning("card state not saved: %s", exc)

    # commands ------------------------------------------------------------
    def process(self, apdu: bytes) -> bytes:
        """One command APDU in, response data + SW out. Never raises."""
        with self._lock:
            try:
                data, sw = self._process(bytes(apdu))
            except Exception:  # a bug in a handler must still answer like a card
                log.exception("card OS error")
                data, sw = b"", SW.NO_DIAGNOSIS
            return data + sw.to_bytes(2, "big")

    def _process(self, raw: bytes) -> Reply:
        if len(raw) < 4:
            return b"", SW.WRONG_LENGTH
        cla, ins = raw[0], raw[1]
        if cla in (0x01, 0x02, 0x03):                   # logical channels 1-3
            return b"", SW.CHANNEL_NOT_SUPPORTED
        if 0x04 <= cla <= 0x0F:                         # secure messaging bits set
            return b"", SW.SM_NOT_SUPPORTED
        if cla != CLA:
            return b"", SW.CLA_NOT_SUPPORTED
        handler = DISPATCH.get(ins)
        if handler is None:
            return b"", SW.INS_NOT_SUPPORTED
        try:
            cmd = CommandAPDU.from_bytes(raw)
        except CardError:
            return b"", SW.WRONG_LENGTH
        if ins != INS.GET_RESPONSE:
            self.session.pending = b""
        data, sw = handler(self, cmd)
        if ins == INS.GET_RESPONSE or sw != SW.OK or not data:
            return data, sw
        return self._shape(cmd, data)

    def _shape(self, cmd: CommandAPDU, data: bytes) -> Reply:
        """Apply Le and the quirks to a successful answer with data."""
        n = len(data)
        if self.quirks.get_response:
            self.session.pending = data
            return b"", more_data(n)
        le = cmd.le
        if self.quirks.exact_le and le != n and n <= 256:
            return b"", wrong_le(n)
        if le is not None and le < n:
            return b"", wrong_le(n)
        return data, SW.OK

    def get_response(self, cmd: CommandAPDU) -> Reply:
        if cmd.p1 or cmd.p2:
            return b"", SW.WRONG_P1P2
        if cmd.data:
            return b"", SW.WRONG_LENGTH
        pending = self.session.pending
        if not pending:
            return b"", SW.CONDITIONS
        le = cmd.le or 256
        if self.quirks.exact_le and le != min(len(pending), 256):
            return b"", wrong_le(min(len(pending), 256))
        if le > len(pending):
            return b"", wrong_le(len(pending))
        chunk, rest = pending[:le], pending[le:]
        self.session.pending = rest
        if rest:
            return chunk, more_data(min(len(rest), 256))
        return chunk, SW.OK


DISPATCH: dict[int, Handler] = {}


def register(ins: int) -> Callable[[Handler], Handler]:
    """Add a handler to the INS dispatch table."""

    def deco(fn: Handler) -> Handler:
        DISPATCH[ins] = fn
        return fn

    return deco


register(INS.GET_RESPONSE)(VirtualCard.get_response)
