"""How the centre says no: a stable code, a Chinese message the cashier can read out, an English one.

Every refusal becomes an answer with `infcode` -1 and the Chinese text as `err_msg` (the platform's way);
the code and the English text travel beside it as `ext_err_code` and `ext_err_msg_en` so a window can
show the message in its own language and act on the code.
"""

from __future__ import annotations


class Refused(Exception):
    """A transaction the centre will not do: bad input, a rule, the state of an account."""

    def __init__(self, code: str, en: str, zh: str | None = None, **details: object) -> None:
        self.code = code
        self.en = en
        self.zh = zh or en
        self.details = details
        super().__init__(en)


class BadRequest(Refused):
    """The envelope or its input is malformed: wrong type, missing field, unknown transaction."""


class ConfigProblem(Exception):
    """The centre's settings ([policy], [mutual_aid], [centre]) are wrong: said when it starts, never later."""
