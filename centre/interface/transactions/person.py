"""1101 person information (人员信息获取): who presented this card, voucher or ID number, and their insurance."""

from __future__ import annotations

from pydantic import Field, model_validator

from centre.interface.fields import Age, Amount, DateText, Model, OptDateTimeText, Str


class Query1101(Model):
    mdtrt_cert_type: str = Field(pattern=r"^0[123]$",
                                 description="就诊凭证类型: 01 e-voucher token, 02 ID number, 03 social security card number")
    mdtrt_cert_no: Str = Field(min_length=1, max_length=100, description="就诊凭证编号")
    card_sn: Str = Field(default="", max_length=32,
                         description="卡识别码 (required for 03: the card identification code, 32 hex digits)")
    begntime: OptDateTimeText = Field(default="", description="开始时间 yyyy-MM-dd HH:mm:ss")
    psn_cert_type: Str = Field(default="", max_length=6, description="人员证件类型")
    certno: Str = Field(default="", max_length=50, description="证件号码")
    psn_name: Str = Field(default="", max_length=50, description="人员姓名")

    @model_validator(mode="after")
    def _card_sn_for_cards(self) -> "Query1101":
        if self.mdtrt_cert_type == "03" and not self.card_sn:
            raise ValueError("card_sn is required when mdtrt_cert_type is 03 (social security card)")
        return self

class In1101(Model):
    data: Query1101

class BaseInfo(Model):
    psn_no: str = Field(description="人员编号")
    psn_cert_type: str = Field(description="人员证件类型")
    certno: str = Field(description="证件号码")
    psn_name: str = Field(description="人员姓名")
    gend: str = Field(description="性别: 1 male, 2 female")
    naty: str = Field(description="民族")
    brdy: DateText | None = Field(description="出生日期")
    age: Age = Field(description="年龄")

class InsuInfo(Model):
    balc: Amount = Field(description="余额 (personal account, yuan; 0 without an account)")
    insutype: str = Field(description="险种类型")
    psn_type: str = Field(description="人员类别")
    psn_insu_stas: str = Field(description="人员参保状态: 1 active, 2 suspended, 4 ended")
    psn_insu_date: DateText | None = Field(description="个人参保日期")
    paus_insu_date: DateText | None = Field(description="暂停参保日期")
    cvlserv_flag: str = Field(description="公务员标志")
    insuplc_admdvs: str = Field(description="参保地医保区划")
    emp_name: str = Field(description="单位名称")

class IdetInfo(Model):
    psn_idet_type: str
    psn_type_lv: str = ""
    memo: str = ""
    begntime: str = ""
    endtime: str | None = None

class Out1101(Model):
    baseinfo: BaseInfo
    insuinfo: list[InsuInfo]
    idetinfo: list[IdetInfo] = Field(default_factory=list)
    ext_card_no: str | None = Field(default=None, description="(project) the card number on record, for the window's cache")

