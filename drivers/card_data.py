"""What a social security card holds, as plain dataclasses: EF05 (card identification) and EF06 (cardholder).

Field names follow the national platform where one exists (certno, gend, naty, brdy).
Dates are ISO `YYYY-MM-DD`; `""` when the card leaves them blank.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class CardInfo:
    """EF05, card identification."""

    card_sn: str        # 卡识别码, 32 upper-case hex digits
    card_type: str      # 卡类别, opaque: upper-case hex of the byte(s)
    version: str        # 规范版本, e.g. "3.00"
    issuer: str         # 初始化机构编号, upper-case hex, opaque
    issue_date: str     # 发卡日期
    expiry_date: str    # 卡有效期
    card_no: str        # 卡号

    @property
    def region(self) -> str:
        """The region code: first six digits of the card identification code."""
        return self.card_sn[:6]

    @property
    def version_number(self) -> float:
        try:
            return float(self.version)
        except ValueError:
            return 0.0

    def expired(self, today: str) -> bool:
        return bool(self.expiry_date) and self.expiry_date < today


@dataclass(frozen=True)
class Holder:
    """EF06, cardholder. certno and name are "" when a 3.0 card was read unauthenticated."""

    certno: str         # 社会保障号码 (resident ID number)
    name: str           # 姓名
    name_ext: str       # 姓名扩展 ("" on a 1.0 card)
    gend: str           # '1' male, '2' female
    naty: str           # 民族, two digits
    birthplace: str     # 出生地, region digits
    brdy: str           # 出生日期

    @property
    def full_name(self) -> str:
        return self.name + self.name_ext


@dataclass(frozen=True)
class CardRead:
    """A whole card read: what `cashier card read --json` prints."""

    atr: str            # upper-case hex
    card: CardInfo
    holder: Holder
    line: str = ""      # iReadCardBas-style summary line
    authenticated: bool = False  # external authentication was done
    trace: list[str] = field(default_factory=list, compare=False, repr=False)

    @property
    def region(self) -> str:
        return self.card.region

    def to_json(self) -> dict:
        return {
            "atr": self.atr,
            "card": asdict(self.card),
            "holder": asdict(self.holder),
            "region": self.region,
            "line": self.line,
        }
