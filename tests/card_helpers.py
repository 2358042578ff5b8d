"""Helpers shared by the card tests: raw APDUs by hex, profile expectations, the test PSAM."""

from __future__ import annotations

import json
from pathlib import Path

from drivers.psam import VirtualPSAM
from drivers.reader import Reader

PROFILES = Path(__file__).resolve().parent.parent / "emulator" / "profiles"
PROFILE_IDS = sorted(p.stem for p in PROFILES.glob("*.json"))
SELECT_SSSE = "00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF"
EXTERNAL_KEY = "0123456789ABCDEFFEDCBA9876543210"
INTERNAL_KEY = "00112233445566778899AABBCCDDEEFF"
#: card habits that are not this project's card (load_card options): the drivers must read them all
QUIRKS = [
    {"select_fci": True},
    {"get_response": True},
    {"exact_le": True},
    {"name_padding": 0x20},
    {"select_fci": True, "get_response": True, "exact_le": True, "name_padding": 0x20},
]


def psam(external: str = EXTERNAL_KEY, internal: str | None = INTERNAL_KEY) -> VirtualPSAM:
    return VirtualPSAM.from_hex(external, internal)


def tx(reader: Reader, apdu_hex: str) -> tuple[bytes, int]:
    """Send one APDU given as hex (spaces allowed); connect first if needed."""
    if not reader.atr:
        reader.connect()
    data, sw = reader.transmit(bytes.fromhex(apdu_hex.replace(" ", "")))
    return bytes(data), sw


def profile(pid: str) -> dict:
    return json.loads((PROFILES / f"{pid}.json").read_text(encoding="utf-8"))


def expected_json(pid: str) -> tuple[dict, dict]:
    """(card, holder) exactly as `card read --json` must print them for a profile."""
    p = profile(pid)
    holder = dict(p["holder"])
    holder["name_ext"] = holder["name_ext"] or ""
    return dict(p["card"]), holder
