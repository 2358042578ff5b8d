"""2201 outpatient registration (门诊挂号), 2202 its cancellation, 2203 visit information (就诊信息上传)."""

from __future__ import annotations

from pydantic import Field

from centre.interface.fields import IdText, Model, OptDateTimeText, PsnNo, Str


class Register2201(Model):
    psn_no: PsnNo
    insutype: str = Field(pattern=r"^[0-9]{3}$", description="险种类型")
    begntime: OptDateTimeText = Field(description="开始时间 yyyy-MM-dd HH:mm:ss (empty: the centre's time)")
    mdtrt_cert_type: str = Field(pattern=r"^0[123]$", description="就诊凭证类型")
    mdtrt_cert_no: Str = Field(max_length=100, description="就诊凭证编号")
    ipt_otp_no: Str = Field(min_length=1, max_length=30, description="住院/门诊号 (the hospital's visit number)")
    atddr_no: Str = Field(default="", max_length=30, description="医师编码")
    dr_name: Str = Field(default="", max_length=50, description="医师姓名")
    dept_code: Str = Field(default="", max_length=30, description="科室编码")
    dept_name: Str = Field(default="", max_length=100, description="科室名称")
    caty: Str = Field(default="", max_length=10, description="科别")


class In2201(Model):
    data: Register2201


class Registered(Model):
    mdtrt_id: str = Field(description="就诊ID")
    psn_no: str
    ipt_otp_no: str


class Out2201(Model):
    data: Registered


class Cancel2202(Model):
    psn_no: PsnNo
    mdtrt_id: IdText
    ipt_otp_no: Str = Field(default="", max_length=30)


class In2202(Model):
    data: Cancel2202


class MdtrtInfo(Model):
    mdtrt_id: IdText
    psn_no: PsnNo
    med_type: str = Field(pattern=r"^[0-9]{2,6}$", description="医疗类别: 11 general outpatient, 14 chronic, 21 inpatient")
    begntime: OptDateTimeText = Field(default="", description="开始时间 yyyy-MM-dd HH:mm:ss")
    main_cond_dscr: Str = Field(default="", max_length=1000, description="主要病情描述")
    dise_codg: Str = Field(default="", max_length=30, description="病种编码")
    dise_name: Str = Field(default="", max_length=300, description="病种名称")


class DiseInfo(Model):
    diag_type: Str = Field(default="", max_length=3)
    diag_srt_no: int = 0
    diag_code: Str = Field(default="", max_length=30)
    diag_name: Str = Field(default="", max_length=300)


class In2203(Model):
    mdtrtinfo: MdtrtInfo
    diseinfo: list[DiseInfo] = Field(default_factory=list, max_length=50)


class Empty(Model):
    """Transactions that answer with no fields."""
