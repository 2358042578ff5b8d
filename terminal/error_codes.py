"""The terminal's error catalogue: every code the window raises, defined once.

Each entry is the code (stable: the CLI's JSON and the UI key on it), the class raised (its exit code:
1 refused, 2 usage or configuration), and what the code means in English and Chinese. A raise site names
the entry and says exactly what went wrong: `raise E.NOT_SAME_DAY.error(en, zh)`. Card and reader codes
are `drivers.errors`; the insurance centre's codes come through as it sends them. docs/errors.md lists
them all (a test keeps it equal to this file).
"""

from __future__ import annotations

from drivers import errors as card_errors
from drivers.errors import ErrorKind
from terminal.errors import (
    BadInput,
    CashierError,
    ConfigError,
    ConfigRetired,
    ErrorCode,
    K,
    RuleRefused,
    StoreError,
    UsageError,
)

ALL: list[ErrorCode] = []


def _e(code: str, kind: type[K], en: str, zh: str, usage_too: bool = False) -> ErrorCode[K]:
    entry = ErrorCode(code, kind, en, zh, usage_too)
    ALL.append(entry)
    return entry


class E:
    """The entries, by name (`E.DB_BUSY`)."""

    # --- the person and the card ------------------------------------------------------------------
    PERSON_UNKNOWN = _e("person_unknown", RuleRefused, "no such insured person in the local database",
                        "本地数据库中没有该参保人员")
    CARD_MISMATCH = _e("card_mismatch", RuleRefused, "the card does not belong to the person on record",
                       "卡号与证件号不符")
    CERTNO_INVALID = _e("certno_invalid", BadInput, "not a valid ID number", "证件号码无效")
    INSURANCE_INACTIVE = _e("insurance_inactive", RuleRefused,
                            "the patient's insurance is not active: cannot settle with insurance; the bill can be "
                            "paid in full in cash (self-pay)", "参保状态不正常,不能医保结算;可全自费现金结算")
    CARD_NEEDED = _e("card_needed", RuleRefused, "read the patient's card first", "请先读取患者的社保卡")

    # --- e-voucher and ID card ------------------------------------------------------------------------
    VOUCHER_NEEDED = _e("voucher_needed", RuleRefused, "scan the patient's e-voucher code first",
                        "请先扫描患者的医保电子凭证二维码")
    VOUCHER_MALFORMED = _e("voucher_malformed", BadInput, "not an e-voucher code: scan the code again",
                           "不是医保电子凭证二维码,请重新扫码")
    ID_CARD_NEEDED = _e("id_card_needed", RuleRefused, "read or type the patient's ID number first",
                        "请先读取或输入患者的身份证号码")
    ID_CARD_OFF = _e(
        "id_card_off", RuleRefused,
        "this window does not take the ID card as a credential ([terminal] id_card = false): the patient shows "
        "the social security card or the e-voucher",
        "本窗口未开通身份证就医([terminal] id_card = false),请出示社保卡或医保电子凭证")

    # --- the bill and settlement ----------------------------------------------------------------------
    BAD_BILL = _e("bad_bill", BadInput, "the bill is malformed, unreadable or absurd", "账单格式错误、无法读取或金额不合理")
    BAD_RELATIVES = _e("bad_relatives", BadInput, "relatives must be auto, none or a list of psn_no",
                       "共济人参数应为 auto、none 或人员编号列表")
    NO_BINDING = _e("no_binding", RuleRefused, "no active mutual-aid binding between the two", "两人之间没有有效的共济绑定")
    NO_POLICY_RULE = _e("no_policy_rule", RuleRefused,
                        "no [[policy.rule]] matches the insurance type, medical type and hospital level",
                        "医保政策中没有适用于该险种、医疗类别和医院等级的规则")
    REQUEST_ID_CONFLICT = _e("request_id_conflict", RuleRefused,
                             "the request id was used for another patient or a different request",
                             "请求号已用于其他患者或另一笔不同的结算请求")
    INSUFFICIENT_BALANCE = _e("insufficient_balance", RuleRefused, "the account no longer holds the amount",
                              "账户余额不足")
    INSUFFICIENT_QUOTA = _e("insufficient_quota", RuleRefused, "the mutual-aid quota no longer holds the amount",
                            "共济额度不足")
    ACCOUNTS_SHORT = _e("accounts_short", RuleRefused,
                        "the accounts do not cover the out-of-pocket part; nothing was charged",
                        "账户余额不足以支付个人负担部分;未扣费")
    UNKNOWN_SETTLEMENT = _e("unknown_settlement", BadInput, "no such settlement", "无此结算记录")
    IS_REVERSAL = _e("is_reversal", RuleRefused, "the settlement is itself a reversal", "该记录本身是冲正记录")
    ALREADY_REVERSED = _e("already_reversed", RuleRefused, "the settlement was already reversed",
                          "该笔结算已冲正,不能再次冲正")
    NOT_SAME_DAY = _e("not_same_day", RuleRefused, "only same-day reversal is allowed", "只能当日冲正")
    ACCOUNT_MISSING = _e("account_missing", RuleRefused, "the account is gone; cannot credit it back",
                         "账户不存在,无法退回")
    SLIP_NOT_SAVED = _e("slip_not_saved", BadInput, "the slip could not be saved", "结算单未能保存")

    # --- the insurance centre ------------------------------------------------------------------------
    CENTRE_UNREACHABLE = _e("centre_unreachable", CashierError,
                            "the insurance centre cannot be reached: nothing was charged or changed",
                            "无法连接医保中心,未扣费、未做任何变更")
    CENTRE_NO_ANSWER = _e("centre_no_answer", CashierError, "the insurance centre did not answer", "医保中心未应答")
    CENTRE_REFUSED = _e("centre_refused", CashierError, "refused by the centre", "医保中心拒绝了该交易")
    SETTLEMENT_UNKNOWN = _e(
        "settlement_unknown", CashierError,
        "no answer to the settlement, and the centre cannot be asked now: do not settle again until it answers",
        "结算结果未知,且暂时无法向医保中心确认:请勿重新结算")
    SETTLEMENT_REVERSED = _e("settlement_reversed", CashierError,
                             "the settlement's answer was lost; it had gone through and has been reversed",
                             "结算结果未知,已冲正,可重新结算")
    SETTLEMENT_NOT_DONE = _e("settlement_not_done", CashierError,
                             "the settlement's answer was lost; it never took effect: settle again",
                             "结算未生效,可重新结算")
    CENTRE_IMPORT_REFUSED = _e("centre_import_refused", CashierError, "the embedded centre refused the file",
                               "嵌入式医保中心拒绝导入该文件")
    DEMO_CENTRE = _e("demo_centre", CashierError, "the demo data could not be loaded into the centre",
                     "演示数据无法导入医保中心")

    # --- mutual aid (binding) ------------------------------------------------------------------------
    OWNER_NOT_EMPLOYEE = _e("owner_not_employee", RuleRefused,
                            "only an employee's (310) personal account can be shared",
                            "只有职工医保(310)个人账户可以共济")
    OWNER_NOT_ACTIVE = _e("owner_not_active", RuleRefused, "an owner's insurance must be active", "授权人须正常参保")
    OWNER_NO_ACCOUNT = _e("owner_no_account", RuleRefused, "the owner has no personal account to share",
                          "授权人没有职工医保个人账户,无法共济")
    USER_NOT_INSURED = _e("user_not_insured", RuleRefused, "the relative is not in basic medical insurance",
                          "亲属未参加基本医疗保险")
    USER_NOT_ACTIVE = _e("user_not_active", RuleRefused, "only an actively insured relative can be bound",
                         "只能绑定正常参保的亲属")
    SELF_BINDING = _e("self_binding", RuleRefused, "a person cannot be bound to their own account", "不能绑定本人")
    RELATION_UNKNOWN = _e("relation_unknown", RuleRefused, "unknown relation code (GB/T 4761)",
                          "未知的家庭关系代码(GB/T 4761)")
    RELATION_IN_LAW = _e("relation_in_law", RuleRefused, "in-laws are not close relatives and cannot share an account",
                         "姻亲不属于近亲属,不能共济")
    RELATION_NOT_CLOSE = _e("relation_not_close", RuleRefused, "not a close relative (近亲属)", "不属于近亲属,不能共济")
    NO_RULE_IN_FORCE = _e("no_rule_in_force", RuleRefused, "no mutual-aid rule was in force on that date",
                          "该日期尚无家庭共济政策")
    RELATION_NOT_ALLOWED = _e("relation_not_allowed", RuleRefused,
                              "the relation may not be bound under the rule in force on that date",
                              "按该日期适用的政策,该亲属不在可共济范围内")
    RELATION_GENDER_MISMATCH = _e("relation_gender_mismatch", RuleRefused,
                                  "the relation does not match the relative's recorded sex", "关系与登记的性别不符")
    BINDING_EXISTS = _e("binding_exists", RuleRefused, "the owner has already bound this relative",
                        "已绑定该亲属,不能重复绑定")
    USER_HAS_OWNER = _e("user_has_owner", RuleRefused,
                        "the relative is already bound by another owner; this region allows one owner per user",
                        "该亲属已被其他授权人绑定,本统筹区只允许一位授权人")
    SCOPE_UNKNOWN = _e("scope_unknown", BadInput, "scope must be local or cross_province",
                       "共济范围须为 local 或 cross_province")
    NEEDS_CROSS_PROVINCE = _e("needs_cross_province", RuleRefused,
                              "the two are insured in different provinces: bind cross-province with a quota",
                              "两人不在同一省参保,须办理跨省共济并设定共济额度")
    NOT_CROSS_PROVINCE = _e("not_cross_province", RuleRefused,
                            "the two are insured in the same province: bind as local", "两人在同一省参保,请办理省内共济")
    CROSS_PROVINCE_NOT_YET = _e("cross_province_not_yet", RuleRefused,
                                "cross-province mutual aid is not in force on that date", "跨省共济尚未开通")
    AREA_CLOSED = _e("area_closed", RuleRefused, "cross-province mutual aid is not open in the pooling area",
                     "参保统筹区未开通跨省共济")
    QUOTA_LOCAL = _e("quota_local", RuleRefused,
                     "a local binding draws on the owner's account directly: no quota is set",
                     "省内共济直接使用授权人个人账户,无需设定额度")
    QUOTA_REQUIRED = _e("quota_required", RuleRefused, "a cross-province binding needs a quota (共济额度) greater than 0",
                        "跨省共济须设定大于0的共济额度")
    QUOTA_EXCEEDS_BALANCE = _e("quota_exceeds_balance", RuleRefused, "the quota exceeds the owner's balance",
                               "共济额度超过授权人个人账户余额")
    BINDING_NOT_FOUND = _e("binding_not_found", RuleRefused, "the owner has no active binding of this relative",
                           "授权人没有绑定该亲属")
    AMOUNT_INVALID = _e("amount_invalid", BadInput, "an amount must be a whole number of fen within range",
                        "金额须为范围内的整数(分)", usage_too=True)

    # --- the database and the import ------------------------------------------------------------------
    DB_MISSING = _e("db_missing", StoreError, "database not found (run `cashier db init`)",
                    "数据库不存在(请先运行 cashier db init)")
    DB_EMPTY = _e("db_empty", StoreError, "database file is empty (run `cashier db init`)",
                  "数据库文件为空(请先运行 cashier db init)")
    DB_FOREIGN = _e("db_foreign", StoreError, "not a cashier database (nothing was changed)", "不是收费数据库(未做任何修改)")
    DB_NEWER = _e("db_newer", StoreError, "the database was written by a newer version of cashier",
                  "数据库由更新版本的 cashier 写入")
    DB_CORRUPT = _e("db_corrupt", StoreError, "database file is damaged or not a cashier database",
                    "数据库文件已损坏或不是收费数据库")
    DB_BUSY = _e("db_busy", StoreError, "the database is busy (another window is writing): try again",
                 "数据库忙(其他窗口正在写入),请重试")
    DB_WAL = _e("db_wal", StoreError, "cannot put the database in WAL mode", "无法将数据库设为 WAL 模式")
    DB_ERROR = _e("db_error", StoreError, "database error", "数据库错误")
    IMPORT_FILE = _e("import_file", BadInput, "cannot read the import file", "无法读取导入文件")
    IMPORT_EMPTY = _e("import_empty", BadInput, "an empty centre export is refused (nothing imported)",
                      "空的中心导出文件不予导入(未导入任何数据)")
    IMPORT_BAD_LINES = _e("import_bad_lines", BadInput, "lines of the export are wrong (nothing imported)",
                          "导入文件中有错误的行(未导入任何数据)")
    IMPORT_WORKER = _e("import_worker", StoreError, "the import's reading process stopped unexpectedly",
                       "导入读取进程意外退出")

    # --- the command line and the configuration ----------------------------------------------------
    CONFIG = _e("config", ConfigError, "the configuration is missing or wrong (the message names the key and the file)",
                "配置文件缺失或有误(信息中指明配置项和文件)")
    TRAINING_LEDGER_RETIRED = _e(
        "training_ledger_retired", ConfigRetired,
        "[centre] enabled = false is no longer accepted: the offline training ledger was retired. The window always "
        "works through the insurance centre, and the embedded centre ([centre] url empty, the default) runs "
        "in-process with no server: remove the line `enabled = false` from [centre]",
        "不再支持 [centre] enabled = false:离线培训账本已停用。本窗口始终经医保中心办理;内嵌医保中心([centre] url "
        "留空,默认)在本进程内运行,无需服务器:请删除 [centre] 中的 enabled = false 一行")
    BAD_FAULT = _e("bad_fault", UsageError, "the fault to inject is not understood", "无法识别要注入的故障")
    PIN_MISSING = _e("pin_missing", UsageError, "no PIN given, and no line on stdin to read it from",
                     "未提供密码,标准输入中也没有可读取密码的行")
    PIN_INVALID = _e("pin_invalid", UsageError, "a PIN is 4 to 16 digits", "密码应为4至16位数字")
    VOUCHER_MISSING = _e("voucher_missing", UsageError, "--voucher -: no code on stdin",
                         "--voucher -:标准输入中没有医保电子凭证码")
    ID_CARD_MISSING = _e("id_card_missing", UsageError, "--id-card -: no ID number on stdin",
                         "--id-card -:标准输入中没有身份证号码")
    ID_CARD_ON_ARGV = _e(
        "id_card_on_argv", UsageError,
        "--id-card takes '-': the ID number is read from stdin (pipe one line, or type it), never from the command "
        "line where other users and the shell history see it",
        "--id-card 只接受 '-':身份证号码从标准输入读取,不可写在命令行上")
    CERTNO_WITHOUT_VOUCHER = _e("certno_without_voucher", UsageError,
                                "--certno goes with --voucher (a card names its holder itself)",
                                "--certno 须与 --voucher 一起使用")
    BAD_DATE = _e("bad_date", UsageError, "--date must be a real date written YYYY-MM-DD",
                  "--date 应为真实日期,格式 YYYY-MM-DD")
    BAD_REQUEST_ID = _e("bad_request_id", UsageError, "--request-id is not a valid request id", "--request-id 无效")
    FILE_MISSING = _e("file_missing", UsageError, "the file named does not exist or is a folder", "指定的文件不存在或是文件夹")
    BAD_RELATIVE = _e("bad_relative", UsageError, "--to: name the relative by psn_no, card number or ID number",
                      "--to:请填写亲属的人员编号、社保卡号或身份证号")
    BAD_READER = _e("bad_reader", UsageError, "unknown reader spec: use emulator[:PROFILE], pcsc[:NAME] or serial:URL",
                    "无法识别的读卡器")
    BAD_PUBLIC_URL = _e("bad_public_url", UsageError,
                        "--public-url / [web].public_url must be http(s)://host[:port][/path]",
                        "公开地址必须是 http(s)://主机[:端口][/路径]")
    ADDRESS_IN_USE = _e("address_in_use", CashierError,
                        "cannot listen on the address (another `cashier web`? use --port)",
                        "无法在该地址上监听")
    INTERNAL = _e("internal", CashierError,
                  "unexpected error. Check whether the action took effect before trying again; if it happens again, "
                  "report this message to the maintainers",
                  "程序内部错误。请先核实本次操作是否已生效再重试;如再次出现,请记下本信息并联系维护人员")


