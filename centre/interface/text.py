"""Text the centre stores and hands to windows: clean characters and a bounded length.

A name or code may not hold control characters (ESC would drive a cashier's terminal), invisible format
characters (bidi overrides reorder what the cashier reads; zero-width ones hide), line separators or lone
surrogates (they cannot be stored as UTF-8). Limits, in characters: names MAX_NAME, codes MAX_CODE.
"""

from __future__ import annotations

import re

MAX_NAME = 100
MAX_CODE = 50

# C0 and C1 controls, DEL, soft hyphen, Arabic letter mark, zero-width and bidi marks, line and paragraph
# separators, bidi embeddings/overrides/isolates, invisible operators, BOM, interlinear annotation, surrogates
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
                    "\ufff9-\ufffb\ud800-\udfff]")


def shown(value: object, limit: int = 40) -> str:
    """A value as a message may quote it: repr (escapes every control and lone surrogate), cut short;
    a huge number by its size (turning a 5,000-digit int into text raises)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    text = str(value) if type(value).__name__ == "Decimal" else repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + "..."


def printable(text: object) -> str:
    """Text (a path, a name) with every character a screen must not get written as an escape (\\x1b)."""
    return UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


def text_problem(value: object, max_len: int, *, required: bool = True) -> str | None:
    """Why a name is refused (English), or None. Leading and trailing spaces do not count to the length."""
    if not isinstance(value, str):
        return f"must be text, not {shown(value)}"
    found = UNSAFE.search(value)
    if found is not None:
        return f"must not contain control or invisible characters (U+{ord(found.group()):04X}): {shown(value)}"
    stripped = value.strip()
    if required and not stripped:
        return "is missing"
    if len(stripped) > max_len:
        return f"is too long: {len(stripped)} characters, at most {max_len}"
    return None
