"""2206 pre-settlement (预结算), 2207 settlement (结算), 2208 settlement reversal (结算撤销).

`setlinfo` carries every national field with the platform's type; the project's own figures (the split
per mutual-aid owner, the own-account part, the row's state) are beside them under `ext_` names and never
change a national one. A 2208 answers with the amounts negated.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from centre.interface.fields import Age, Amount, DateText, DateTimeText, IdText, Model, PsnNo, Ratio, Str


class Settle2206(Model):
    psn_no: PsnNo
    mdtrt_cert_type: str = Field(pattern=r"^0[123]$")
    mdtrt_cert_no: Str = Field(max_length=100)
    med_type: str = Field(pattern=r"^[0-9]{2,6}$")
    medfee_sumamt: Amount = Field(description="医疗费总额: must equal the visit's uploaded details")
    psn_setlway: str = Field(pattern=r"^0[12]$", description="个人结算方式: 01 by items")
    mdtrt_id: IdText
    chrg_bchno: IdText = Field(description="收费批次号; 0000 = every batch of the visit")
    insutype: str = Field(pattern=r"^[0-9]{3}$")
    acct_used_flag: str = Field(pattern=r"^[01]$", description="个人账户使用标志: 1 the personal account may pay")
    ext_mulaid_owners: list[PsnNo] | None = Field(default=None, max_length=20, description=(
        "(project) whose mutual-aid accounts may pay, in order; omitted = every binding in the order it was "
        "registered (the national rule); [] = none"))


class Settle2207(Settle2206):
    invono: Str = Field(default="", max_length=20, description="发票号")
    ext_cash_allowed: bool = Field(default=True, description=(
        "(project) false: refuse unless the accounts cover the whole out-of-pocket part (a self-service kiosk "
        "takes no cash): checked against the balances at the moment of settling"))
    fulamt_ownpay_amt: Amount | None = Field(default=None, description="全自费金额 (as 2206 answered)")
    overlmt_selfpay: Amount | None = Field(default=None, description="超限价自费费用")
    preselfpay_amt: Amount | None = Field(default=None, description="先行自付金额")
    inscp_scp_amt: Amount | None = Field(default=None, description="符合政策范围金额")


class In2206(Model):
    data: Settle2206


class In2207(Model):
    data: Settle2207


class MulaidPart(Model):
    owner_psn_no: str
    owner_name: str
    binding_id: int
    scope: str
    amount: Amount


class Explained(Model):
    en: str
    zh: str


class SetlInfo(Model):
    mdtrt_id: str
    setl_id: str | None = Field(description="结算ID (null in a pre-settlement)")
    psn_no: str
    psn_name: str
    psn_cert_type: str
    certno: str
    gend: str
    naty: str
    brdy: DateText | None
    age: Age
    insutype: str
    psn_type: str
    cvlserv_flag: str
    setl_time: DateTimeText | None = Field(description="结算时间 yyyy-MM-dd HH:mm:ss (null in a pre-settlement)")
    mdtrt_cert_type: str
    med_type: str
    medfee_sumamt: Amount = Field(description="医疗费总额")
    fulamt_ownpay_amt: Amount = Field(description="全自费金额")
    overlmt_selfpay: Amount = Field(description="超限价自费费用")
    preselfpay_amt: Amount = Field(description="先行自付金额")
    inscp_scp_amt: Amount = Field(description="符合政策范围金额")
    act_pay_dedc: Amount = Field(description="实际支付起付线")
    hifp_pay: Amount = Field(description="基本医疗保险统筹基金支出")
    pool_prop_selfpay: Ratio = Field(description="基本医疗保险统筹基金支付比例")
    cvlserv_pay: Amount = Field(description="公务员医疗补助资金支出")
    hifes_pay: Amount = Field(description="企业补充医疗保险基金支出")
    hifmi_pay: Amount = Field(description="居民大病保险资金支出")
    hifob_pay: Amount = Field(description="职工大额医疗费用补助基金支出")
    maf_pay: Amount = Field(description="医疗救助基金支出")
    oth_pay: Amount = Field(description="其他支出")
    fund_pay_sumamt: Amount = Field(description="基金支付总额")
    psn_part_amt: Amount = Field(description="个人负担总金额")
    acct_pay: Amount = Field(description="个人账户支出 (own account plus mutual aid)")
    psn_cash_pay: Amount = Field(description="个人现金支出")
    hosp_part_amt: Amount = Field(description="医院负担金额")
    balc: Amount = Field(description="余额 (the patient's own account after; 0 without an account)")
    acct_mulaid_pay: Amount = Field(description="个人账户共济支付金额 (part of acct_pay)")
    medins_setl_id: str = Field(description="医药机构结算ID (= the request's msgid)")
    clr_optins: str = Field(description="清算经办机构")
    clr_way: str = Field(description="清算方式")
    clr_type: str = Field(description="清算类别")
    ext_own_acct_pay: Amount = Field(description="(project) the part of acct_pay from the patient's own account")
    ext_wallet_pay: Amount = Field(default=Decimal("0.00"), description=(
        "(project) the part of acct_pay from the patient's insurance wallet (医保钱包): personal-account money a "
        "relative transferred earlier, now the patient's own; not part of acct_mulaid_pay"))
    ext_wallet_balc: Amount = Field(default=Decimal("0.00"), description=(
        "(project) the patient's wallet after this settlement (5203, 2208: as it is now)"))
    ext_policy_admdvs: str | None = Field(default=None, description=(
        "(project) whose policy set the deductible, ratio and cap: the insured place's area code, or null for "
        "the centre's own rules"))
    ext_pool: str = Field(default="shared", description="(project) the year accumulators used: shared | outpatient | "
                          "inpatient")
    ext_class_c_from_account: bool | None = Field(default=None, description=(
        "(project) false where the insured place lets no account pay class C items: they are in psn_cash_pay "
        "(2206, 2207; null in a stored settlement's answer)"))
    ext_explain: list[Explained] = Field(default_factory=list, description=(
        "(project) how the settlement was reached beyond its figures, for the window to tell the patient: the "
        "insured place's policy, separate outpatient/inpatient totals, the wallet's part, a relative's prior-year "
        "balance, class C in cash"))
    ext_mulaid: list[MulaidPart] = Field(description="(project) acct_mulaid_pay per owner, in the order drawn")
    ext_status: str = Field(description="(project) settled | reversed | reversal | presettle")
    ext_reversal_of: str | None = Field(default=None, description="(project) the setl_id a reversal undoes")
    ext_has_account: bool = Field(description="(project) whether the patient has a personal account at all")


class SetlDetail(Model):
    fund_pay_type: str = Field(description="基金支付类型")
    inscp_scp_amt: Amount = Field(description="符合政策范围金额")
    crt_payb_lmt_amt: Amount = Field(description="本次可支付限额金额")
    fund_payamt: Amount = Field(description="基金支付金额")
    fund_pay_type_name: str = Field(description="基金支付类型名称")
    setl_proc_info: str = Field(description="结算过程信息")


class OutSettle(Model):
    """The answer of 2206, 2207, 2208 and 5203."""

    setlinfo: SetlInfo
    setldetail: list[SetlDetail]


class Reverse2208(Model):
    setl_id: IdText
    mdtrt_id: IdText
    psn_no: PsnNo


class In2208(Model):
    data: Reverse2208
