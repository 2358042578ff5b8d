"""The settlement slip (结算单) as plain text: what the UI, the kiosk and the printer show.

API: `slip_text(cfg, result) -> str`; `as_charged(bill_json, classes)` (the bill with the class the centre
applied to each item, as the window records it); `save_slip(db, cfg, result) -> Path` (writes
`<slips_dir>/<setl_id>.txt`, UTF-8; OSError when it cannot); `keep_slip(db, cfg, result)` (after a
commit: saves it, or leaves `result.slip_warning` — a slip is a copy of a committed settlement, so
failing to write it never makes the settlement fail); `write_atomically(path, text)`.
Every national field in yuan with two decimals; the ID number masked (first 6 + last 4); mutual-aid
owners named with their psn_no.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import tempfile
import time
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import sqlite_utils

from centre.interface.amounts import round_fen, yuan_plain
from centre.interface.codes import ChrgitmLv, Insutype, MedType
from terminal import clock
from terminal.error_codes import E
from terminal.errors import CashierError
from terminal.store.people import person_names

log = logging.getLogger("cashier.slip")

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
    return person_names(db, psn_nos)


def as_charged(bill_json: dict[str, Any], classes: Sequence[str]) -> dict[str, Any]:
    """The bill as the centre charged it: each item's class is the one the centre's catalogue applied (its 2204
    answer, chrgitm_lv 01/02/03, in bill order), not the one typed at the window; where they differ the centre's
    wins, since the amounts on the slip follow it. A class the answer lacks keeps the bill's."""
    items = []
    for i, item in enumerate(bill_json.get("items", [])):
        charged = classes[i] if i < len(classes) else ""
        if charged in ChrgitmLv.values():
            item = {**item, "class": ChrgitmLv(charged).letter}
        items.append(item)
    return {**bill_json, "items": items}


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
           f"结算时间 setl_time: {clock.shown(result.created_at)}"]
    if result.reversal_of:
        out.append(f"冲正原结算 reversal_of: {result.reversal_of}")
    out += [rule,
            f"姓名 psn_name: {result.psn_name}",
            f"证件号码 certno: {result.certno_masked}",
            f"人员编号 psn_no: {result.psn_no}",
            *_credential_line(result),
            f"险种 insutype: {result.insutype} {Insutype.zh_of(result.insutype)}",
            f"医疗类别 med_type: {result.med_type} {MedType.zh_of(result.med_type)}",
            rule, "项目 items (数量 × 单价 = 金额)"]
    for i, item in enumerate(result.bill.get("items", []), 1):
        qty = Decimal(str(item["qty"]))
        amount = round_fen(qty * item["price"])
        out.append(f"{i:>2}. [{item['class']}] {item['code']} {item.get('name', '')}")
        out.append(f"      {qty} × {yuan_plain(item['price'])} = {yuan_plain(amount)}")
    out.append(rule)
    from terminal.services.wallet import WALLET_PAY_ZH, settlement_wallet
    wallet = settlement_wallet(result)
    for key, label in FIELD_LABELS:
        out.append(_line(f"{label} {key}", yuan_plain(result.amounts[key])))
        if key == "acct_mulaid_pay" and wallet.wallet_pay:
            out.append(_line(f"其中{WALLET_PAY_ZH} wallet", yuan_plain(wallet.wallet_pay)))
    if result.mulaid:
        names = _owner_names(db, [m.owner_psn_no for m in result.mulaid])
        out.append("共济账户 mulaid:")
        for m in result.mulaid:
            who = f"  {names.get(m.owner_psn_no, '')} {m.owner_psn_no}"
            scope = "跨省额度" if m.scope == "cross_province" else "本地"
            out.append(_line(f"{who} ({scope})", yuan_plain(m.amount)))
    if result.balc is not None:
        out.append(_line("个人账户余额 balc", yuan_plain(result.balc)))
    if wallet.wallet_pay and wallet.wallet_balc is not None:
        out.append(_line("医保钱包余额 wallet balc", yuan_plain(wallet.wallet_balc)))
    if wallet.explain:
        out += [rule, "结算说明 notes:"] + [f"- {zh}" for _, zh in wallet.explain]
    out += [rule, "请核对后签字 signature: ________", ""]
    return "\n".join(out)


CLOSING = set("，。、：；）」』！？,.:;)!?")


