"""Errors the terminal raises for a rule, the store or bad input: a catalogue code and a clear message.

Every code is defined once, in `terminal.error_codes` (an `ErrorCode`: the code, the class raised, what it
means in English and Chinese, the exit code); a raise site names its entry (`E.NOT_SAME_DAY.error(en, zh)`)
and says in words what exactly went wrong. Card and reader failures are `drivers.errors.CardError`; both
reach the cashier the same way (CLI: the exit code and `{"error": {...}}`; UI: the message in place).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar


class CashierError(Exception):
    """A refusal with a stable code and a message in English (and Chinese when given).

    `code` is a catalogue entry; a plain string only where the window relays a code someone else defines
    (the insurance centre's refusals, a card's code), never a code of its own."""

    exit_code = 1

    def __init__(self, code: ErrorCode | str, message: str, message_zh: str | None = None,
                 **details: object) -> None:
        self.entry = code if isinstance(code, ErrorCode) else None
        self.code = code.code if isinstance(code, ErrorCode) else code
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
        from terminal.error_codes import E
        super().__init__(E.CONFIG, message, message_zh, **details)


class ConfigRetired(ConfigError):
    """A config value that once meant something the window no longer has (exit 2, as any config error): its own
    catalogue code, so a script can tell it from a typo."""

    def __init__(self, code: ErrorCode, message: str, message_zh: str | None = None, **details: object) -> None:
        CashierError.__init__(self, code, message, message_zh, **details)


K = TypeVar("K", bound=CashierError)


@dataclass(frozen=True)
class ErrorCode(Generic[K]):
    """One entry of the catalogue: the code, the class raised, its meaning in English and Chinese.

    `en`/`zh` say what the code means; they are the message when a raise site has nothing more exact to
    say. `usage_too`: the same problem found in a command-line argument is a usage error (exit 2)."""

    code: str
    kind: type[K]
    en: str
    zh: str
    usage_too: bool = False

    @property
    def exit_code(self) -> int:
        return self.kind.exit_code

    def error(self, en: str | None = None, zh: str | None = None, **details: object) -> K:
        """The exception to raise: this code, the site's own words (or the catalogue's)."""
        return self.kind(self, self.en if en is None else en, self.zh if zh is None else zh, **details)

    def usage(self, en: str, zh: str, **details: object) -> UsageError:
        """The same problem in a command-line argument: exit 2."""
        if not self.usage_too:
            raise TypeError(f"{self.code} is not a usage error")
        return UsageError(self, en, zh, **details)


def describe(exc: BaseException, lang: str = "en") -> tuple[str, str]:
    """(code, message) for any error a user may meet."""
    from drivers.errors import CardError
    from terminal.error_codes import E
    if isinstance(exc, CashierError):
        return exc.code, exc.localized(lang)
    if isinstance(exc, CardError):
        return exc.code, exc.localized(lang)
    if lang.startswith("zh"):
        return E.INTERNAL.code, (f"程序内部错误({type(exc).__name__}: {exc})。请先核实本次操作是否已生效再重试;"
                            "如再次出现,请记下本信息并联系维护人员")
    return E.INTERNAL.code, (f"unexpected error ({type(exc).__name__}: {exc}). Check whether the action took effect "
                        "before trying again; if it happens again, report this message to the maintainers")
