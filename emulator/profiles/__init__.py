"""The bundled card profiles (one JSON file per person of the cast) and `load_card`.

A profile id is a file name here without `.json`; a path to a JSON file laid
out the same way also works, so a card that is not in this repository can be
played. Every profile is checked (emulator.profiles.schema) before a card is
built from it: a malformed one is `CardError(bad_profile)` naming the field.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.errors import BAD_PROFILE, UNKNOWN_PROFILE, CardError
from emulator.card_os import Keys, Quirks, VirtualCard
from emulator.profiles.schema import problem, safe
from emulator.ssse_layout import build_tree
from emulator.state import PinState, StateStore

FOLDER = Path(__file__).resolve().parent
_ID = re.compile(r"[a-z0-9_]{1,64}")
MAX_PROFILE_BYTES = 1 << 20
_QUIRKS = set(Quirks.__dataclass_fields__)
_OPTIONS = _QUIRKS | {"needs_external_auth", "locked_reads_blank", "tries_left", "max_tries", "external_key", "internal_key", "atr"}


@dataclass(frozen=True)
class ProfileInfo:
    id: str
    name: str
    description: str
    version: str          # the card's spec version, e.g. "3.00"
    card_no: str = ""
    region: str = ""


def profile_path(profile_id: str) -> Path:
    """The JSON file of a profile; CardError(unknown_profile) if there is none."""
    if not isinstance(profile_id, str):
        raise CardError(UNKNOWN_PROFILE, safe(profile_id))
    if profile_id.endswith(".json") or "/" in profile_id:      # a card of one's own, by its file
        try:
            if Path(profile_id).is_file():
                return Path(profile_id)
        except (OSError, ValueError):  # a name too long for the file system, a NUL
            pass
        raise CardError(UNKNOWN_PROFILE, f"file not found: {safe(profile_id, 200)}")
    if not _ID.fullmatch(profile_id):
        raise CardError(UNKNOWN_PROFILE, safe(profile_id, 80))
    path = FOLDER / f"{profile_id}.json"
    if not path.is_file():
        raise CardError(UNKNOWN_PROFILE, f"{profile_id}; known: {', '.join(p.id for p in list_profiles())}")
    return path


class _NotAllowed(ValueError):
    """A number or constant a profile may not hold, met while parsing."""


def _number(text: str) -> Any:
    if len(text) > 40:
        raise _NotAllowed(f"a number of {len(text)} characters")
    return float(text) if any(c in text for c in ".eE") else int(text)


def _constant(name: str) -> Any:
    raise _NotAllowed(f"{name} is not allowed")


def read_profile(profile_id: str) -> dict[str, Any]:
    """The profile's JSON, checked; CardError(unknown_profile) when there is no such file, (bad_profile)
    naming the field when it cannot be played."""
    path = profile_path(profile_id)
    where = safe(str(path), 200)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise CardError(UNKNOWN_PROFILE, f"{where}: {exc.strerror or exc}") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise CardError(BAD_PROFILE, f"{where}: larger than {MAX_PROFILE_BYTES >> 20} MiB")
    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_int=_number, parse_float=_number,
                          parse_constant=_constant)
    except UnicodeDecodeError as exc:
        raise CardError(BAD_PROFILE, f"{where}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise CardError(BAD_PROFILE, f"{where}: not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and _NotAllowed
        raise CardError(BAD_PROFILE, f"{where}: not valid JSON: {safe(str(exc), 200)[1:-1]}") from None
    why = problem(data)
    if why is not None:
        raise CardError(BAD_PROFILE, f"{where}: {why}")
    data.setdefault("id", path.stem)
    return data


def list_profiles() -> list[ProfileInfo]:
    out = []
    for path in sorted(FOLDER.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append(ProfileInfo(
            id=data.get("id", path.stem), name=data["holder"]["name"],
            description=data.get("description", ""), version=data["card"]["version"],
            card_no=data["card"]["card_no"], region=data["card"]["card_sn"][:6]))
    return out


def _version_number(version: str) -> float:
    try:
        return float(version)
    except ValueError:
        return 0.0


def _key(hexkey: str | None) -> bytes | None:
    return bytes.fromhex(hexkey) if hexkey else None


def load_card(profile_id: str, state_dir: str | os.PathLike[str] | None = None, **options: Any) -> VirtualCard:
    """A fresh virtual card for a profile; its PIN state comes from the state folder when saved there.

    Options (override the profile): select_fci, get_response, exact_le, name_padding (card quirks),
    needs_external_auth, locked_reads_blank (EF06 blanks ID number and name instead of 69 82), tries_left, max_tries, external_key, internal_key (hex or None), atr (hex).
    """
    unknown = set(options) - _OPTIONS
    if unknown:
        raise TypeError(f"unknown card options: {', '.join(sorted(unknown))}")
    profile = read_profile(profile_id)
    security = dict(profile.get("security") or {})
    pin_cfg = {**(profile.get("pin") or {}), **{k: v for k, v in options.items() if k in ("max_tries", "tries_left")}}
    quirk_values = {**(profile.get("quirks") or {}), **{k: v for k, v in options.items() if k in _QUIRKS}}
    quirks = Quirks(**quirk_values)
    needs_auth = bool(options.get("needs_external_auth", security.get("needs_external_auth", False)))
    version = profile["card"]["version"]
    # key 0A exists on 3.0 cards (and any card that locks EF06); older cards answer 6D 00
    has_key = security.get("has_external_key", needs_auth or _version_number(version) >= 3.0)
    keys = Keys(
        external=_key(options.get("external_key", security.get("external_key"))) if has_key else None,
        internal=_key(options.get("internal_key", security.get("internal_key"))),
    )
    card_sn = profile["card"]["card_sn"].upper()
    store = StateStore(state_dir)
    saved = store.load(card_sn)
    reset = "tries_left" in options or "max_tries" in options
    if saved is None or reset:
        pin = PinState.fresh(card_sn, str(pin_cfg.get("initial", "123456")), int(pin_cfg.get("max_tries", 3)),
                             pin_cfg.get("tries_left"))
    else:
        pin = saved
    atr = bytes.fromhex(options.get("atr", profile.get("atr", "3B6D0000008C544CB386844116018593CA")))
    blank = bool(options.get("locked_reads_blank", security.get("locked_reads_blank", False)))
    mf = build_tree(profile, name_padding=quirks.name_padding, needs_external_auth=needs_auth,
                    locked_reads_blank=blank)
    card = VirtualCard(atr=atr, mf=mf, card_sn=card_sn, pin=pin, store=store, keys=keys,
                       quirks=quirks, profile_id=str(profile["id"]))
    if saved is None:                         # a first insertion: another process may be writing it too
        card.pin = store.create(pin)
    elif reset:                               # options that reset the counter: a deliberate overwrite
        card.save_state()
    return card


__all__ = ["load_card", "list_profiles", "profile_path", "read_profile", "ProfileInfo"]
