"""The envelope every transaction travels in (请求/响应报文), one endpoint for all of them.

Request: `infno` names the transaction, `msgid` (30 = fixmedins_code 12 + yyyyMMddHHmmss + 4-digit
sequence) names this message and is never used twice, `input` carries the transaction's fields. Response:
`infcode` 0 or -1, `err_msg` in Chinese for the cashier when -1, `output` the transaction's fields.
A refusal is an ordinary answer (HTTP 200, infcode -1); HTTP errors are only for what is not an envelope.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from centre.interface.fields import Admdvs, DateTimeText, Model, Str

ENDPOINT = "/fsi/api/rsfComIfsService/callService"
MSGID_RE = re.compile(r"^[0-9A-Za-z]{12}[0-9]{18}$")
INFNO_RE = r"^[0-9A-Z]{4}$"
STAMP = "%Y%m%d%H%M%S"


def msgid_problem(msgid: str, fixmedins_code: str) -> str | None:
    """Why a msgid is not of the platform's shape (None when it is)."""
    if not MSGID_RE.fullmatch(msgid):
        return "msgid must be 30 characters: fixmedins_code (12) + yyyyMMddHHmmss + a 4-digit sequence"
    if msgid[:12] != fixmedins_code:
        return "msgid must begin with the sender's fixmedins_code"
    try:
        dt.datetime.strptime(msgid[12:26], STAMP)
    except ValueError:
        return "msgid's yyyyMMddHHmmss part is not a real time"
    return None


class RequestEnvelope(Model):
    """入参报文 (the envelope around `input`)."""

    infno: str = Field(pattern=INFNO_RE, description="交易编号")
    msgid: str = Field(max_length=30, description="发送方报文ID: fixmedins_code + yyyyMMddHHmmss + 4-digit sequence")
    mdtrtarea_admvs: Admdvs = Field(description="就医地医保区划")
    insuplc_admdvs: str = Field(default="", pattern=r"^([0-9]{6})?$", description="参保地医保区划 (from 1101; required when the input names a psn_no)")
    recer_sys_code: Str = Field(max_length=10, default="YBXT", description="接收方系统代码")
    dev_no: Str = Field(default="", max_length=100)
    dev_safe_info: Str = Field(default="", max_length=2000)
    cainfo: Str = Field(default="", max_length=1024)
    signtype: Str = Field(default="", max_length=10)
    infver: Str = Field(max_length=6, default="V1.0", description="接口版本号")
    opter_type: str = Field(pattern=r"^[123]$", description="经办人类别: 1 staff, 2 self-service terminal, 3 mobile")
    opter: Str = Field(max_length=30, min_length=1, description="经办人")
    opter_name: Str = Field(max_length=50, default="", description="经办人姓名")
    inf_time: DateTimeText = Field(description="交易时间 yyyy-MM-dd HH:mm:ss")
    fixmedins_code: Str = Field(max_length=12, min_length=12, pattern=r"^[0-9A-Za-z]{12}$",
                                description="定点医药机构编号")
    fixmedins_name: Str = Field(max_length=200, default="", description="定点医药机构名称")
    sign_no: Str = Field(max_length=30, default="", description="签到编号 (from 9001)")
    input: dict[str, Any] = Field(default_factory=dict, description="交易输入")

    @model_validator(mode="after")
    def _msgid_shape(self) -> "RequestEnvelope":
        problem = msgid_problem(self.msgid, self.fixmedins_code)
        if problem:
            raise ValueError(problem)
        return self

    @field_validator("input", mode="before")
    @classmethod
    def _input_object(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("input must be a JSON object")
        return value


class ResponseEnvelope(Model):
    """出参报文."""

    infcode: int = Field(description="交易状态码: 0 success, -1 failure")
    inf_refmsgid: str = Field(description="接收方报文ID: area (6) + yyyyMMddHHmmss + serial (10)")
    refmsg_time: str = Field(description="接收报文时间 yyyyMMddHHmmssSSS")
    respond_time: str = Field(description="响应报文时间 yyyyMMddHHmmssSSS")
    err_msg: str | None = Field(default=None, description="错误信息 (Chinese, for the cashier)")
    warn_msg: str | None = Field(default=None, description="警告信息")
    output: dict[str, Any] | None = Field(default=None, description="交易输出")


def stamp_ms(at: dt.datetime) -> str:
    """yyyyMMddHHmmssSSS."""
    return at.strftime("%Y%m%d%H%M%S") + f"{at.microsecond // 1000:03d}"


def time_text(at: dt.datetime) -> str:
    """yyyy-MM-dd HH:mm:ss."""
    return at.strftime("%Y-%m-%d %H:%M:%S")
