"""2601 transaction reversal (冲正交易), 5203 settlement query (结算信息查询), 3201 totals reconciliation (对总账)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from centre.interface.fields import Amount, DateText, IdText, Model, PsnNo, Str


class Revoke2601(Model):
    psn_no: PsnNo
    omsgid: Str = Field(min_length=1, max_length=30, description="原发送方报文ID")
    oinfno: str = Field(pattern=r"^[0-9A-Z]{4}$", description="原交易编号")


class In2601(Model):
    data: Revoke2601


class Revoked(Model):
    omsgid: str
    oinfno: str
    ext_took_effect: bool = Field(description=(
        "(project) true: the original message had taken effect and is now undone; false: it never took effect "
        "(and now never will: a late arrival of omsgid is refused)"))
    ext_setl_id: str | None = Field(default=None, description="(project) the settlement that was undone")
    ext_reversal_setl_id: str | None = Field(default=None, description="(project) the reversal row written")
    ext_dscr: str = Field(description="(project) what happened, in Chinese")


class Out2601(Model):
    data: Revoked


class Query5203(Model):
    psn_no: PsnNo
    setl_id: IdText
    mdtrt_id: IdText


class In5203(Model):
    data: Query5203


MAX_STMT_DAYS = 366
"""The longest period one 3201 reconciles (a leap year, both ends counted): a window reconciles a day."""


class Stmt3201(Model):
    insutype: str = Field(pattern=r"^[0-9]{3}$")
    clr_type: str = Field(pattern=r"^[0-9]{2,3}$", description="清算类别: 11 outpatient, 21 inpatient")
    setl_optins: Str = Field(default="", max_length=6, description="结算经办机构 (an area code; empty = every)")
    stmt_begndate: DateText = Field(description="对账开始日期")
    stmt_enddate: DateText = Field(description="对账结束日期")
    medfee_sumamt: Amount
    fund_pay_sumamt: Amount
    acct_pay: Amount
    fixmedins_setl_cnt: int = Field(ge=0, le=10**9, description="定点医药机构结算笔数")

    @model_validator(mode="after")
    def _a_period(self) -> "Stmt3201":
        begin, end = dt.date.fromisoformat(self.stmt_begndate), dt.date.fromisoformat(self.stmt_enddate)
        if begin > end:
            raise ValueError(f"stmt_begndate {self.stmt_begndate} is after stmt_enddate {self.stmt_enddate}")
        if (end - begin).days + 1 > MAX_STMT_DAYS:
            raise ValueError(f"stmt_enddate {self.stmt_enddate}: the period is longer than {MAX_STMT_DAYS} days "
                             "(reconcile a year at most at a time)")
        return self


class In3201(Model):
    data: Stmt3201


class StmtInfo(Model):
    setl_optins: str
    stmt_rslt: str = Field(description="对账结果: 0 agrees, 1 does not")
    stmt_rslt_dscr: str = Field(description="对账结果说明 (names what differs)")
    ext_centre: dict[str, Amount] = Field(description="(project) the centre's own totals for the same period (yuan)")
    ext_centre_setl_cnt: int = Field(description="(project) the centre's count of settlements (net of reversals)")


class Out3201(Model):
    stmtinfo: StmtInfo
