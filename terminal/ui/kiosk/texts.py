"""The kiosk's words, Chinese first: few, short, addressed to the patient."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "title": {"zh": "医保自助缴费", "en": "Self-service payment"},
    "insert": {"zh": "请插入社保卡", "en": "Please insert your social security card"},
    "insert_hint": {"zh": "芯片朝上，插入读卡器", "en": "Chip up, into the card reader"},
    "tray": {"zh": "演示卡（点击插入）", "en": "Demo cards (tap to insert)"},
    "tray_in": {"zh": "读卡器中：{name}", "en": "In the reader: {name}"},
    "tray_empty": {"zh": "读卡器中：无卡", "en": "In the reader: no card"},
    "remove_card": {"zh": "取出卡片", "en": "Remove card"},
    "reading": {"zh": "正在读卡，请稍候…", "en": "Reading your card…"},
    "hello": {"zh": "您好，{name}", "en": "Hello, {name}"},
    "own_account": {"zh": "我的个人账户", "en": "My account"},
    "no_own_account": {"zh": "您没有个人账户", "en": "You have no personal account"},
    "family": {"zh": "家人账户（可为您付款）", "en": "Family accounts that can pay for you"},
    "no_family": {"zh": "没有可用的家庭共济账户", "en": "No family account can pay for you"},
    "family_usable": {"zh": "家人账户可用", "en": "can pay"},
    "balance": {"zh": "余额", "en": "balance"},
    "pending_bill": {"zh": "待缴费用", "en": "Your bill"},
    "no_bill": {"zh": "您没有待缴费用", "en": "You have nothing to pay"},
    "total": {"zh": "费用合计", "en": "Total"},
    "fund_pays": {"zh": "医保统筹支付", "en": "Insurance fund pays"},
    "you_pay": {"zh": "个人负担", "en": "Your part"},
    "choose": {"zh": "请选择付款账户", "en": "Choose who pays"},
    "pay_own": {"zh": "我的账户", "en": "My account"},
    "pay_with": {"zh": "{name}的账户（家庭共济）", "en": "{name}'s account (family)"},
    "relation_of": {"zh": "您是其{relation}", "en": "you are their {relation}"},
    "account_pays": {"zh": "账户支付", "en": "Accounts pay"},
    "pin": {"zh": "请输入您的社保卡密码", "en": "Enter the PIN of your card"},
    "pin_again": {"zh": "请重新输入", "en": "Please try again"},
    "pin_hint": {"zh": "输入 6 位数字后按「确认」", "en": "Type 6 digits, then Confirm"},
    "confirm": {"zh": "确认", "en": "Confirm"},
    "back": {"zh": "返回", "en": "Back"},
    "cancel": {"zh": "取消", "en": "Cancel"},
    "clear": {"zh": "清除", "en": "Clear"},
    "next": {"zh": "去缴费", "en": "Pay"},
    "paying": {"zh": "正在支付，请勿取卡…", "en": "Paying, keep your card in…"},
    "paid": {"zh": "缴费成功", "en": "Paid"},
    "own_paid": {"zh": "个人账户支付", "en": "From your account"},
    "family_paid": {"zh": "{name}的账户支付", "en": "From {name}'s account"},
    "balance_after": {"zh": "个人账户余额", "en": "Your balance now"},
    "take_card": {"zh": "请取回您的社保卡", "en": "Please take your card"},
    "slip_not_saved": {"zh": "已缴费。结算单暂未保存，如需结算单请到收费窗口补打（结算号 {setl_id}）",
                       "en": "Paid. Your slip could not be saved: ask at the cashier's window for a copy "
                             "(settlement {setl_id})"},
    "done": {"zh": "完成", "en": "Done"},
    "setl_id": {"zh": "结算号", "en": "Settlement"},
    "card_removed": {"zh": "卡已取出，未扣费", "en": "Card removed: nothing was charged"},
    "timeout": {"zh": "操作超时，已返回首页", "en": "Timed out: back to the start"},
    "in_use": {"zh": "本自助机正在使用中", "en": "This kiosk is in use"},
    "in_use_hint": {"zh": "另一个窗口正在使用读卡器。\n请关闭另一个窗口，本页面将自动开始。",
                    "en": "Another window is using the card reader.\nClose it and this page starts by itself."},
    "error": {"zh": "无法完成", "en": "Could not finish"},
    "go_window": {"zh": "请到人工窗口缴费", "en": "Please pay at a cashier window"},
    "accounts_short": {"zh": "自助机只能从医保账户付款，账户余额不足以支付您的个人负担部分。",
                       "en": "This kiosk takes payment from insurance accounts only, and they do not cover your part."},
    "nothing_charged": {"zh": "本次未扣费，账单保留，请到人工窗口缴费。",
                        "en": "Nothing was charged: the bill stays open for the cashier window."},
    "bad_bill": {"zh": "账单有误，请到人工窗口", "en": "The bill has a problem: please go to a cashier window"},
    "card_expired": {"zh": "您的社保卡已过有效期", "en": "Your card has expired"},
    "pin_blocked": {"zh": "您的社保卡密码已锁定", "en": "Your card's PIN is blocked"},
    "pin_blocked_hint": {"zh": "自助机不能使用此卡缴费。", "en": "This kiosk cannot take a payment with this card."},
    "see_window": {"zh": "请到人工窗口办理", "en": "Please go to a cashier window"},
    "unknown_patient": {"zh": "未找到您的参保信息", "en": "Your insurance record was not found"},
}


def t(key: str, lang: str, **values: object) -> str:
    """The text for key in lang (zh when the language is unknown)."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["zh"]
    return text.format(**values) if values else text

