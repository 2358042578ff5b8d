"""`cashier settle`, `cashier reverse`, `cashier slip`, `cashier reconcile` over any reader.

settle: the card in --reader is the patient's; `--pre` pre-settles (2206) and writes nothing; otherwise
the settlement (2207) is committed, then its slip (结算单) saved. JSON: every settlement field plus setl_id,
mulaid [{owner_psn_no, amount}], balc. A slip that cannot be saved is a warning (stderr, and `warning`
in the JSON) with exit 0: the settlement is done; `cashier slip SETL_ID` prints or saves it again.
reverse: same-day reversal (2208), its slip likewise. reconcile: this window's day totals per insurance type
checked against the centre's (3201); a mismatch prints the report, names what differs on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path

from terminal.cli.output import PIN_HELP, emit, message_lang, pin_arg, warn
from terminal.error_codes import E
from terminal.errors import ErrorCode, UsageError

VOUCHER_HELP = ("the patient's e-voucher code (医保电子凭证) instead of a card: '-' reads it from a line on stdin "
                "(what a scanner types), so it need not stay on a command line; no PIN is asked")


ID_CARD_HELP = ("the patient's resident ID card (身份证, mdtrt_cert_type 02) instead of a card: '-' reads the "
                "18-character ID number from a line on stdin (an ID number never goes on a command line); no PIN; "
                "the personal account does not pay unless the centre allows it ([centre] id_card_account); needs "
                "[terminal] id_card = true")


def _stdin_line(flag: str, prompt: str, what_en: str, what_zh: str, hint_en: str, missing: ErrorCode) -> str:
    """One line of stdin for `flag -` (not echoed on a terminal), blanks stripped; a usage error when empty."""
    if sys.stdin is None:
        line = ""
    elif sys.stdin.isatty():
        import getpass
        line = getpass.getpass(prompt)
    else:
        line = sys.stdin.readline()
    if not line.strip():
        raise UsageError(missing, f"{flag} -: no {what_en} on stdin ({hint_en})",
                         f"{flag} -:标准输入中没有{what_zh}")
    return line.strip()


def voucher_arg(value: str | None) -> str | None:
    """--voucher: the code as given, or ('-') one line of stdin (not echoed on a terminal); blanks stripped."""
    if value != "-":
        return value.strip() if value is not None else None
    return _stdin_line("--voucher", "--voucher (scan the code): ", "code", "医保电子凭证码(请扫码或输入一行)",
                       "scan it, or pipe one line", E.VOUCHER_MISSING)


def id_card_arg(value: str | None) -> str | None:
    """--id-card: '-' only (the ID number is read from one line of stdin, not echoed on a terminal)."""
    if value is None:
        return None
    if value != "-":
        raise E.ID_CARD_ON_ARGV.error()
    return _stdin_line("--id-card", "--id-card (ID number): ", "ID number", "身份证号码(请输入一行)",
                       "pipe one line, or type it", E.ID_CARD_MISSING)


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    settle = sub.add_parser("settle", parents=[common], help="pre-settle or settle a bill for the card presented")
    presented = settle.add_mutually_exclusive_group()
    presented.add_argument("--reader", help="emulator:PROFILE, pcsc, pcsc:NAME or serial:URL (default [reader].spec)")
    presented.add_argument("--voucher", metavar="CODE", help=VOUCHER_HELP)
    presented.add_argument("--id-card", metavar="-", help=ID_CARD_HELP)
    settle.add_argument("--certno", help="with --voucher: the patient's ID number; a code of anybody else is refused")
    settle.add_argument("--pin", help=PIN_HELP)
    settle.add_argument("--bill", required=True, help="the bill, a JSON file")
    settle.add_argument("--relatives", default="auto",
                        help="auto (every bound relative, in order), none, or owner psn_no's: PSN,PSN")
    settle.add_argument("--no-account", action="store_true", help="do not use any personal account (acct_used_flag 0)")
    settle.add_argument("--self-pay", action="store_true",
                        help="full self-pay in cash: no fund share, no account, no PIN (acct_used_flag 0); the way "
                             "on when the insurance is not active or the card has expired; recorded as a settlement")
    settle.add_argument("--pre", action="store_true", help="pre-settle only: show the split, write nothing")
    settle.add_argument("--request-id", help="idempotency key, 1 to 64 visible ASCII characters: a retry with the "
                                             "same id returns the first result")
    settle.set_defaults(handler=cmd_settle)

    reverse = sub.add_parser("reverse", parents=[common], help="reverse a settlement made today")
    reverse.add_argument("setl_id", metavar="SETL_ID")
    reverse.set_defaults(handler=cmd_reverse)

    slip = sub.add_parser("slip", parents=[common], help="print a settlement's or reversal's slip again, or save it")
    slip.add_argument("setl_id", metavar="SETL_ID")
    slip.add_argument("--out", metavar="FILE",
                      help="save it to FILE (a folder: FOLDER/SETL_ID.txt) instead of printing it")
    slip.set_defaults(handler=cmd_slip)

    rec = sub.add_parser("reconcile", parents=[common],
                         help="this window's day totals per insurance type checked against the insurance "
                              "centre's (3201)")
    rec.add_argument("--date", help="YYYY-MM-DD (default today)")
    rec.add_argument("--window", help="one window (default every window)")
    rec.set_defaults(handler=cmd_reconcile)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(value: str | None) -> str | None:
    """--date: a real calendar date written YYYY-MM-DD, or None (today)."""
    if value is None:
        return None
    if _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise E.BAD_DATE.error(f"--date must be a real date written YYYY-MM-DD (got {value!r})",
                     f"--date 应为真实日期,格式 YYYY-MM-DD(收到 {value!r})")


def _request_id(value: str | None) -> str | None:
    """--request-id: 1 to 64 visible ASCII characters (terminal.domain.text), or None (a fresh one)."""
    from terminal.domain.text import request_id_problem
    problem = request_id_problem(value) if value is not None else None
    if problem is not None:
        raise E.BAD_REQUEST_ID.error("--request-id: " + problem[0], "--request-id:" + problem[1])
    return value


def _relatives(value: str) -> str | list[str]:
    value = value.strip()
    if value in ("auto", "none"):
        return value
    owners = [p.strip() for p in value.split(",") if p.strip()]
    if not owners:
        raise E.BAD_RELATIVES.error("--relatives must be auto, none or PSN,PSN", "--relatives 应为 auto、none 或人员编号列表")
    return owners


def cmd_settle(args: argparse.Namespace) -> int:
    from terminal.card_session import CardSession
    from terminal.cli.main import load_cfg
    from terminal.domain.bill import load_bill
    from terminal.readers import open_reader
    from terminal.services.configured import bill_limits_of
    from terminal.services.ledger import open_ledger
    pin = pin_arg(args.pin)
    request_id = _request_id(args.request_id)
    relatives = _relatives(args.relatives)
    cfg = load_cfg(args)
    _require_file(args.bill, "--bill", "账单文件")
    bill = load_bill(args.bill, bill_limits_of(cfg))    # the config's absurd-amount limits
    if args.certno and args.voucher is None:
        raise E.CERTNO_WITHOUT_VOUCHER.error()
    code = voucher_arg(args.voucher)
    certno = id_card_arg(args.id_card)
    ledger = open_ledger(cfg)
    if certno is not None:
        try:
            return _settle_id_card(args, cfg, ledger, certno, bill, relatives, request_id)
        finally:
            ledger.close()
    if code is not None:
        try:
            return _settle_voucher(args, cfg, ledger, code, bill, relatives, request_id)
        finally:
            ledger.close()
    try:
        session = CardSession(open_reader(args.reader, cfg), cfg)
        try:
            if args.pre:
                patient = ledger.patient_for_card(session.read())
                pre = ledger.presettle(patient.psn_no, bill, relatives=relatives, acct_used_flag=not args.no_account,
                                       self_pay=args.self_pay)
                out = {"setl_id": None, "psn_no": patient.psn_no, "psn_name": patient.psn_name,
                       "certno": patient.certno_masked, "insutype": patient.insutype, "med_type": bill.med_type,
                       **pre.fields(), "pre": True}
                return emit(args, _pre_in_yuan(out), _pre_text(out))
            try:
                result = ledger.settle(session, bill, pin=pin, relatives=relatives,
                                       acct_used_flag=not args.no_account, request_id=request_id,
                                       self_pay=args.self_pay)
            except Exception as exc:
                raise _self_pay_hint(exc, args.self_pay) from None
        finally:
            session.close()
        return _done(args, cfg, ledger, result)
    finally:
        ledger.close()


def _settle_voucher(args: argparse.Namespace, cfg, ledger, code: str, bill, relatives, request_id) -> int:
    """--voucher: 1101 with the code (mdtrt_cert_type 01), then the visit and the settlement with it; no PIN."""
    patient = ledger.patient_for_voucher(code, args.certno or "")
    return _settle_without_card(args, cfg, ledger, patient, "01", ledger.settle_voucher, not args.no_account,
                                bill, relatives, request_id)


def _settle_id_card(args: argparse.Namespace, cfg, ledger, certno: str, bill, relatives, request_id) -> int:
    """--id-card -: 1101 with the ID number (mdtrt_cert_type 02), then the visit and the settlement; no PIN, and
    no personal account unless the centre allows it on the ID card."""
    patient = ledger.patient_for_id_card(certno)
    return _settle_without_card(args, cfg, ledger, patient, "02", ledger.settle_id_card,
                                cfg.centre.id_card_account and not args.no_account, bill, relatives, request_id)


def _settle_without_card(args: argparse.Namespace, cfg, ledger, patient, cert_type: str, settle, acct_used: bool,
                         bill, relatives, request_id) -> int:
    """The patient as 1101 named them from a credential that is not the card: --pre, or the settlement."""
    if args.pre:
        pre = ledger.presettle(patient.psn_no, bill, relatives=relatives, acct_used_flag=acct_used,
                               self_pay=args.self_pay)
        out = {"setl_id": None, "psn_no": patient.psn_no, "psn_name": patient.psn_name,
               "certno": patient.certno_masked, "insutype": patient.insutype, "med_type": bill.med_type,
               "mdtrt_cert_type": cert_type, **pre.fields(), "pre": True}
        return emit(args, _pre_in_yuan(out), _pre_text(out))
    try:
        result = settle(patient.psn_no, bill, relatives=relatives, acct_used_flag=acct_used,
                        request_id=request_id, self_pay=args.self_pay)
    except Exception as exc:
        raise _self_pay_hint(exc, args.self_pay) from None
    return _done(args, cfg, ledger, result)


def _done(args: argparse.Namespace, cfg, ledger, result) -> int:
    """A committed settlement or reversal: its slip, where it was saved, and a warning if it was not.

    `--json` is the platform's shape (see terminal.services.platform_json)."""
    notes = []
    if result.replayed:
        notes.append("a retry: the first result, nothing charged again")
    if getattr(result, "kind", "insurance") == "cash_only":
        notes.append("cash only, recorded at this window (the centre was not asked)")
    if result.slip_path:
        notes.append(f"saved: {result.slip_path}")
    from terminal.services.platform_json import settlement_json
    out = settlement_json(result)
    if result.slip_warning is not None:
        out["warning"] = {"code": result.slip_warning.code,
                          "message": result.slip_warning.localized(message_lang(args))}
        warn(args, result.slip_warning)
    return emit(args, out, ledger.slip_text(result) + "".join(f"({n})" for n in notes))


