"""Every string the cashier UI shows, in Chinese (default) and English.

The language comes from `[terminal].lang` or `--lang`; screens call `app.t(key, **fields)`.
Messages of errors come from the catalogues (`terminal.errors.describe`), not from here.
"""

from __future__ import annotations

# key: (zh, en)
STRINGS: dict[str, tuple[str, str]] = {
    # app and frame
    "app.title": ("医保收费窗口", "Insurance cashier window"),
    "app.sub": ("窗口 {window} · 收费员 {operator}", "Window {window} · cashier {operator}"),
    "key.help": ("帮助", "Help"),
    "key.quit": ("退出", "Quit"),
    "key.back": ("返回", "Back"),
    "key.bill": ("账单", "Bill"),
    "key.bindings": ("共济绑定", "Bindings"),
    "key.today": ("当日结算", "Today"),
    "key.pay": ("支付", "Pay"),
    "key.dayend": ("日终对账", "Day end"),
    "key.tray_pick": ("选卡", "Cards"),
    "key.tray_toggle": ("插/拔卡", "Card in/out"),
    "key.add": ("添加", "Add"),
    "key.reread": ("重新读卡", "Read again"),
    "key.remove": ("删除", "Remove"),
    "key.unbind": ("解绑", "Unbind"),
    "key.confirm": ("确认", "Confirm"),
    "key.reverse": ("冲正", "Reverse"),
    "key.print": ("打印到文件", "Print to file"),
    "key.new": ("下一位", "Next patient"),
    "key.refresh": ("刷新", "Refresh"),
    "key.up": ("上移", "Move up"),
    "key.down": ("下移", "Move down"),
    "key.toggle": ("选用", "Use/skip"),
    "key.medtype": ("就诊类型", "Visit type"),
    # waiting
    "wait.name": ("等待插卡", "Waiting for a card"),
    "wait.title": ("请插入社会保障卡", "Please insert the social security card"),
    "wait.hint": ("患者插卡后自动读卡", "The card is read as soon as it is inserted"),
    "wait.demo_hint": ("演示:按 1-9 插入卡托中的卡(或 F8 选卡),F9 拔卡", "Demo: press 1-9 to insert a card from the tray (or F8), F9 to pull it"),
    "wait.reader": ("读卡器", "Reader"),
    "wait.reader_ok": ("就绪", "ready"),
    "wait.reader_card": ("有卡", "card present"),
    "wait.reader_error": ("故障", "fault"),
    "wait.reading": ("正在读卡…", "Reading the card…"),
    "wait.window": ("窗口", "Window"),
    "wait.operator": ("收费员", "Cashier"),
    "wait.today": ("今日结算", "Today's settlements"),
    "wait.count": ("笔数", "Count"),
    "wait.no_totals": ("暂无", "none yet"),
    "wait.date": ("日期", "Date"),
    # notices
    "notice.card_removed": ("卡已拔出,已返回等待插卡,未做任何记账。", "Card removed: back to waiting, nothing was written."),
    "notice.card_removed_paying": ("支付过程中卡被拔出,本次结算未记账。", "Card removed during payment: nothing was charged."),
    "notice.unknown_person": ("本地库中无此人(卡号 {card_no})。", "This person is not in the local database (card {card_no})."),
    "notice.saved": ("已保存: {path}", "Saved: {path}"),
    "notice.reversed": ("已冲正 {setl_id}", "Reversed {setl_id}"),
    "notice.bound": ("已绑定 {name}", "Bound {name}"),
    "notice.unbound": ("已解绑 {name}", "Unbound {name}"),
    "notice.no_card": ("请先插卡", "Insert a card first"),
    "notice.busy": ("正在处理,请稍候…", "Working, please wait…"),
    # patient
    "pat.title": ("患者信息", "Patient"),
    "pat.card": ("卡片", "Card"),
    "pat.insurance": ("参保", "Insurance"),
    "pat.name": ("姓名", "Name"),
    "pat.certno": ("身份证号", "ID number"),
    "pat.gend": ("性别", "Sex"),
    "pat.brdy": ("出生日期", "Date of birth"),
    "pat.card_no": ("社保卡号", "Card number"),
    "pat.card_ver": ("卡版本", "Card version"),
    "pat.valid": ("有效期", "Valid"),
    "pat.region": ("发卡地", "Issued in"),
    "pat.psn_no": ("人员编号", "Person no."),
    "pat.insutype": ("险种", "Insurance type"),
    "pat.status": ("参保状态", "Status"),
    "pat.insuplc": ("参保地", "Insured in"),
    "pat.own": ("本人个人账户", "Own personal account"),
    "pat.own_none": ("无个人账户", "no personal account"),
    "pat.family": ("可用家庭共济账户", "Family accounts that may pay"),
    "pat.family_none": ("无可用的家庭共济账户", "No family account may pay for this patient"),
    "pat.total_avail": ("账户合计可用", "Available from accounts"),
    "pat.expired": ("此卡已过有效期", "This card has expired"),
    "pat.inactive": ("参保状态非正常,不能使用医保结算", "Insurance is not active: cannot settle with insurance"),
    "gend.1": ("男", "male"),
    "gend.2": ("女", "female"),
    "insutype.310": ("职工基本医疗保险", "Employee basic medical insurance"),
    "insutype.390": ("城乡居民基本医疗保险", "Urban-rural resident medical insurance"),
    "stas.1": ("正常参保", "active"),
    "stas.2": ("暂停参保", "suspended"),
    "stas.4": ("终止参保", "ended"),
    "col.owner": ("账户所有人", "Account owner"),
    "col.relation": ("关系", "Relation"),
    "col.scope": ("范围", "Scope"),
    "col.available": ("可用金额", "Available"),
    "rel.patient_is": ("患者是其{name}", "patient is {name}"),
    "col.order": ("顺序", "Order"),
    "col.use": ("使用", "Use"),
    "col.account": ("账户", "Account"),
    "col.pays": ("本次支付", "Pays now"),
    "scope.local": ("本地", "local"),
    "scope.cross_province": ("跨省", "cross-province"),
    # bill
    "bill.title": ("费用明细", "Bill"),
    "bill.code": ("项目编码", "Code"),
    "bill.item": ("项目名称", "Item"),
    "bill.class": ("甲乙丙", "Class"),
    "bill.qty": ("数量", "Qty"),
    "bill.price": ("单价(元)", "Price (¥)"),
    "bill.amount": ("金额", "Amount"),
    "bill.empty": ("尚无项目:填写下方一行后按 Enter 添加", "No items yet: fill in the line below and press Enter"),
    "bill.med_type": ("就诊类型", "Visit type"),
    "bill.split": ("预结算", "Pre-settlement"),
    "bill.split_hint": ("预结算不记账", "A pre-settlement writes nothing"),
    "bill.need_items": ("请先添加费用项目", "Add at least one item first"),
    "bill.bad_line": ("请至少填写项目编码和单价(元,最多两位小数)", "Enter at least a code and a price (yuan, at most 2 decimals)"),
    "bill.added": ("已添加 {name}", "Added {name}"),
    "med_type.11": ("普通门诊", "general outpatient"),
    "med_type.14": ("门诊慢特病", "chronic/special outpatient"),
    "med_type.21": ("住院", "inpatient"),
    # the split (national names)
    "f.medfee_sumamt": ("医疗费总额", "Total"),
    "f.fulamt_ownpay_amt": ("全自费金额", "Fully self-paid"),
    "f.preselfpay_amt": ("先行自付金额", "Self-paid first"),
    "f.inscp_scp_amt": ("符合范围金额", "In scope"),
    "f.deductible": ("起付线内", "Deductible part"),
    "f.fund_pay_sumamt": ("基金支付", "Fund pays"),
    "f.psn_part_amt": ("个人负担", "Out of pocket"),
    "f.acct_pay": ("个人账户支付", "Accounts pay"),
    "f.own_pay": ("  其中本人账户", "  of which own account"),
    "f.acct_mulaid_pay": ("  其中共济支付", "  of which family"),
    "f.psn_cash_pay": ("现金支付", "Cash"),
    "f.balc": ("本人账户余额(结算后)", "Own balance after"),
    # payment
    "pay.title": ("支付", "Payment"),
    "pay.order": ("账户及支付顺序", "Accounts and order"),
    "pay.use_account": ("使用个人账户", "Use personal accounts"),
    "key.accounts": ("账户开关", "Accounts"),
    "pay.own": ("本人账户", "Own account"),
    "pay.cash": ("现金", "Cash"),
    "pay.pin": ("密码", "PIN"),
    "pay.pin_hint": ("请患者输入社保卡密码", "Patient enters the card's PIN"),
    "pay.pin_keypad": ("请患者在读卡器键盘上输入密码", "Patient enters the PIN on the terminal keypad"),
    "pay.pin_not_needed": ("不使用个人账户,无需密码", "No account used: no PIN needed"),
    "pay.confirm_hint": ("核对金额后按 Enter 或 F5 确认收费", "Check the amounts, then Enter or F5 to charge"),
    "pay.need_pin": ("请患者输入密码", "The patient must enter the PIN"),
    "pay.cash_due": ("应收现金", "Cash to collect"),
    "pay.working": ("正在校验密码并结算…", "Verifying the PIN and settling…"),
    "pay.keypad_wait": ("等待读卡器键盘输入密码…", "Waiting for the PIN on the reader's keypad…"),
    # result
    "res.title": ("结算完成", "Settled"),
    "res.slip": ("结算单", "Settlement slip"),
    "res.amounts": ("结算金额", "Amounts"),
    "res.setl_id": ("结算号", "Settlement id"),
    "res.saved": ("结算单已保存", "Slip saved"),
    "res.print_to": ("打印到文件", "Print to file"),
    "res.printed": ("已打印到 {path}", "Printed to {path}"),
    "res.next": ("取卡后自动返回等待;按 F10 下一位", "Returns to waiting when the card is taken; F10 next patient"),
    # bindings
    "bind.title": ("家庭共济绑定", "Family mutual-aid bindings"),
    "bind.owner": ("授权人(账户所有人)", "Owner (whose account pays)"),
    "bind.list": ("已绑定的使用人", "Relatives bound to this account"),
    "bind.none": ("尚无绑定", "No bindings yet"),
    "bind.add": ("新增绑定", "New binding"),
    "bind.user": ("使用人卡号或身份证号", "Relative's card no. or ID no."),
    "bind.relation": ("使用人是授权人的", "The relative is the owner's"),
    "bind.scope": ("范围", "Scope"),
    "bind.quota": ("共济额度(元,跨省)", "Quota (¥, cross-province)"),
    "bind.pin": ("授权人密码", "Owner's PIN"),
    "bind.col_user": ("使用人", "Relative"),
    "bind.col_certno": ("身份证号", "ID number"),
    "bind.col_since": ("起始日期", "Since"),
    "bind.col_quota": ("额度", "Quota"),
    "bind.confirm_unbind": ("解除 {owner} 与 {user} 的共济绑定?", "End the binding of {owner}'s account for {user}?"),
    "bind.need_user": ("请输入使用人卡号或身份证号", "Enter the relative's card or ID number"),
    "bind.need_relation": ("请选择关系", "Choose the relation"),
    "bind.need_pin": ("请输入授权人密码", "Enter the owner's PIN"),
    "bind.not_owner": ("此人无职工个人账户,不能作为授权人", "This person has no employee account and cannot be an owner"),
    # today's settlements
    "today.title": ("当日结算", "Today's settlements"),
    "today.none": ("今日尚无结算", "No settlements today"),
    "today.col_time": ("时间", "Time"),
    "today.col_id": ("结算号", "Settlement id"),
    "today.col_name": ("患者", "Patient"),
    "today.col_total": ("总额", "Total"),
    "today.col_fund": ("基金", "Fund"),
    "today.col_acct": ("账户", "Accounts"),
    "today.col_cash": ("现金", "Cash"),
    "today.col_state": ("状态", "State"),
    "today.state_ok": ("正常", "settled"),
    "today.state_reversed": ("已冲正", "reversed"),
    "today.state_reversal": ("冲正记录", "reversal"),
    "today.confirm": ("冲正结算 {setl_id}({name},{amount})?资金将全部退回。",
                      "Reverse settlement {setl_id} ({name}, {amount})? Every amount goes back."),
    "today.pick": ("请选择一笔结算", "Choose a settlement"),
    # reconciliation
    "rec.title": ("日终对账", "Day-end reconciliation"),
    "rec.date": ("对账日期", "Date"),
    "rec.window": ("窗口", "Window"),
    "rec.count": ("结算笔数", "Settlements"),
    "rec.breakdown": ("结算 {settled} 笔,冲正 {reversals} 笔", "{settled} settled, {reversals} reversed"),
    "rec.ok": ("对账平衡:汇总与账目一致", "Balanced: the totals match the ledger"),
    "rec.bad": ("对账不平:汇总与账目不一致", "NOT balanced: the totals differ from the ledger"),
    "rec.settled": ("结算汇总", "Settlements"),
    "rec.ledger": ("账目", "Ledger"),
    # confirm modal
    "confirm.yes": ("确认 (Y)", "Yes (Y)"),
    "confirm.no": ("取消 (N)", "No (N)"),
    # help
    "help.title": ("帮助:全部按键", "Help: every key"),
    "help.global": ("任何界面", "Anywhere"),
    "help.where": ("界面", "Screen"),
    "help.key": ("按键", "Key"),
    "help.does": ("作用", "Does"),
    "help.k_insert": ("插入卡托中第 N 张卡(演示)", "Insert card N from the tray (demo)"),
    "help.k_add": ("添加正在填写的项目;空行时去支付", "Add the line being typed; on an empty line, go to payment"),
    "help.k_next_field": ("下一个输入框", "Next field"),
    "help.mouse": ("鼠标", "Mouse"),
    "help.mouse_does": ("点击底部按键即执行;点击卡托中的卡即插入或拔出", "Click a key at the bottom to do it; click a card in the tray to insert or pull it"),
    "help.close": ("按 Esc 关闭", "Esc closes"),
    # tray
    "tray.title": ("卡托", "Card tray"),
    "tray.inserted": ("已插入: {name}", "Inserted: {name}"),
    "tray.empty": ("读卡器无卡", "reader empty"),
    "tray.pick_title": ("选择要插入的卡 (1-9)", "Choose a card to insert (1-9)"),
    # generic
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "error": ("错误", "Error"),
}

LANGS = ("zh", "en")


def normalize(lang: str | None) -> str:
    """'zh', 'zh_CN', 'en-GB' … → 'zh' or 'en' (zh when unknown)."""
    return "en" if (lang or "").lower().startswith("en") else "zh"


class Translator:
    """`t(key, **fields)`: the string in this language, with fields filled in."""

    def __init__(self, lang: str | None) -> None:
        self.lang = normalize(lang)
        self._index = 0 if self.lang == "zh" else 1

    def __call__(self, key: str, **fields: object) -> str:
        pair = STRINGS.get(key)
        if pair is None:
            return key
        text = pair[self._index]
        return text.format(**fields) if fields else text

    def has(self, key: str) -> bool:
        return key in STRINGS
