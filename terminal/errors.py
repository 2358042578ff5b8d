"""Errors the terminal raises for a rule, the store or bad input: a code and a clear message.

Card and reader failures are `drivers.errors.CardError`; both reach the cashier
the same way (CLI: exit 1 and `{"error": {...}}`; UI: the message in place).
"""

from __future__ import annotations


class CashierError(Exception):
    """A refusal with a stable code and a message in English (and Chinese when given)."""

    exit_code = 1

    def __init__(self, code: str, message: str, message_zh: str | None = None, **details: object) -> None:
        self.code = code
        self.message = message
        self.message_zh = message_zh or message
        self.details = details
        super().__init__(message)

    def localized(self, lang: str) -> str:
        return self.message_zh if lang.startswith("zh") else self.message


class RuleRefused(CashierError):
    """A mutual-aid or settlement rule said no."""


class BadInput(CashierError):
    """The bill, export line, amount or argument is malformed."""


class StoreError(CashierError):
    """The database is missing, corrupted, busy or not migrated."""


class UsageError(CashierError):
    """Wrong command-line usage (exit 2)."""

    exit_code = 2


def describe(exc: BaseException, lang: str = "en") -> tuple[str, str]:
    """(code, message) for any error a user may meet."""
    from drivers.errors import CardError
    if isinstance(exc, CashierError):
        return exc.code, exc.localized(lang)
    if isinstance(exc, CardError):
        return exc.code, exc.localized(lang)
    from terminal.config import ConfigError
    if isinstance(exc, ConfigError):
        return "config", str(exc)
    return "internal", f"{type(exc).__name__}: {exc}"
