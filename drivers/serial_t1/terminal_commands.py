"""CT-BCS-style terminal commands (CLA 20) sent in I-blocks to NAD 12 (the terminal itself).

Builders for the host, parsers for the answers, and the terminal's own status words both sides
share (the ISO 7816-4 ones, 90 00 and the rest, are in `drivers.iso7816`).
The PERFORM VERIFICATION template is a VERIFY command header with no PIN in it: the
terminal's keypad supplies the PIN, which never crosses to the host.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import CARD_REMOVED, MALFORMED, NO_CARD, READER_ERROR, TIMEOUT, CardError
from drivers.iso7816 import CLA, INS, SW

CLA_CT = 0x20
INS_RESET_CT = 0x11
INS_REQUEST_ICC = 0x12
INS_GET_STATUS = 0x13
INS_EJECT_ICC = 0x15
INS_PERFORM_VERIFICATION = 0x18

SW_ICC_ASYNC = 0x9001      # REQUEST ICC: card powered, ATR follows
SW_NO_CARD_IN_TIME = 0x6200
SW_NO_CARD = 0x64A1        # a card APDU (or verification) with no card in the slot
SW_NOT_POWERED = 0x64A2    # a card APDU to a card that is not powered
SW_KEYPAD_TIMEOUT = 0x6400  # nobody typed a PIN in time
SW_KEYPAD_CANCEL = 0x6401   # the patient pressed cancel
SW_WRONG_PARAMS = 0x6A00

#: GET STATUS ss values
STATUS_NO_CARD, STATUS_PRESENT, STATUS_POWERED = 0x00, 0x01, 0x05

#: tag of the command-to-perform data object in PERFORM VERIFICATION
TAG_COMMAND = 0x52


def reset_ct() -> bytes:
    return bytes((CLA_CT, INS_RESET_CT, 0x00, 0x00))


def request_icc(wait_s: int = 0) -> bytes:
    """REQUEST ICC `20 12 01 01 [01 tt]`: power the card, waiting up to tt seconds for one."""
    cmd = bytes((CLA_CT, INS_REQUEST_ICC, 0x01, 0x01))
    if wait_s:
        cmd += bytes((0x01, max(1, min(255, int(wait_s)))))
    return cmd


def get_status() -> bytes:
    return bytes((CLA_CT, INS_GET_STATUS, 0x00, 0x80))


def eject_icc() -> bytes:
    return bytes((CLA_CT, INS_EJECT_ICC, 0x01, 0x00))


def perform_verification(p2: int = 0x00, timeout_s: int = 30) -> bytes:
    """`20 18 01 00 Lc 52 05 00 20 00 P2 tt`: VERIFY header for the card and the keypad wait (s)."""
    template = bytes((TAG_COMMAND, 0x05, CLA, INS.VERIFY, 0x00, p2 & 0xFF, max(1, min(255, int(timeout_s)))))
    return bytes((CLA_CT, INS_PERFORM_VERIFICATION, 0x01, 0x00, len(template))) + template


@dataclass(frozen=True)
class VerifyTemplate:
    cla: int
    ins: int
    p1: int
    p2: int
    timeout_s: int


def parse_verification(data: bytes) -> VerifyTemplate:
    """The terminal's view of PERFORM VERIFICATION's data; CardError(MALFORMED) if it is not one."""
    if len(data) < 6 or data[0] != TAG_COMMAND or data[1] + 2 > len(data) or data[1] < 4:
        raise CardError(MALFORMED, "PERFORM VERIFICATION needs a 52 template with a VERIFY header")
    body = data[2:2 + data[1]]
    timeout = body[4] if len(body) > 4 else 30
    return VerifyTemplate(body[0], body[1], body[2], body[3], timeout)


def split_sw(answer: bytes, what: str) -> tuple[bytes, int]:
    if len(answer) < 2:
        raise CardError(MALFORMED, f"{what}: answer of {len(answer)} bytes has no status word")
    return answer[:-2], int.from_bytes(answer[-2:], "big")


def parse_status(answer: bytes) -> int:
    """GET STATUS → `80 01 ss 90 00`; returns ss."""
    data, sw = split_sw(answer, "GET STATUS")
    if sw != SW.OK or len(data) != 3 or data[0] != 0x80 or data[1] != 0x01:
        raise CardError(MALFORMED, f"GET STATUS answered {answer.hex(' ').upper()}")
    return data[2]


def parse_request_icc(answer: bytes) -> bytes:
    """REQUEST ICC → ATR + `90 01` (or `90 00`); `62 00` = no card in time."""
    data, sw = split_sw(answer, "REQUEST ICC")
    if sw in (SW_ICC_ASYNC, SW.OK) and data:
        return data
    if sw in (SW_NO_CARD_IN_TIME, SW_NO_CARD):
        raise CardError(NO_CARD)
    raise CardError(READER_ERROR, f"REQUEST ICC answered {sw:04X}")


def terminal_error(sw: int, during: str) -> CardError | None:
    """A terminal status word (from NAD 21) that stands for a failure, as a CardError."""
    if sw == SW_NO_CARD:
        return CardError(CARD_REMOVED, during)
    if sw == SW_NOT_POWERED:
        return CardError(NO_CARD, f"{during}: the card is not powered")
    if sw == SW_KEYPAD_TIMEOUT:
        return CardError(TIMEOUT, "nobody typed a PIN on the terminal's keypad in time")
    if sw == SW_KEYPAD_CANCEL:
        return CardError(TIMEOUT, "PIN entry was cancelled on the keypad")
    return None
