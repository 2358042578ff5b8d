"""The settlement slip (结算单) as plain text: what the UI, the kiosk and the printer show.

API: `slip_text(cfg, result) -> str`; `save_slip(db, cfg, result) -> Path` (writes
`<slips_dir>/<setl_id>.txt`, UTF-8). Every national field in yuan with two decimals; the ID
number masked (first 6 + last 4); mutual-aid owners named with their psn_no.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from pathlib import Path

import sqlite_utils

from terminal.domain.bill import MED_TYPES
from terminal.domain.money import round_fen, yuan

FIELD_LABELS = (
    ("medfee_sumamt", "医疗费总额"),
    ("fulamt_ownpay_amt", "全自费金额"),
    ("preselfpay_amt", "先行自付金额"),
    ("inscp_scp_amt", "符合范围金额"),
    ("act_pay_dedc", "起付线支付"),
    ("fund_pay_sumamt", "基金支付总额"),
    ("psn_part_amt", "个人负担总额"),
    ("acct_pay", "个人账户支出"),
    ("acct_mulaid_pay", "其中共济支付"),
    ("psn_cash_pay", "现金支付"),
)
INSUTYPES = {"310": "职工基本医疗保险", "390": "城乡居民基本医疗保险"}
MED_TYPES_ZH = {"11": "普通门诊", "14": "门诊慢特病", "21": "住院"}
WIDTH = 48


def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _cells(text))


def _line(label: str, value: str) -> str:
    return _pad(label, WIDTH - len(value)) + value


def _owner_names(db: sqlite_utils.Database | None, psn_nos: list[str]) -> dict[str, str]:
    if db is None or not psn_nos:
        return {}
    marks = ", ".join("?" * len(psn_nos))
    return dict(db.execute(f"SELECT psn_no, psn_name FROM persons WHERE psn_no IN ({marks})", psn_nos).fetchall())


def slip_text(cfg, result, db: sqlite_utils.Database | None = None) -> str:
    t = cfg.terminal
    title = "医保结算单" if result.status != "reversal" else "医保结算冲正单"
    rule = "-" * WIDTH
    heading = f"{t.hospital_name} {title}"
    out = [" " * max(0, (WIDTH - _cells(heading)) // 2) + heading,
           f"医疗机构 fixmedins_code: {t.hospital_code}",
           f"窗口 window: {result.window}    操作员 operator: {result.operator}",
           f"结算号 setl_id: {result.setl_id}",
           f"就诊号 mdtrt_id: {result.mdtrt_id}",
           f"报文号 msgid: {result.msgid}",
           f"结算时间 setl_time: {result.created_at.replace('T', ' ')}"]
    if result.reversal_of:
        out.append(f"冲正原结算 reversal_of: {result.reversal_of}")
    out += [rule,
            f"姓名 psn_name: {result.psn_name}",
            f"证件号码 certno: {result.certno_masked}",
            f"人员编号 psn_no: {result.psn_no}",
            f"险种 insutype: {result.insutype} {INSUTYPES.get(result.insutype, '')}",
            f"医疗类别 med_type: {result.med_type} {MED_TYPES_ZH.get(result.med_type, MED_TYPES.get(result.med_type, ''))}",
            rule, "项目 items (数量 × 单价 = 金额)"]
    for i, item in enumerate(result.bill.get("items", []), 1):
        qty = Decimal(str(item["qty"]))
        amount = round_fen(qty * item["price"])
        out.append(f"{i:>2}. [{item['class']}] {item['code']} {item.get('name', '')}")
        out.append(f"      {qty} × {yuan(item['price'])} = {yuan(amount)}")
    out.append(rule)
    for key, label in FIELD_LABELS:
        out.append(_line(f"{label} {key}", yuan(result.amounts[key])))
    if result.mulaid:
        names = _owner_names(db, [m["owner_psn_no"] for m in result.mulaid])
        out.append("共济账户 mulaid:")
        for m in result.mulaid:
            who = f"  {names.get(m['owner_psn_no'], '')} {m['owner_psn_no']}"
            scope = "跨省额度" if m.get("scope") == "cross_province" else "本地"
            out.append(_line(f"{who} ({scope})", yuan(m["amount"])))
    if result.balc is not None:
        out.append(_line("个人账户余额 balc", yuan(result.balc)))
    out += [rule, "请核对后签字 signature: ________", ""]
    return "\n".join(out)


def save_slip(db: sqlite_utils.Database | None, cfg, result) -> Path:
    folder = cfg.slips_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.setl_id}.txt"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(slip_text(cfg, result, db), encoding="utf-8")
    tmp.replace(path)
    return path
