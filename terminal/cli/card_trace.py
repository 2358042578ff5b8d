"""`cashier card ... --trace`: the APDUs with PIN data redacted, and who the holder is hidden too (imported only
when a card command runs: every `cashier` start builds the whole parser)."""

from __future__ import annotations

from drivers.apdu import ResponseAPDU, Trace, redacted_hex
from drivers.ssse import EF06, T_CERTNO, T_NAME, T_NAME_EXT

# EF06 records whose answers name the holder: ID number (first 6 and last 4 kept), name, name extension
_HOLDER_TAGS = (T_CERTNO, T_NAME, T_NAME_EXT)


class HolderRedactingTrace(Trace):
    """A trace that also hides who the holder is: in an answer from EF06 holding the ID number, the
    number is masked as on screen (first 6 + last 4 kept); one holding the name shows none of it."""

    def __init__(self) -> None:
        super().__init__()
        self.in_ef06 = False

    def add(self, cmd: bytes, resp: ResponseAPDU) -> None:
        if len(cmd) >= 7 and cmd[1] == 0xA4:          # SELECT: EF06 by its file id, or anything else
            self.in_ef06 = cmd[2] == 0x02 and cmd[5:7] == EF06.to_bytes(2, "big")
        elif len(cmd) >= 4 and cmd[1] == 0xA4:
            self.in_ef06 = False
        data = resp.data
        if self.in_ef06 and cmd[1:2] in (b"\xB2", b"\xC0") and len(data) >= 2 and data[0] in _HOLDER_TAGS:
            self.lines.append(f"> {redacted_hex(cmd)}")
            self.lines.append(f"< {_redacted_record(data)} {resp.sw:04X}")
        else:
            super().add(cmd, resp)


def _redacted_record(data: bytes) -> str:
    """tag, length, value as hex: an ID number keeps its first 6 and last 4 characters, a name nothing."""
    value = range(2, len(data))
    hidden = range(8, max(8, len(data) - 4)) if data[0] == T_CERTNO else value
    return " ".join("**" if i in hidden else f"{b:02X}" for i, b in enumerate(data))