def _require_file(path: str, option: str, what_zh: str) -> None:
    """A file named on the command line that is not there is a usage error (exit 2), before anything else."""
    if not Path(path).is_file():
        why = "is a folder, not a file" if Path(path).is_dir() else "does not exist"
        why_zh = "是文件夹,不是文件" if Path(path).is_dir() else "不存在"
        raise E.FILE_MISSING.error(f"{option} {path}: the file {why}", f"{option} {path}: {what_zh}{why_zh}")


def _self_pay_hint(exc: Exception, self_pay: bool) -> Exception:
    """A refusal that full self-pay gets past (insurance not active, card expired) says so: no dead end."""
    from drivers.errors import CARD_EXPIRED
    from terminal.errors import RuleRefused, describe
    code = getattr(exc, "code", "")
    if self_pay or code not in (E.INSURANCE_INACTIVE.code, CARD_EXPIRED.code):
        return exc
    en, zh = describe(exc, "en")[1], describe(exc, "zh")[1]
    if "self-pay" not in en:
        en += "; the bill can be paid in full in cash (self-pay)"
    if "全自费" not in zh:
        zh += ";可全自费现金结算"
    return RuleRefused(code, f"{en}: settle it again with --self-pay", f"{zh}:加 --self-pay 重新结算")


def _pre_in_yuan(out: dict) -> dict:
    """A pre-settlement (2206) on the centre, as the platform writes it: yuan under the national names (exact
    two-decimal numbers), fen under names ending `_fen`."""
    from centre.interface.amounts import fen_to_yuan
    from terminal.services.views import Split
    names = (*Split.AMOUNT_FIELDS, "own_acct_pay", "balc")
    shown = {k: v for k, v in out.items() if k not in names and k != "mulaid"}
    for k in names:
        shown[k] = None if out[k] is None else fen_to_yuan(out[k])
        shown[f"{k}_fen"] = out[k]
    shown["mulaid"] = [{**m, "amount": fen_to_yuan(m["amount"]), "amount_fen": m["amount"]} for m in out["mulaid"]]
    return shown


