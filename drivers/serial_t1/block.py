"""The block codec of the serial line: `NAD PCB LEN INF… LRC`.

NAD = (destination << 4) | source; LEN 0–254; LRC = XOR of every preceding byte.
PCB: I-block `0 N M 00000`, R-block `1 0 0 N 00 EE`, S-block `11 R 000 TT`
(R = 1 for a response; TT 00 RESYNCH, 01 IFS, 10 ABORT, 11 WTX).
A decode error is a `BlockError` (a `CardError(MALFORMED)`), never a wrong block.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import reduce
from operator import xor

from drivers.errors import MALFORMED, CardError

MAX_INF = 254

# NAD addresses: 0 card slot 1, 1 the terminal, 2 the host
CARD, TERMINAL, HOST = 0, 1, 2


def nad(dest: int, src: int) -> int:
    return (dest << 4) | src


NAD_HOST_TO_TERMINAL = nad(TERMINAL, HOST)  # 12
NAD_TERMINAL_TO_HOST = nad(HOST, TERMINAL)  # 21
NAD_HOST_TO_CARD = nad(CARD, HOST)          # 02
NAD_CARD_TO_HOST = nad(HOST, CARD)          # 20


def reply_nad(value: int) -> int:
    """The NAD of an answer: source and destination swapped."""
    return ((value & 0x0F) << 4) | (value >> 4)


class Kind(Enum):
    I = "I"  # noqa: E741 - I, R and S are the block types' names in ISO 7816-3
    R = "R"
    S = "S"


class SType(Enum):
    RESYNCH = 0
    IFS = 1
    ABORT = 2
    WTX = 3


# R-block error bits EE
R_OK, R_LRC, R_OTHER = 0b00, 0b01, 0b10


class BlockError(CardError):
    """Bytes that are not a valid block (bad LRC, bad PCB, bad length)."""

    def __init__(self, detail: str, lrc: bool = False) -> None:
        super().__init__(MALFORMED, f"serial block: {detail}")
        self.lrc = lrc


def lrc(data: bytes) -> int:
    return reduce(xor, data, 0)


@dataclass(frozen=True)
class Block:
    kind: Kind
    nad: int = NAD_HOST_TO_TERMINAL
    inf: bytes = b""
    seq: int = 0          # I: N(S); R: N(R)
    more: bool = False    # I: M (chaining)
    error: int = R_OK     # R: EE
    stype: SType = SType.RESYNCH
    response: bool = False  # S: request (False) or response (True)

    def __post_init__(self) -> None:
        if not 0 <= self.nad <= 0xFF:
            raise ValueError(f"NAD {self.nad} out of range")
        if len(self.inf) > MAX_INF:
            raise ValueError(f"INF of {len(self.inf)} bytes; a block carries at most {MAX_INF}")
        if self.seq not in (0, 1):
            raise ValueError("sequence bit is 0 or 1")

    @property
    def pcb(self) -> int:
        if self.kind is Kind.I:
            return (self.seq << 6) | (0x20 if self.more else 0)
        if self.kind is Kind.R:
            return 0x80 | (self.seq << 4) | (self.error & 0x03)
        return 0xC0 | (0x20 if self.response else 0) | self.stype.value

    def encode(self) -> bytes:
        head = bytes((self.nad, self.pcb, len(self.inf))) + bytes(self.inf)
        return head + bytes((lrc(head),))

    def describe(self) -> str:
        if self.kind is Kind.I:
            return f"I({self.seq},{'M' if self.more else '-'}) {len(self.inf)}B"
        if self.kind is Kind.R:
            return f"R({self.seq},EE={self.error})"
        return f"S({self.stype.name} {'response' if self.response else 'request'})"


def i_block(nad_: int, seq: int, inf: bytes, more: bool = False) -> Block:
    return Block(Kind.I, nad_, bytes(inf), seq=seq, more=more)


def r_block(nad_: int, seq: int, error: int = R_OK) -> Block:
    return Block(Kind.R, nad_, seq=seq, error=error)


def s_block(nad_: int, stype: SType, response: bool = False, inf: bytes = b"") -> Block:
    return Block(Kind.S, nad_, bytes(inf), stype=stype, response=response)


def decode_pcb(pcb: int) -> dict:
    """Fields of a PCB; BlockError for a value no block type has."""
    if pcb & 0x80 == 0:
        if pcb & 0x1F:
            raise BlockError(f"I-block PCB {pcb:02X} has reserved bits set")
        return {"kind": Kind.I, "seq": (pcb >> 6) & 1, "more": bool(pcb & 0x20)}
    if pcb & 0xC0 == 0x80:
        if pcb & 0x2C or pcb & 0x03 == 0x03:
            raise BlockError(f"R-block PCB {pcb:02X} is not defined")
        return {"kind": Kind.R, "seq": (pcb >> 4) & 1, "error": pcb & 0x03}
    if pcb & 0x1C:
        raise BlockError(f"S-block PCB {pcb:02X} is not defined")
    return {"kind": Kind.S, "stype": SType(pcb & 0x03), "response": bool(pcb & 0x20)}


def decode(raw: bytes) -> Block:
    """One whole block from its bytes; BlockError if they are not exactly one valid block."""
    raw = bytes(raw)
    if len(raw) < 4:
        raise BlockError(f"{len(raw)} bytes, a block has at least 4")
    length = raw[2]
    if length > MAX_INF:
        raise BlockError(f"LEN {length} over {MAX_INF}")
    if len(raw) != 4 + length:
        raise BlockError(f"LEN {length} but {len(raw) - 4} bytes of INF")
    if lrc(raw[:-1]) != raw[-1]:
        raise BlockError(f"LRC {raw[-1]:02X}, expected {lrc(raw[:-1]):02X}", lrc=True)
    fields = decode_pcb(raw[1])
    inf = raw[3:-1]
    if fields["kind"] is Kind.R and inf:
        raise BlockError("an R-block carries no INF")
    if fields["kind"] is Kind.S:
        if fields["stype"] in (SType.RESYNCH, SType.ABORT) and inf:
            raise BlockError(f"S({fields['stype'].name}) carries no INF")
        if fields["stype"] in (SType.IFS, SType.WTX) and len(inf) != 1:
            raise BlockError(f"S({fields['stype'].name}) carries one byte")
    return Block(nad=raw[0], inf=inf, **fields)


def split_inf(data: bytes, size: int = MAX_INF) -> list[bytes]:
    """Chunks for chaining; an empty message is one empty block."""
    if not data:
        return [b""]
    return [bytes(data[i:i + size]) for i in range(0, len(data), size)]
