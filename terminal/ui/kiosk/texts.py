"""The kiosk's words by language, for code that has a language but no app (the kiosk's backend, the in-use
page). The words themselves are in `terminal.ui.i18n`, under "kiosk.", with the window's."""

from __future__ import annotations

from terminal.ui.i18n import Translator


def t(key: str, lang: str, **values: object) -> str:
    """The kiosk's text for `key` in `lang` (zh when the language is unknown)."""
    return Translator(lang)(f"kiosk.{key}", **values)
