"""Every code of the domain, defined once, with its English and Chinese names.

The values are the national platform's (`insutype` 310, `med_type` 11 ...) where it has one, and the
project's own otherwise (binding scope, settlement state). The centre, the window's store, its services,
the command line and the screens all take their codes and names from here.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Self


class Code(StrEnum):
    """A code with an English and a Chinese name: `Insutype.EMPLOYEE.zh` -> "职工基本医疗保险"."""

    en: str
    zh: str

    def __new__(cls, value: str, en: str = "", zh: str = "") -> Self:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.en = en or value
        obj.zh = zh or obj.en
        return obj

    def name_in(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)

    @classmethod
    def get(cls, value: object) -> Self | None:
        """The member for a value, or None (never raises): for data read from a file or the network."""
        if not isinstance(value, str):
            return None
        try:
            return cls(value)
        except ValueError:
            return None

    @classmethod
    def zh_of(cls, value: object) -> str:
        """The Chinese name of a value, or "" for a value that is not a code of this kind (a slip, a table)."""
        member = cls.get(value)
        return member.zh if member else ""


class Insutype(Code):
    """险种类型."""

    EMPLOYEE = "310", "employee basic medical insurance", "职工基本医疗保险"
    RESIDENT = "390", "urban-rural resident basic medical insurance", "城乡居民基本医疗保险"


class MedType(Code):
    """医疗类别."""

    OUTPATIENT = "11", "general outpatient", "普通门诊"
    CHRONIC = "14", "chronic/special outpatient", "门诊慢特病"
    INPATIENT = "21", "inpatient", "住院"


class PsnInsuStas(Code):
    """参保状态."""

    ACTIVE = "1", "active", "正常参保"
    SUSPENDED = "2", "suspended", "暂停参保"
    ENDED = "4", "ended", "终止参保"


class MdtrtCertType(Code):
    """就诊凭证类型: what the patient presented."""

    EVOUCHER = "01", "e-voucher", "医保电子凭证"
    ID_CARD = "02", "ID card", "居民身份证"
    SSCARD = "03", "social security card", "社会保障卡"


class PsnCertType(Code):
    """人员证件类型."""

    RESIDENT_ID = "01", "resident ID card", "居民身份证"


class ChrgitmLv(Code):
    """收费项目等级: the catalogue's class of an item (the bill's A/B/C)."""

    A = "01", "class A (fully in scope)", "甲类"
    B = "02", "class B (part self-paid first)", "乙类"
    C = "03", "class C (fully self-paid)", "丙类"

    @property
    def letter(self) -> str:
        return {"01": "A", "02": "B", "03": "C"}[self.value]

    @classmethod
    def of_letter(cls, letter: str) -> "ChrgitmLv":
        return {"A": cls.A, "B": cls.B, "C": cls.C}[letter]

    @classmethod
    def letters(cls) -> tuple[str, ...]:
        """The classes as a bill writes them: ("A", "B", "C")."""
        return tuple(member.letter for member in cls)


class BindingScope(Code):
    """Where a mutual-aid binding may pay (the project's own code)."""

    LOCAL = "local", "within the province", "省内共济"
    CROSS_PROVINCE = "cross_province", "across provinces", "跨省共济"


class DeductibleScope(Code):
    """What a policy rule's deductible (起付线) counts over (the project's own code)."""

    YEAR = "year", "per year", "按年度"
    VISIT = "visit", "per visit", "按次"


class HospLv(Code):
    """医院等级, as the project writes it (1, 2, 3): the level of the hospital a rule or a window is for."""

    FIRST = "1", "first-level hospital", "一级医院"
    SECOND = "2", "second-level hospital", "二级医院"
    THIRD = "3", "third-level hospital", "三级医院"


class BindingStatus(Code):
    ACTIVE = "active", "active", "有效"
    ENDED = "ended", "ended", "已解除"


class SetlStatus(Code):
    """A settlement row's state: a reversal is a row of its own, the original becomes `reversed`."""

    SETTLED = "settled", "settled", "已结算"
    REVERSED = "reversed", "reversed", "已冲正"
    REVERSAL = "reversal", "reversal", "冲正"


class OpterType(Code):
    """经办人类别."""

    STAFF = "1", "staff", "经办人"
    SELF_SERVICE = "2", "self-service terminal", "自助终端"
    MOBILE = "3", "mobile", "移动终端"


class PsnSetlway(Code):
    """个人结算方式."""

    BY_ITEMS = "01", "by items", "按项目结算"


class ClrType(Code):
    """清算类别 (3201): which kind of care the totals are for."""

    OUTPATIENT = "11", "outpatient", "门诊"
    INPATIENT = "21", "inpatient", "住院"


class ClrWay(Code):
    """清算方式."""

    BY_ITEMS = "1", "by items", "按项目"


class StmtRslt(Code):
    """对账结果."""

    AGREE = "0", "totals agree", "对账一致"
    DISAGREE = "1", "totals disagree", "对账不一致"


class FundPayType(Code):
    """基金支付类型 (setldetail)."""

    POOL = "310100", "basic medical insurance pooling fund", "职工基本医疗保险统筹基金"
    RESIDENT_POOL = "390100", "resident basic medical insurance fund", "城乡居民基本医疗保险基金"


class InfCode(IntEnum):
    """交易状态码: 0 success, -1 failure (the only two the interface uses)."""

    OK = 0
    FAIL = -1


def clr_type_of(med_type: str) -> ClrType:
    """The clearing class a medical type settles under: inpatient care apart, everything else outpatient."""
    return ClrType.INPATIENT if med_type == MedType.INPATIENT else ClrType.OUTPATIENT


def fund_pay_type_of(insutype: str) -> FundPayType:
    return FundPayType.POOL if insutype == Insutype.EMPLOYEE else FundPayType.RESIDENT_POOL


# The fields day-end reconciliation (3201) compares, in the order they are shown.
RECONCILE_FIELDS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")
# The ones a 3201 request carries (medfee_sumamt, fund_pay_sumamt, acct_pay); the centre answers all five.
RECONCILE_ASKED = RECONCILE_FIELDS[:3]
