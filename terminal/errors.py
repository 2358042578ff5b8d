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


class ConfigError(CashierError):
    """The config file is missing or wrong (exit 2): the message names the key and the file."""

    exit_code = 2

    def __init__(self, message: str, message_zh: str | None = None, **details: object) -> None:
        super().__init__("config", message, message_zh, **details)


def describe(exc: BaseException, lang: str = "en") -> tuple[str, str]:
    """(code, message) for any error a user may meet."""
    from drivers.errors import CardError
    if isinstance(exc, CashierError):
        return exc.code, exc.localized(lang)
    if isinstance(exc, CardError):
        return exc.code, exc.localized(lang)
    if lang.startswith("zh"):
        return "internal", (f"程序内部错误({type(exc).__name__}: {exc})。请先核实本次操作是否已生效再重试;"
                            "如再次出现,请记下本信息并联系维护人员")
    return "internal", (f"unexpected error ({type(exc).__name__}: {exc}). Check whether the action took effect "
                        "before trying again; if it happens again, report this message to the maintainers")