BY_CODE: dict[str, ErrorCode] = {entry.code: entry for entry in ALL}

#: "nobody insured by that": the window's own code, and the centre's refusals that mean it (a card, an ID
#: number or an e-voucher the centre has no insured person for; the centre sends its codes as they are)
PERSON_NOT_FOUND = frozenset({E.PERSON_UNKNOWN.code, "card_unknown", "certno_unknown", "voucher_person_unknown"})

#: card codes that, met on the command line, are a malformed argument (exit 2), not the card's refusal
CARD_USAGE_KINDS = frozenset({card_errors.BAD_READER_SPEC, card_errors.PIN_INVALID, card_errors.UNKNOWN_PROFILE})


def card_kinds() -> list[ErrorKind]:
    """Every card and reader code of `drivers.errors`, in the order it defines them."""
    return [value for value in vars(card_errors).values() if isinstance(value, ErrorKind)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table_markdown() -> str:
    """The codes as docs/errors.md lists them (a test keeps the two equal)."""
    rows = ["| code | exit | class | English | 中文 |", "|---|---|---|---|---|"]
    for entry in ALL:
        exit_text = f"{entry.exit_code} (2 as a command-line argument)" if entry.usage_too else str(entry.exit_code)
        rows.append(f"| `{entry.code}` | {exit_text} | {entry.kind.__name__} | {_cell(entry.en)} | {_cell(entry.zh)} |")
    rows += ["", "| card code | exit | reader code | English | 中文 |", "|---|---|---|---|---|"]
    for kind in card_kinds():
        exit_text = "2 (a command-line argument)" if kind in CARD_USAGE_KINDS else "1"
        reader = "" if kind.reader_code is None else str(kind.reader_code)
        rows.append(f"| `{kind.code}` | {exit_text} | {reader} | {_cell(kind.en)} | {_cell(kind.zh)} |")
    return "\n".join(rows) + "\n"
