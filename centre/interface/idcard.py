"""GB 11643 resident ID numbers (居民身份证号码): the MOD 11-2 check digit, the birth date, masking.

The centre checks every ID number it is given (an export's persons) and never shows one whole in a message:
first 6 and last 4 digits, as the window masks them.
"""

from __future__ import annotations

import datetime as _dt
import re

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$", re.ASCII)


def check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def problem(certno: object) -> str | None:
    """Why an ID number (upper-cased) is invalid, or None."""
    if not isinstance(certno, str) or len(certno) != 18:
        return "an ID number has 18 characters"
    if not _SHAPE.match(certno):
        return "an ID number is 17 digits and a digit or X"
    if check_digit(certno[:17]) != certno[17]:
        return f"check digit should be {check_digit(certno[:17])}, not {certno[17]}"
    born = certno[6:14]
    try:
        _dt.date(int(born[:4]), int(born[4:6]), int(born[6:]))
    except ValueError:
        return f"birth date {born} is not a real date"
    return None


def mask(certno: str) -> str:
    """First 6 and last 4 shown: 110101********123X."""
    if not certno:
        return ""
    if len(certno) <= 10:
        return "*" * len(certno)
    return certno[:6] + "*" * (len(certno) - 10) + certno[-4:]
