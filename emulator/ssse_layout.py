"""Build the SSSE card's file tree from a profile's data.

MF 3F00
 ├─ EF 2F01 (transparent, SFI 1): the card identification code, a copy for READ BINARY
 └─ DF SSSE, name "sx1.sh.社会保障"
     ├─ EF05 (SFI 5) card identification, record number = tag
     └─ EF06 (SFI 6) cardholder, positions 1-7 (tags 08 09 4E 0A 0B 0C 0D; a 1.0 card has no 4E)
"""

from __future__ import annotations

from typing import Any

from drivers import codecs
from drivers.tlv import TLV
from emulator.card_os.files import DF, RecordEF, TransparentEF, make_mf

#: the SSSE application's DF name, "sx1.sh.社会保障" in GBK - spelled out here,
#: not taken from the drivers, so a driver bug cannot hide behind the emulator
SSSE_DF_NAME = "sx1.sh.社会保障".encode("gbk")
SSSE_DF_FID = 0xDDF1
EF_DIR_FID = 0x2F01


def _rec(tag: int, value: bytes) -> bytes:
    return TLV(tag, value).to_bytes()


def _padded_text(value: str, length: int, pad: int) -> bytes:
    raw = codecs.encode_text(value, length)
    body = raw.rstrip(b"\x00")
    return body + bytes((pad,)) * (length - len(body))


def _bcd_region(digits: str) -> bytes:
    return codecs.digits_to_bcd(digits, 3)  # F-padded when shorter


def ef05_records(card: dict[str, Any]) -> list[bytes]:
    return [
        _rec(0x01, bytes.fromhex(card["card_sn"])),
        _rec(0x02, bytes.fromhex(card["card_type"])),
        _rec(0x03, card["version"].encode("ascii")),
        _rec(0x04, bytes.fromhex(card["issuer"])),
        _rec(0x05, codecs.date_to_bcd(card["issue_date"])),
        _rec(0x06, codecs.date_to_bcd(card["expiry_date"])),
        _rec(0x07, card["card_no"].encode("ascii")),
    ]


def ef06_records(holder: dict[str, Any], name_padding: int = 0x00) -> list[bytes]:
    records = [
        _rec(0x08, holder["certno"].encode("ascii")),
        _rec(0x09, _padded_text(holder["name"], 30, name_padding)),
    ]
    if holder.get("name_ext") is not None:  # null: a 1.0 card without the 4E record
        records.append(_rec(0x4E, _padded_text(holder["name_ext"], 20, name_padding)))
    records += [
        _rec(0x0A, holder["gend"].encode("ascii")),
        _rec(0x0B, codecs.digits_to_bcd(holder["naty"], 1)),
        _rec(0x0C, _bcd_region(holder["birthplace"])),
        _rec(0x0D, codecs.date_to_bcd(holder["brdy"])),
    ]
    return records


#: what a real 3.0 card blanks when read without external authentication: ID number (08) and name (09)
BLANKED_WHEN_LOCKED = frozenset({0x08, 0x09})


def build_tree(profile: dict[str, Any], name_padding: int = 0x00, needs_external_auth: bool = False,
               locked_reads_blank: bool = False) -> DF:
    """locked_reads_blank: EF06 answers ID number and name as blanks (not 69 82) until authenticated."""
    mf = make_mf()
    mf.add(TransparentEF(EF_DIR_FID, sfi=1, content=bytes.fromhex(profile["card"]["card_sn"])))
    ssse = mf.add(DF(SSSE_DF_FID, name=SSSE_DF_NAME))
    assert isinstance(ssse, DF)
    ssse.add(RecordEF(0xEF05, sfi=5, records=ef05_records(profile["card"])))
    ssse.add(RecordEF(0xEF06, sfi=6, records=ef06_records(profile["holder"], name_padding),
                      needs_external_auth=needs_external_auth,
                      blank_tags=BLANKED_WHEN_LOCKED if locked_reads_blank else frozenset()))
    return mf
