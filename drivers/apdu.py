"""ISO 7816-4 command and response APDUs: encode, decode, and the exchange rules.

`exchange()` is where the transport-independent rules live: `61 xx` is followed
by GET RESPONSE, `6C xx` by a resend with Le = xx. The trace redacts the data
of VERIFY and CHANGE PIN so a PIN never reaches a log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drivers.errors import BAD_APDU, MALFORMED, CardError
from drivers.iso7816 import CLA, INS, SECRET_INS, SW, SW1

if TYPE_CHECKING:
    from drivers.reader import Reader

log = logging.getLogger("cashier.apdu")


@dataclass(frozen=True)
class CommandAPDU:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no Le; 0 in short form means 256 (or "all")
    extended: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            v = getattr(self, name)
            if not 0 <= v <= 0xFF:
                raise CardError(BAD_APDU, f"{name}={v} out of range")
        if len(self.data) > 65535:
            raise CardError(BAD_APDU, "data longer than 65535 bytes")
        if self.le is not None and not 0 <= self.le <= 65536:
            raise CardError(BAD_APDU, f"Le={self.le} out of range")

    @property
    def needs_extended(self) -> bool:
        return self.extended or len(self.data) > 255 or (self.le is not None and self.le > 256)

    def to_bytes(self) -> bytes:
        head = bytes((self.cla, self.ins, self.p1, self.p2))
        if not self.needs_extended:
            body = b""
            if self.data:
                body += bytes((len(self.data),)) + self.data
            if self.le is not None:
                body += bytes((self.le & 0xFF,))  # 256 -> 00
            return head + body
        body = b""
        if self.data:
            body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
        if self.le is not None:
            le = (self.le & 0xFFFF).to_bytes(2, "big")  # 65536 -> 0000
            body += le if self.data else b"\x00" + le
        return head + body

    @classmethod
    def from_bytes(cls, raw: bytes) -> "CommandAPDU":
        """Parse the four ISO cases, short and extended; raise CardError(bad_apdu)."""
        raw = bytes(raw)
        if len(raw) < 4:
            raise CardError(BAD_APDU, f"{len(raw)} bytes, a command has at least 4")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        n = len(body)
        if n == 0:
            return cls(cla, ins, p1, p2)
        if n == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        if body[0] != 0:
            lc = body[0]
            if n == 1 + lc:
                return cls(cla, ins, p1, p2, body[1:])
            if n == 2 + lc:
                return cls(cla, ins, p1, p2, body[1:1 + lc], le=body[-1] or 256)
            raise CardError(BAD_APDU, f"Lc={lc} but {n - 1} bytes follow")
        # extended: 00 then two bytes (a short Lc of 0 does not exist)
        if n < 3:
            raise CardError(BAD_APDU, "Lc of 0")
        if n == 3:
            le = int.from_bytes(body[1:3], "big") or 65536
            return cls(cla, ins, p1, p2, le=le, extended=True)
        lc = int.from_bytes(body[1:3], "big")
        rest = body[3:]
        if lc == 0:
            raise CardError(BAD_APDU, "extended Lc of 0")
        if len(rest) == lc:
            return cls(cla, ins, p1, p2, rest, extended=True)
        if len(rest) == lc + 2:
            le = int.from_bytes(rest[-2:], "big") or 65536
            return cls(cla, ins, p1, p2, rest[:lc], le=le, extended=True)
        raise CardError(BAD_APDU, f"extended Lc={lc} but {len(rest)} bytes follow")


@dataclass(frozen=True)
class ResponseAPDU:
    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW.OK

    def to_bytes(self) -> bytes:
        return bytes(self.data) + self.sw.to_bytes(2, "big")

    @classmethod
    def from_bytes(cls, raw: bytes) -> "ResponseAPDU":
        raw = bytes(raw)
        if len(raw) < 2:
            raise CardError(MALFORMED, f"response of {len(raw)} bytes has no status word")
        return cls(raw[:-2], int.from_bytes(raw[-2:], "big"))


def redacted_hex(apdu: bytes) -> str:
    """Hex of a command for a trace; VERIFY / CHANGE PIN data is never shown."""
    if len(apdu) > 5 and apdu[1] in SECRET_INS:
        return apdu[:5].hex(" ").upper() + " " + " ".join(["**"] * (len(apdu) - 5))
    return apdu.hex(" ").upper()


@dataclass
class Trace:
    """Optional APDU trace: list of (command hex, response hex), PINs redacted."""

    lines: list[str] = field(default_factory=list)

    def add(self, cmd: bytes, resp: ResponseAPDU) -> None:
        self.lines.append(f"> {redacted_hex(cmd)}")
        self.lines.append(f"< {resp.data.hex(' ').upper()} {resp.sw:04X}".replace("  ", " "))


def exchange(reader: "Reader", cmd: CommandAPDU, trace: Trace | None = None,
             max_get_response: int = 64) -> ResponseAPDU:
    """Send a command; follow 61xx with GET RESPONSE and 6Cxx with a resend."""
    raw = cmd.to_bytes()
    resp = _send(reader, raw, trace)
    if resp.sw1 == SW1.WRONG_LE:
        raw = CommandAPDU(cmd.cla, cmd.ins, cmd.p1, cmd.p2, cmd.data, le=resp.sw2 or 256).to_bytes()
        resp = _send(reader, raw, trace)
    data = bytearray(resp.data)
    rounds = 0
    while resp.sw1 == SW1.MORE_DATA:
        rounds += 1
        if rounds > max_get_response:
            raise CardError(MALFORMED, "card keeps answering 61xx")
        get = _get_response(cmd.cla, resp.sw2)
        resp = _send(reader, get, trace)
        if resp.sw1 == SW1.WRONG_LE:  # GET RESPONSE with wrong Le
            get = _get_response(cmd.cla, resp.sw2)
            resp = _send(reader, get, trace)
        data += resp.data
    return ResponseAPDU(bytes(data), resp.sw)


def _get_response(cla: int, sw2: int) -> bytes:
    """GET RESPONSE on the command's logical channel (the low two bits of its CLA), Le = SW2 (00 = 256)."""
    return CommandAPDU(CLA | (cla & 0x03), INS.GET_RESPONSE, 0x00, 0x00, le=sw2 or 256).to_bytes()


def _send(reader: "Reader", raw: bytes, trace: Trace | None) -> ResponseAPDU:
    data, sw = reader.transmit(raw)
    resp = ResponseAPDU(bytes(data), sw)
    if trace is not None:
        trace.add(raw, resp)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("> %s", redacted_hex(raw))
        log.debug("< %s %04X", resp.data.hex().upper(), resp.sw)
    return resp