def folded(text: str, width: int = WIDTH) -> str:
    """The slip as a screen shows it: a line wider than the slip (a note of the centre's 结算说明, a long item
    name) goes on over the next lines, indented under its text, so a box as wide as the slip shows all of it.
    The file and the printed copy keep one line a note."""
    out: list[str] = []
    for line in text.split("\n"):
        if _cells(line) <= width:
            out.append(line)
            continue
        indent = " " * min(width // 2, len(line) - len(line.lstrip(" -0123456789.")))  # under "- "/" 1. "
        current = ""
        for token in re.findall(r"[!-~¥]+|\s+|.", line):        # a word, an amount (¥1,234.56) stays whole
            if current.strip() and _cells(current + token.rstrip()) > width:
                carried = ""
                if token in CLOSING and len(current.rstrip()) > len(indent) + 1:
                    carried, current = current.rstrip()[-1], current.rstrip()[:-1]   # no line starts with "，"
                out.append(current.rstrip())
                current = indent + carried + token.lstrip()
            else:
                current += token
        out.append(current.rstrip())
    return "\n".join(out)


def _credential_line(result) -> list[str]:
    """What the patient presented (就诊凭证), when the centre settled it: 01 e-voucher, 02 ID card, 03 card."""
    cert_type = getattr(result, "mdtrt_cert_type", None)
    if not cert_type:
        return []
    from centre.interface.codes import MdtrtCertType
    try:
        name = MdtrtCertType(cert_type).zh
    except ValueError:
        name = ""
    return [f"就诊凭证 mdtrt_cert_type: {cert_type} {name}".rstrip()]


class SlipNotSaved(CashierError):
    """The settlement is committed; only its slip could not be written (a warning, never a failure)."""


TMP_SUFFIX = ".tmp"
STALE_TMP_S = 60          # a temp file this old was left by a crash: no writer takes that long
_swept: set[str] = set()  # folders already cleared of crash leftovers by this process


def slip_path(cfg, setl_id: str) -> Path:
    return cfg.slips_dir / f"{setl_id}.txt"


def _sweep_leftovers(folder: Path) -> None:
    """Remove temp files a crashed writer left (once per folder and process, so they cannot pile up)."""
    key = str(folder)
    if key in _swept:
        return
    _swept.add(key)
    cutoff = time.time() - STALE_TMP_S
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") and entry.name.endswith(TMP_SUFFIX) and entry.is_file() \
                        and entry.stat().st_mtime < cutoff:
                    Path(entry.path).unlink(missing_ok=True)
    except OSError:
        pass


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all: a temp file with a unique name in the same folder,
    fsync'd, then renamed over `path`; the temp file is removed on any failure. OSError when it cannot."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    _sweep_leftovers(folder)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_slip(db: sqlite_utils.Database | None, cfg, result) -> Path:
    path = slip_path(cfg, result.setl_id)
    write_atomically(path, slip_text(cfg, result, db))
    return path


def keep_slip(db: sqlite_utils.Database | None, cfg, result, *, only_if_missing: bool = False) -> None:
    """After the commit: save the slip (`result.slip_path`), or say why not (`result.slip_warning`, a
    SlipNotSaved). Never raises: the money has moved, and the slip can be printed again (`cashier slip`).
    `only_if_missing`: a replay keeps the slip already saved and writes one only if it is missing."""
    path = slip_path(cfg, result.setl_id)
    try:
        if only_if_missing and path.is_file():
            result.slip_path = str(path)
            return
        result.slip_path = str(save_slip(db, cfg, result))
    except Exception as exc:
        why, why_zh = _why(exc)
        where = getattr(exc, "filename", None) or path
        log.info("slip of %s not saved: %s (%s)", result.setl_id, why, where)   # the result carries it
        result.slip_path = None
        what, what_zh = ("reversal", "冲正") if result.status == "reversal" else ("settlement", "结算")
        result.slip_warning = SlipNotSaved(
            E.SLIP_NOT_SAVED,
            f"the {what} {result.setl_id} is done, but its slip could not be saved to {where}: {why}. "
            f"Print or save it again with: cashier slip {result.setl_id}",
            f"{what_zh} {result.setl_id} 已完成,但结算单未能保存到 {where}: {why_zh}。"
            f"可用 cashier slip {result.setl_id} 重新打印或保存",
            setl_id=result.setl_id)


_ERRNO_ZH = {errno.ENOSPC: "磁盘已满", errno.EDQUOT: "超出磁盘配额", errno.EACCES: "没有写入权限",
             errno.EPERM: "没有写入权限", errno.EROFS: "只读文件系统", errno.EIO: "读写错误"}


def _why(exc: Exception) -> tuple[str, str]:
    """Why a slip could not be written, in English and Chinese."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)):     # mkdir over a file, or a file on the path
        return "a file is where the slips folder should be", "该位置是文件而不是文件夹"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror, _ERRNO_ZH.get(exc.errno or 0, exc.strerror)
    return f"{type(exc).__name__}: {exc}", f"{type(exc).__name__}: {exc}"