def _pre_text(out: dict) -> str:
    from centre.interface.amounts import yuan_plain
    from terminal.services.slip import FIELD_LABELS
    lines = [f"预结算 pre-settlement (nothing written): {out['psn_name']} {out['certno']} {out['psn_no']}"]
    lines += [f"  {label} {key}: {yuan_plain(out[key])}" for key, label in FIELD_LABELS]
    lines += [f"  共济 {m['owner_psn_no']}: {yuan_plain(m['amount'])}" for m in out["mulaid"]]
    if out["balc"] is not None:
        lines.append(f"  个人账户余额 balc (after): {yuan_plain(out['balc'])}")
    return "\n".join(lines)


def _ledger(args: argparse.Namespace):
    from terminal.cli.main import load_cfg
    from terminal.services.ledger import open_ledger
    cfg = load_cfg(args)
    return cfg, open_ledger(cfg)


def cmd_reverse(args: argparse.Namespace) -> int:
    cfg, ledger = _ledger(args)
    try:
        result = ledger.reverse(args.setl_id)
        return _done(args, cfg, ledger, result)
    finally:
        ledger.close()


def cmd_slip(args: argparse.Namespace) -> int:
    """The slip of a settlement or reversal, from the window's record: printed, or saved to --out."""
    from terminal.services.slip import write_atomically
    cfg, ledger = _ledger(args)
    try:
        result = ledger.load_result(args.setl_id)
        text = ledger.slip_text(result)
    finally:
        ledger.close()
    if args.out is None:
        return emit(args, {"setl_id": result.setl_id, "slip": text, "saved": None}, text)
    path = Path(args.out)
    if path.is_dir():
        path = path / f"{result.setl_id}.txt"
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise E.SLIP_NOT_SAVED.error(f"cannot save the slip to {path}: {exc.strerror or exc}",
                       f"结算单无法保存到 {path}: {exc.strerror or exc}") from None
    return emit(args, {"setl_id": result.setl_id, "slip": text, "saved": str(path)}, f"saved: {path}")


def cmd_reconcile(args: argparse.Namespace) -> int:
    """3201 per insurance type: the window's totals from its own record against the centre's answer; a
    disagreement names what differs."""
    day = _date(args.date)
    cfg, ledger = _ledger(args)
    try:
        report = ledger.reconcile(day, args.window)
    finally:
        ledger.close()
    emit(args, report.to_json(), report.text())
    if not report.ok:
        print("RECONCILIATION MISMATCH: " + "; ".join(report.problems()), file=sys.stderr)
        return 1
    return 0
