"""2204 fee details upload (费用明细上传) and 2205 its cancellation: the centre classes each item by its catalogue."""

from __future__ import annotations

from pydantic import Field

from centre.interface.fields import Amount, DateTimeText, IdText, Model, Price, PsnNo, Quantity, Ratio, Str


class FeeDetail(Model):
    feedetl_sn: IdText = Field(description="费用明细流水号 (unique within the visit)")
    mdtrt_id: IdText
    psn_no: PsnNo
    chrg_bchno: IdText = Field(description="收费批次号")
    fee_ocur_time: DateTimeText = Field(description="费用发生时间 yyyy-MM-dd HH:mm:ss")
    med_list_codg: Str = Field(min_length=1, max_length=50, description="医疗目录编码 (the centre's catalogue code)")
    medins_list_codg: Str = Field(default="", max_length=150, description="医药机构目录编码 (the hospital's own code)")
    medins_list_name: Str = Field(default="", max_length=200, description="(project) the item's name at the hospital")
    det_item_fee_sumamt: Amount = Field(description="明细项目费用总额 = cnt × pric, rounded to the fen")
    cnt: Quantity = Field(description="数量")
    pric: Price = Field(description="单价")
    bilg_dept_codg: Str = Field(default="", max_length=30)
    bilg_dr_codg: Str = Field(default="", max_length=30)
    ext_chrgitm_lv: Str = Field(default="", max_length=2, description=(
        "(project) the class the hospital declares (01/02/03): used only by a centre that has no catalogue "
        "loaded at all; a centre with a catalogue classes the item itself"))


class In2204(Model):
    feedetail: list[FeeDetail] = Field(min_length=1, max_length=500)


class FeeResult(Model):
    feedetl_sn: str
    det_item_fee_sumamt: Amount
    cnt: Quantity
    pric: Price
    pric_uplmt_amt: Price | None = Field(description="定价上限金额 (the catalogue's price limit, yuan)")
    selfpay_prop: Ratio = Field(description="自付比例")
    fulamt_ownpay_amt: Amount = Field(description="全自费金额")
    overlmt_amt: Amount = Field(description="超限价金额")
    preselfpay_amt: Amount = Field(description="先行自付金额")
    inscp_scp_amt: Amount = Field(description="符合政策范围金额")
    chrgitm_lv: str = Field(description="收费项目等级: 01 class A, 02 class B, 03 class C")
    med_chrgitm_type: str = Field(description="医疗收费项目类别")
    lmt_used_flag: str = Field(description="限制使用标志")
    memo: str = ""


class Out2204(Model):
    result: list[FeeResult]


class Cancel2205(Model):
    mdtrt_id: IdText
    chrg_bchno: IdText = Field(description="收费批次号; 0000 cancels every batch of the visit")
    psn_no: PsnNo


class In2205(Model):
    data: Cancel2205
