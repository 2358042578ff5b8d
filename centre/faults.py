"""Failure on demand, as it happens to a real window (`cashier centre serve --fault ...`).

- `lost-answer:INFNO` — the next INFNO commits, then its answer is lost (the connection closes unanswered);
- `error:INFNO`       — the next INFNO is refused with a realistic err_msg (nothing is done);
- `delay-ms:N`        — every answer waits N ms first;
- `down`              — every call is refused as by a centre that is down (HTTP 503; in-process CentreDown);
- `expire-sign`       — every sign-in expires now (the next business call must sign in again).
Each `lost-answer`/`error` option is used up by one transaction; give it twice for two.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

_FAULT = re.compile(r"^(lost-answer|error):([0-9A-Z]{4})$|^delay-ms:([0-9]{1,6})$|^down$|^expire-sign$")

ERROR_TEXT = {
    "2207": "结算失败:医保中心结算服务繁忙,请稍后重试",
    "2206": "预结算失败:医保中心计算服务繁忙,请稍后重试",
    "1101": "获取人员信息失败:参保地系统无响应",
}
DEFAULT_ERROR = "医保中心处理失败:系统繁忙,请稍后重试"


class FaultSpecError(ValueError):
    """A --fault that is not one of the forms above."""


@dataclass
class Faults:
    lost: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    delay_ms: int = 0
    down: bool = False
    expire_sign: bool = False
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, specs: list[str] | tuple[str, ...]) -> "Faults":
        faults = cls()
        for spec in specs:
            m = _FAULT.fullmatch(spec.strip())
            if not m:
                raise FaultSpecError(f"unknown fault {spec!r}: use lost-answer:INFNO, error:INFNO, delay-ms:N, down "
                                     "or expire-sign")
            if m.group(1) == "lost-answer":
                faults.lost[m.group(2)] = faults.lost.get(m.group(2), 0) + 1
            elif m.group(1) == "error":
                faults.errors[m.group(2)] = faults.errors.get(m.group(2), 0) + 1
            elif m.group(3) is not None:
                faults.delay_ms = int(m.group(3))
            elif spec.strip() == "down":
                faults.down = True
            else:
                faults.expire_sign = True
        return faults

    def take(self, kind: str, infno: str) -> bool:
        """Use up one `lost-answer` or `error` fault for this infno, if one is waiting."""
        table = self.lost if kind == "lost" else self.errors
        with self._guard:
            left = table.get(infno, 0)
            if left <= 0:
                return False
            table[infno] = left - 1
            return True

    def take_expire(self) -> bool:
        with self._guard:
            was, self.expire_sign = self.expire_sign, False
            return was
