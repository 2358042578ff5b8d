"""How every command reports: text or one JSON object; errors as {"error": {...}}; exit codes 0/1/2."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, Callable

from terminal.error_codes import E
from terminal.errors import describe

Handler = Callable[[argparse.Namespace], int | None]

_PIN = re.compile(r"[0-9]{4,16}")

PIN_ENV = "CASHIER_PIN"
NEW_PIN_ENV = "CASHIER_NEW_PIN"
PIN_HELP = ("the card's PIN: '-' reads it from a line on stdin; without --pin, $CASHIER_PIN, else it is typed on "
            "the reader's keypad (a PIN given here shows in `ps`: prefer '-' or the environment)")


def _stdin_line(option: str) -> str:
    """One line of stdin, without its line end (not echoed when stdin is a terminal)."""
    if sys.stdin is None:
        line = ""
    elif sys.stdin.isatty():
        import getpass
        line = getpass.getpass(f"{option}: ")
    else:
        line = sys.stdin.readline()
        if not line:
            raise E.PIN_MISSING.error(f"{option} -: no line on stdin to read the PIN from",
                             f"{option} -: 标准输入中没有可读取密码的行")
    return line.rstrip("\r\n")


def pin_arg(value: str | None, *, option: str = "--pin", env: str | None = PIN_ENV) -> str | None:
    """A PIN for the card: `value` as given ('-': one line of stdin), else `$env`, else None (the reader's
    keypad). 4 to 16 ASCII digits, never echoed back."""
    if value == "-":
        value = _stdin_line(option)
    elif value is None and env:
        value = os.environ.get(env) or None
        option = f"${env}" if value is not None else option
    if value is not None and not _PIN.fullmatch(value):
        raise E.PIN_INVALID.error(f"{option} must be 4 to 16 digits (0-9); omit it to type the PIN on the "
                         f"reader's keypad", f"{option} 应为4至16位数字;不填则在读卡器键盘上输入")
    return value


def emit(args: argparse.Namespace, obj: Any, text: str | None = None) -> int:
    """Print the result: JSON when --json, else the text (or pretty JSON)."""
    if getattr(args, "json", False) or text is None:
        if _has_decimal(obj):   # yuan amounts in the platform's shape: exact two-decimal JSON numbers, never float
            from centre.interface import jsonio
            print(jsonio.dumps(obj))
        else:
            print(json.dumps(obj, ensure_ascii=False, indent=None if getattr(args, "json", False) else 2))
    else:
        print(text)
    return 0


def _has_decimal(obj: Any) -> bool:
    from decimal import Decimal
    if isinstance(obj, Decimal):
        return True
    if isinstance(obj, dict):
        return any(_has_decimal(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_has_decimal(v) for v in obj)
    return False


def fail(args: argparse.Namespace, code: str, message: str, exit_code: int = 1) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False))
    else:
        print(f"cashier: {message}", file=sys.stderr)
    return exit_code


def message_lang(args: argparse.Namespace) -> str:
    """The language of messages: --lang, else [terminal].lang of the config, else English (a config that
    cannot be read has its own error, in English)."""
    lang = getattr(args, "lang", None) or getattr(args, "_message_lang", None)
    if not lang:
        try:
            from terminal.config import load_config
            lang = load_config(getattr(args, "config", None), getattr(args, "db", None)).terminal.lang
        except Exception:
            lang = "en"
        lang = "zh" if str(lang).startswith("zh") else "en"
        args._message_lang = lang
    return lang


def warn(args: argparse.Namespace, warning) -> None:
    """A warning (a CashierError that did not stop the command) on stderr, in the messages' language."""
    print(f"cashier: warning: {warning.localized(message_lang(args))}", file=sys.stderr)


def run_guarded(args: argparse.Namespace, handler: Handler) -> int:
    """Run a command; any failure a user can meet becomes a clear message, never a traceback."""
    from drivers.errors import CardError
    from terminal.error_codes import CARD_USAGE_KINDS
    from terminal.errors import CashierError
    try:
        return handler(args) or 0
    except CashierError as exc:
        return fail(args, exc.code, exc.localized(message_lang(args)), exc.exit_code)
    except CardError as exc:
        code, message = describe(exc, message_lang(args))
        # a malformed reader spec, PIN or card profile on the command line is a usage error, not the card's refusal
        usage = exc.kind in CARD_USAGE_KINDS
        return fail(args, code, message, 2 if usage else 1)
    except KeyboardInterrupt:
        return fail(args, "interrupted", "interrupted", 130)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: still no traceback for a user
        import logging
        logging.getLogger("cashier").exception("unexpected error")
        return fail(args, *describe(exc, message_lang(args)), 1)  # "internal": says what to do
