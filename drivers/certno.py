"""GB 11643 resident ID number: ISO 7064 MOD 11-2 check digit, birth date, masking."""

from __future__ import annotations

import datetime as _dt
import re

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK = "10X98765432"
ASCII_SHAPE = re.compile(r"^\d{17}[\dX]$", re.ASCII)  # the shape on an upper-cased number, ASCII digits only


def check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def is_valid(certno: str) -> bool:
    """True for 18 characters whose last is the MOD 11-2 check digit."""
    if not isinstance(certno, str) or not ASCII_SHAPE.match(certno.upper()):
        return False
    return check_digit(certno[:17]) == certno[17].upper()


def problem(certno: str) -> str | None:
    """Why an ID number is invalid, or None."""
    if not isinstance(certno, str) or len(certno) != 18:
        return "an ID number has 18 characters"
    if not ASCII_SHAPE.match(certno.upper()):
        return "an ID number is 17 digits and a digit or X"
    if check_digit(certno[:17]) != certno[17].upper():
        return f"check digit should be {check_digit(certno[:17])}, not {certno[17]}"
    born = certno[6:14]
    try:
        _dt.date(int(born[:4]), int(born[4:6]), int(born[6:]))
    except ValueError:
        return f"birth date {born} is not a real date"
    return None


def shaped_ok(certno: str, good_births: set[str] | None = None) -> bool:
    """`problem(certno) is None`, fast, for a number already of ASCII_SHAPE (a bulk import asks it per line).

    The MOD 11-2 sum in one C-level pass: as 13 = 2 (mod 11), sum(d[i] * 2**(17-i)) = 2 * int(first17, 13)
    (mod 11) (int() in base 13 reads only what ASCII_SHAPE let through: digits). Birth dates found real are
    remembered in `good_births` (they repeat). False: ask `problem`, which words the reason.
    """
    if _CHECK[2 * int(certno[:17], 13) % 11] != certno[17]:
        return False
    born = certno[6:14]
    if good_births is not None and born in good_births:
        return True
    try:
        _dt.date(int(born[:4]), int(born[4:6]), int(born[6:]))
    except ValueError:
        return False
    if good_births is not None:
        good_births.add(born)
    return True


def birth_date(certno: str) -> str:
    """The ISO birth date written in an 18-character ID number (digits 7-14), unchecked."""
    return f"{certno[6:10]}-{certno[10:12]}-{certno[12:14]}"


def sex(certno: str) -> str:
    """The sex the ID number records (17th digit: odd '1' male, even '2' female)."""
    return "1" if int(certno[16]) % 2 else "2"


def mask(certno: str) -> str:
    """First 6 and last 4 shown, as on every screen, log and trace: 110101********123X."""
    if not certno:
        return ""
    if len(certno) <= 10:
        return "*" * len(certno)
    return certno[:6] + "*" * (len(certno) - 10) + certno[-4:]
