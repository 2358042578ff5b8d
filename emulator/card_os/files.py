"""The card's file tree (ISO 7816-4): an MF holding DFs and EFs, record and transparent EFs.

Plain data: the card OS walks it; `emulator.ssse_layout` builds it from a profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CardFile:
    fid: int                       # file identifier, e.g. 0xEF05
    parent: "DF | None" = field(default=None, repr=False, compare=False)


@dataclass
class RecordEF(CardFile):
    """A linear record file; each record is `tag(1) len(1) value` on the SSSE card."""

    sfi: int = 0
    records: list[bytes] = field(default_factory=list)
    #: True: reading answers 69 82 until the card's external authentication is done
    needs_external_auth: bool = False
    #: with needs_external_auth: these tags read as blanks (00 bytes) instead of 69 82, the rest reads
    blank_tags: frozenset[int] = frozenset()

    def record(self, number: int) -> bytes | None:
        """Record by its 1-based number."""
        if 1 <= number <= len(self.records):
            return self.records[number - 1]
        return None

    def find_tag(self, tag: int, start: int = 0, backwards: bool = False) -> int | None:
        """1-based number of the first record (from index `start`) whose first byte is `tag`."""
        order = range(start, -1, -1) if backwards else range(start, len(self.records))
        for i in order:
            if 0 <= i < len(self.records) and self.records[i][:1] == bytes((tag,)):
                return i + 1
        return None


@dataclass
class TransparentEF(CardFile):
    sfi: int = 0
    content: bytes = b""
    needs_external_auth: bool = False


EF = RecordEF | TransparentEF


@dataclass
class DF(CardFile):
    """A dedicated file (the MF is the DF with fid 3F00); `name` is its DF name (AID)."""

    name: bytes = b""
    children: list[CardFile] = field(default_factory=list)

    def add(self, child: CardFile) -> CardFile:
        child.parent = self
        self.children.append(child)
        return child

    def child(self, fid: int) -> CardFile | None:
        return next((c for c in self.children if c.fid == fid), None)

    def ef_by_sfi(self, sfi: int) -> EF | None:
        return next((c for c in self.children
                     if isinstance(c, (RecordEF, TransparentEF)) and c.sfi == sfi), None)

    def walk(self):
        """This DF and every file under it, depth first."""
        yield self
        for c in self.children:
            if isinstance(c, DF):
                yield from c.walk()
            else:
                yield c

    def df_by_name(self, name: bytes) -> "DF | None":
        """The first DF whose name starts with `name` (ISO allows a right-truncated name)."""
        if not name:
            return None
        return next((f for f in self.walk() if isinstance(f, DF) and f.name and f.name.startswith(name)), None)


MF_FID = 0x3F00


def make_mf() -> DF:
    return DF(MF_FID)
