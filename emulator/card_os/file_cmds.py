"""SELECT, READ RECORD and READ BINARY over the file tree (ISO 7816-4 §11.1-11.3)."""

from __future__ import annotations

from drivers.apdu import CommandAPDU
from drivers.iso7816 import INS, SELECT_NO_DATA, SW, RecordMode, SelectBy
from drivers.tlv import TLV
from emulator.card_os.card import Reply, VirtualCard, register
from emulator.card_os.files import DF, EF, MF_FID, CardFile, RecordEF, TransparentEF

_P2_ALLOWED = (0x00, 0x04, 0x08, SELECT_NO_DATA)  # FCI, FCP, FMD, no data; first occurrence only


@register(INS.SELECT)
def select(card: VirtualCard, cmd: CommandAPDU) -> Reply:
    if cmd.p2 not in _P2_ALLOWED:
        return b"", SW.WRONG_P1P2
    s = card.session
    target: CardFile | None
    if cmd.p1 == SelectBy.DF_NAME:
        if not cmd.data:
            return b"", SW.WRONG_LENGTH
        target = card.mf.df_by_name(cmd.data)
    elif cmd.p1 in (SelectBy.FILE_ID, SelectBy.CHILD_DF, SelectBy.EF):
        if cmd.p1 == SelectBy.FILE_ID and not cmd.data:
            target = card.mf
        elif len(cmd.data) != 2:
            return b"", SW.WRONG_LENGTH
        else:
            target = _by_fid(s.current_df, int.from_bytes(cmd.data, "big"), cmd.p1, card.mf)
    elif cmd.p1 == SelectBy.PARENT:
        if cmd.data:
            return b"", SW.WRONG_LENGTH
        target = s.current_df.parent or card.mf
    elif cmd.p1 in (SelectBy.PATH_FROM_MF, SelectBy.PATH_FROM_DF):
        if not cmd.data or len(cmd.data) % 2:
            return b"", SW.WRONG_LENGTH
        target = _by_path(card.mf if cmd.p1 == SelectBy.PATH_FROM_MF else s.current_df, cmd.data)
    else:
        return b"", SW.WRONG_P1P2
    if target is None:
        return b"", SW.FILE_NOT_FOUND
    if isinstance(target, DF):
        if target is not s.current_df:
            s.authenticated = False  # leaving a DF loses its security state
        s.current_df, s.current_ef = target, None
    else:
        assert target.parent is not None
        s.current_df, s.current_ef = target.parent, target  # type: ignore[assignment]
    s.current_record = 0
    if not card.quirks.select_fci or cmd.p2 == SELECT_NO_DATA:
        return b"", SW.OK
    return _fci(target), SW.OK


def _by_fid(df: DF, fid: int, p1: int, mf: DF) -> CardFile | None:
    if fid == MF_FID:
        return mf if p1 == SelectBy.FILE_ID else None
    found = df.child(fid)
    if found is None and p1 == SelectBy.FILE_ID and df.parent is not None:
        found = df.parent.child(fid)  # a sibling of the current DF
    if found is None:
        return None
    if p1 == SelectBy.CHILD_DF and not isinstance(found, DF):
        return None
    if p1 == SelectBy.EF and isinstance(found, DF):
        return None
    return found


def _by_path(start: DF, path: bytes) -> CardFile | None:
    node: CardFile = start
    for i in range(0, len(path), 2):
        fid = int.from_bytes(path[i:i + 2], "big")
        if fid == MF_FID and i == 0 and start.parent is None:
            continue
        if not isinstance(node, DF):
            return None
        nxt = node.child(fid)
        if nxt is None:
            return None
        node = nxt
    return node


def _fci(f: CardFile) -> bytes:
    """A small FCI template: 6F { 84 DF name | 83 fid, 82 descriptor, 88 SFI }."""
    inner = []
    if isinstance(f, DF) and f.name:
        inner.append(TLV(0x84, f.name))
    inner.append(TLV(0x83, f.fid.to_bytes(2, "big")))
    if isinstance(f, DF):
        inner.append(TLV(0x82, b"\x38"))
    elif isinstance(f, (RecordEF, TransparentEF)):
        inner.append(TLV(0x82, b"\x02" if isinstance(f, RecordEF) else b"\x01"))
        if f.sfi:
            inner.append(TLV(0x88, bytes((f.sfi << 3,))))
    return TLV(0x6F, b"".join(t.to_bytes() for t in inner)).to_bytes()


