"""How every command reports: text or one JSON object; errors as {"error": {...}}; exit codes 0/1/2."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, Callable

from terminal.errors import UsageError, describe

Handler = Callable[[argparse.Namespace], int | None]

_PIN = re.compile(r"[0-9]{4,16}")


def pin_arg(value: str | None) -> str | None:
    """--pin: 4 to 16 ASCII digits (never echoed back); None = the reader's keypad."""
    if value is not None and not _PIN.fullmatch(value):
        raise UsageError("pin_invalid", "--pin must be 4 to 16 digits (0-9); omit it to type the PIN on the reader's "
                         "keypad", "--pin 应为4至16位数字;不填则在读卡器键盘上输入")
    return value


def emit(args: argparse.Namespace, obj: Any, text: str | None = None) -> int:
    """Print the result: JSON when --json, else the text (or pretty JSON)."""
    if getattr(args, "json", False) or text is None:
        print(json.dumps(obj, ensure_ascii=False, indent=None if getattr(args, "json", False) else 2))
    else:
        print(text)
    return 0


def fail(args: argparse.Namespace, code: str, message: str, exit_code: int = 1) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False))
    else:
        print(f"cashier: {message}", file=sys.stderr)
    return exit_code


def run_guarded(args: argparse.Namespace, handler: Handler) -> int:
    """Run a command; any failure a user can meet becomes a clear message, never a traceback."""
    from drivers.errors import CardError
    from terminal.config import ConfigError
    from terminal.errors import CashierError
    lang = getattr(args, "lang", None) or "en"
    try:
        return handler(args) or 0
    except CashierError as exc:
        return fail(args, exc.code, exc.localized(lang), exc.exit_code)
    except (CardError, ConfigError) as exc:
        code, message = describe(exc, lang)
        # a malformed reader spec or PIN on the command line is a usage error, not the card's refusal
        usage = isinstance(exc, CardError) and exc.code in ("bad_reader_spec", "pin_invalid")
        return fail(args, code, message, 2 if usage else 1)
    except KeyboardInterrupt:
        return fail(args, "interrupted", "interrupted", 130)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: still no traceback for a user
        import logging
        logging.getLogger("cashier").exception("unexpected error")
        return fail(args, *describe(exc, lang), 1)  # "internal": says what to do
