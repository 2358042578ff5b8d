"""Text that reaches a screen, a slip or the database: clean characters and a bounded length.

A name or code may not hold control characters (ESC would drive the cashier's terminal), invisible
format characters (bidi overrides reorder what the cashier reads; zero-width ones hide), line
separators or lone surrogates (they cannot be stored as UTF-8). The limits, in characters:

- names (item, person, region, hospital): MAX_NAME = 100
- codes (item code, category): MAX_CODE = 50
- request ids (`cashier settle --request-id`): 1 to MAX_REQUEST_ID = 64 visible ASCII characters
  (`!` to `~`: no spaces), so a retry key survives any shell, log or file name.
"""

from __future__ import annotations

import re

MAX_NAME = 100
MAX_CODE = 50
MAX_REQUEST_ID = 64

# C0 and C1 controls, DEL, soft hyphen, Arabic letter mark, zero-width and bidi marks, line and paragraph
# separators, bidi embeddings/overrides/isolates, invisible operators, BOM, interlinear annotation, surrogates
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
                    "\ufff9-\ufffb\ud800-\udfff]")
_REQUEST_ID = re.compile(rf"[!-~]{{1,{MAX_REQUEST_ID}}}")


def shown(value: object, limit: int = 40) -> str:
    """A value as a message may quote it: repr (escapes every control and lone surrogate), cut short;
    a huge number by its size (turning a 5,000-digit int into text raises)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + "..."


def printable(text: object) -> str:
    """Text (a path, a name) with every character a screen must not get written as an escape (\\x1b)."""
    return UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


def unsafe_char(value: str) -> str | None:
    """The first character a screen must not get (as U+XXXX), or None when the text is clean."""
    found = UNSAFE.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def text_problem(value: object, max_len: int, *, required: bool = True) -> tuple[str, str] | None:
    """Why a name or code is refused, (English, Chinese); None when it is fine. Leading and trailing
    spaces do not count towards the length (callers strip them)."""
    if not isinstance(value, str):
        return f"must be text, not {shown(value)}", f"必须是文字(收到 {shown(value)})"
    bad = unsafe_char(value)
    if bad is not None:
        return (f"must not contain control or invisible characters ({bad}): {shown(value)}",
                f"不能含控制字符或不可见字符({bad})")
    stripped = value.strip()
    if required and not stripped:
        return "must not be empty", "不能为空"
    if len(stripped) > max_len:
        return (f"is too long: {len(stripped)} characters, at most {max_len}",
                f"过长:{len(stripped)}个字符,最多{max_len}个")
    return None


def request_id_problem(value: object) -> tuple[str, str] | None:
    """Why a request id is refused, (English, Chinese); None when it is 1-64 visible ASCII characters."""
    if isinstance(value, str) and _REQUEST_ID.fullmatch(value):
        return None
    return (f"a request id is 1 to {MAX_REQUEST_ID} visible ASCII characters (letters, digits, - _ . and the "
            f"like; no spaces), not {shown(value)}",
            f"请求号应为1至{MAX_REQUEST_ID}个可见ASCII字符(字母、数字、- _ . 等,不含空格)")