def _ef_for(card: VirtualCard, sfi: int) -> tuple[EF | None, int]:
    """The EF a command addresses: by SFI (which then becomes current) or the current EF."""
    s = card.session
    if sfi == 0:
        return (s.current_ef, SW.OK) if s.current_ef is not None else (None, SW.NO_CURRENT_EF)
    ef = s.current_df.ef_by_sfi(sfi)
    if ef is None:
        return None, SW.FILE_NOT_FOUND
    if ef is not s.current_ef:
        s.current_ef, s.current_record = ef, 0
    return ef, SW.OK


@register(INS.READ_RECORD)
def read_record(card: VirtualCard, cmd: CommandAPDU) -> Reply:
    if cmd.data:
        return b"", SW.WRONG_LENGTH
    sfi, mode = cmd.p2 >> 3, cmd.p2 & 0x07
    if sfi == 0x1F:
        return b"", SW.WRONG_P1P2
    if mode in (RecordMode.NUMBER_TO_LAST, RecordMode.LAST_TO_NUMBER):
        return b"", SW.FUNC_NOT_SUPPORTED
    if mode == 0b111:                                    # reserved for future use
        return b"", SW.WRONG_P1P2
    ef, sw = _ef_for(card, sfi)
    if ef is None:
        return b"", sw
    if not isinstance(ef, RecordEF):
        return b"", SW.INCOMPATIBLE_FILE
    s = card.session
    locked = ef.needs_external_auth and not s.authenticated
    if locked and not ef.blank_tags:
        return b"", SW.SECURITY
    if mode == RecordMode.NUMBER:                        # 0 = the current record
        number = cmd.p1 or s.current_record
    elif cmd.p1 == 0:
        return b"", SW.WRONG_P1P2
    elif mode == RecordMode.FIRST_WITH_ID:
        number = ef.find_tag(cmd.p1) or 0
    elif mode == RecordMode.LAST_WITH_ID:
        number = ef.find_tag(cmd.p1, len(ef.records) - 1, backwards=True) or 0
    elif mode == RecordMode.NEXT_WITH_ID:
        number = ef.find_tag(cmd.p1, s.current_record) or 0
    else:                                                # PREVIOUS_WITH_ID
        before = ef.find_tag(cmd.p1, s.current_record - 2, backwards=True) if s.current_record > 1 else None
        number = before or 0
    record = ef.record(number)
    if record is None:
        return b"", SW.RECORD_NOT_FOUND
    s.current_record = number
    if locked and record[0] in ef.blank_tags:
        return record[:2] + bytes(len(record) - 2), SW.OK  # a 3.0 card unauthenticated: empty value
    return record, SW.OK


@register(INS.READ_BINARY)
def read_binary(card: VirtualCard, cmd: CommandAPDU) -> Reply:
    if cmd.data:
        return b"", SW.WRONG_LENGTH
    if cmd.p1 & 0x80:
        if cmd.p1 & 0x60:
            return b"", SW.WRONG_P1P2
        sfi, offset = cmd.p1 & 0x1F, cmd.p2
        if sfi == 0:
            return b"", SW.WRONG_P1P2
    else:
        sfi, offset = 0, (cmd.p1 << 8) | cmd.p2
    ef, sw = _ef_for(card, sfi)
    if ef is None:
        return b"", sw
    if not isinstance(ef, TransparentEF):
        return b"", SW.INCOMPATIBLE_FILE
    if ef.needs_external_auth and not card.session.authenticated:
        return b"", SW.SECURITY
    if offset > len(ef.content) or (offset == len(ef.content) and ef.content):
        return b"", SW.OFFSET_OUTSIDE
    want = cmd.le if cmd.le is not None else 256
    chunk = ef.content[offset:offset + want]
    if len(chunk) < want and cmd.le not in (None, 256):
        return chunk, SW.END_OF_FILE
    return chunk, SW.OK
