"""GET CHALLENGE, EXTERNAL / INTERNAL AUTHENTICATE, VERIFY and CHANGE PIN of the social security card."""

from __future__ import annotations

import hmac
import os

from drivers import codecs
from drivers.apdu import CommandAPDU
from drivers.errors import CardError
from drivers.iso7816 import INS, SW, tries_left_sw
from drivers.psam import external_cryptogram, internal_answer
from emulator.card_os.card import Reply, VirtualCard, register
from emulator.state import PinState

EXTERNAL_KEY_ID = 0x0A
PIN_REFERENCES = (0x00, 0x80)  # global PIN, specific PIN: both mean the card's one PIN


@register(INS.GET_CHALLENGE)
def get_challenge(card: VirtualCard, cmd: CommandAPDU) -> Reply:
    if cmd.p1 or cmd.p2:
        return b"", SW.WRONG_P1P2
    if cmd.data or cmd.le not in (4, 8):
        return b"", SW.WRONG_LENGTH
    card.session.challenge = os.urandom(cmd.le)
    return card.session.challenge, SW.OK


@register(INS.EXTERNAL_AUTHENTICATE)
def external_authenticate(card: VirtualCard, cmd: CommandAPDU) -> Reply:
    s = card.session
    challenge, s.challenge = s.challenge, None  # a challenge is good for one try only
    if card.keys.external is None:
        return b"", SW.INS_NOT_SUPPORTED          # an older card: no key 0A
    if cmd.p1 != 0x00:
        return b"", SW.WRONG_P1P2
    if cmd.p2 != EXTERNAL_KEY_ID:
        return b"", SW.REF_NOT_FOUND
    if len(cmd.data) != 16:
        return b"", SW.WRONG_LENGTH
    if challenge is None:
        return b"", SW.CONDITIONS
    expected = external_cryptogram(card.keys.external, challenge)
    if not hmac.compare_digest(expected, cmd.data):
        s.authenticated = False
        return b"", SW.AUTH_FAILED
    s.authenticated = True
    return b"", SW.OK


@register(INS.INTERNAL_AUTHENTICATE)
def internal_authenticate(card: VirtualCard, cmd: CommandAPDU) -> Reply:
    if card.keys.internal is None:
        return b"", SW.INS_NOT_SUPPORTED
    if cmd.p1 or cmd.p2:
        return b"", SW.WRONG_P1P2
    if not cmd.data or len(cmd.data) % 16 or len(cmd.data) > 64:
        return b"", SW.WRONG_LENGTH
    return internal_answer(card.keys.internal, cmd.data), SW.OK


def _pin_digits(block: bytes) -> str | None:
    """Packed BCD PIN, F-padded when odd, 4-16 digits (exactly `codecs.pin_block`); None when malformed."""
    try:
        pin = codecs.bcd_digits(block, pad_f=True)
        return pin if codecs.pin_block(pin) == block else None
    except CardError:
        return None


def _counted(state: PinState, pin: str) -> int:
    """Compare with the PIN in `state`, counting the try in it; the SW of a wrong or blocked PIN, or OK."""
    if state.blocked:
        return SW.PIN_BLOCKED
    if state.matches(pin):
        state.tries_left = state.max_tries
        return SW.OK
    state.tries_left -= 1
    return SW.PIN_BLOCKED if state.blocked else tries_left_sw(state.tries_left)


def _check_pin(card: VirtualCard, pin: str, new_pin: str | None = None) -> int:
    """VERIFY (or, with new_pin, CHANGE PIN) as one read-modify-write of the card's saved state, so tries
    made at the same moment by other processes playing this card are all counted: never more wrong
    answers than the card allows."""
    def attempt(state: PinState) -> int:
        sw = _counted(state, pin)
        if sw == SW.OK and new_pin is not None:
            state.set_pin(new_pin)
        return sw
    card.pin, sw = card.store.update(card.pin, attempt)
    return sw


@register(INS.VERIFY)
def verify(card: VirtualCard, cmd: CommandAPDU) -> Reply:
    if cmd.p1 != 0x00 or cmd.p2 not in PIN_REFERENCES:
        return b"", SW.WRONG_P1P2
    if not cmd.data:                              # no data: how many tries are left (as saved now)
        card.pin = card.store.load(card.card_sn) or card.pin
        if card.pin.blocked:
            return b"", SW.PIN_BLOCKED
        return b"", tries_left_sw(card.pin.tries_left)
    pin = _pin_digits(cmd.data)
    if pin is None:
        return b"", SW.WRONG_DATA
    return b"", _check_pin(card, pin)


@register(INS.CHANGE_REFERENCE_DATA)
def change_pin(card: VirtualCard, cmd: CommandAPDU) -> Reply:
    if cmd.p1 != 0x00 or cmd.p2 not in PIN_REFERENCES:
        return b"", SW.WRONG_P1P2
    old_block, sep, new_block = cmd.data.partition(b"\xFF")
    old, new = _pin_digits(old_block), _pin_digits(new_block)
    if not sep or old is None or new is None:
        return b"", SW.WRONG_LENGTH if not cmd.data else SW.WRONG_DATA
    return b"", _check_pin(card, old, new_pin=new)
