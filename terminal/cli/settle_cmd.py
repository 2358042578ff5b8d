"""`cashier settle`, `cashier reverse`, `cashier reconcile` (DESIGN §8.1) over any reader.

settle: the card in --reader is the patient's; `--pre` pre-settles (2206) and writes nothing; otherwise
the settlement (2207) is committed and its slip (结算单) saved. JSON: every §6.2 field plus setl_id,
mulaid [{owner_psn_no, amount}], balc. reverse: same-day reversal (2208). reconcile: day totals per
window checked against the ledger (3201); a mismatch prints the report and exits 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date

from terminal.cli.main import open_db
from terminal.cli.output import emit, pin_arg
from terminal.errors import BadInput, UsageError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    settle = sub.add_parser("settle", parents=[common], help="pre-settle or settle a bill for the card presented")
    settle.add_argument("--reader", help="emulator:PROFILE, pcsc, pcsc:NAME or serial:URL (default [reader].spec)")
    settle.add_argument("--pin", help="the card's PIN (omit to type it on the reader's keypad)")
    settle.add_argument("--bill", required=True, help="the bill, JSON (DESIGN §8.3)")
    settle.add_argument("--relatives", default="auto",
                        help="auto (every bound relative, in order), none, or owner psn_no's: PSN,PSN")
    settle.add_argument("--no-account", action="store_true", help="do not use any personal account (acct_used_flag 0)")
    settle.add_argument("--self-pay", action="store_true",
                        help="full self-pay in cash: no fund share, no account, no PIN (acct_used_flag 0); the way "
                             "on when the insurance is not active or the card has expired; recorded as a settlement")
    settle.add_argument("--pre", action="store_true", help="pre-settle only: show the split, write nothing")
    settle.add_argument("--request-id", help="idempotency key: a retry with the same id returns the first result")
    settle.set_defaults(handler=cmd_settle)

    reverse = sub.add_parser("reverse", parents=[common], help="reverse a settlement made today")
    reverse.add_argument("setl_id", metavar="SETL_ID")
    reverse.set_defaults(handler=cmd_reverse)

    rec = sub.add_parser("reconcile", parents=[common], help="day totals per window, checked against the ledger")
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
    raise UsageError("bad_date", f"--date must be a real date written YYYY-MM-DD (got {value!r})",
                     f"--date 应为真实日期,格式 YYYY-MM-DD(收到 {value!r})")


def _relatives(value: str) -> str | list[str]:
    value = value.strip()
    if value in ("auto", "none"):
        return value
    owners = [p.strip() for p in value.split(",") if p.strip()]
    if not owners:
        raise BadInput("bad_relatives", "--relatives must be auto, none or PSN,PSN", "--relatives 应为 auto、none 或人员编号列表")
    return owners


def cmd_settle(args: argparse.Namespace) -> int:
    from terminal.card_session import CardSession
    from terminal.domain.bill import load_bill
    from terminal.readers import open_reader
    from terminal.services import settlement
    from terminal.services.slip import slip_text
    from terminal.cli.main import load_cfg
    from terminal.services.settlement import policy_for
    from terminal.store.db import open_from_config
    pin = pin_arg(args.pin)
    relatives = _relatives(args.relatives)
    cfg = load_cfg(args)
    bill = load_bill(args.bill, policy_for(cfg).bill_limits)    # the config's absurd-amount limits
    db = open_from_config(cfg)
    session = CardSession(open_reader(args.reader, cfg), cfg)
    try:
        if args.pre:
            patient = settlement.patient_for_card(db, session.read())
            pre = settlement.presettle_for(db, cfg, patient.psn_no, bill, relatives, not args.no_account,
                                           self_pay=args.self_pay)
            out = {"setl_id": None, "psn_no": patient.psn_no, "psn_name": patient.psn_name,
                   "certno": patient.certno_masked, "insutype": patient.insutype, "med_type": bill.med_type,
                   **pre.fields(), "pre": True}
            return emit(args, out, _pre_text(out))
        try:
            result = settlement.settle(db, cfg, session, bill, pin=pin, relatives=relatives,
                                       acct_used_flag=not args.no_account, request_id=args.request_id,
                                       self_pay=args.self_pay)
        except Exception as exc:
            raise _self_pay_hint(exc, args.self_pay) from None
    finally:
        session.close()
    return emit(args, result.to_json(), slip_text(cfg, result, db) + (f"(saved: {result.slip_path})"
                                                                       if result.slip_path else "(a retry: first result)"))


def _self_pay_hint(exc: Exception, self_pay: bool) -> Exception:
    """A refusal that full self-pay gets past (insurance not active, card expired) says so: no dead end."""
    from terminal.errors import RuleRefused, describe
    code = getattr(exc, "code", "")
    if self_pay or code not in ("insurance_inactive", "card_expired"):
        return exc
    en, zh = describe(exc, "en")[1], describe(exc, "zh")[1]
    if "self-pay" not in en:
        en += "; the bill can be paid in full in cash (self-pay)"
    if "全自费" not in zh:
        zh += ";可全自费现金结算"
    return RuleRefused(code, f"{en}: settle it again with --self-pay", f"{zh}:加 --self-pay 重新结算")


def _pre_text(out: dict) -> str:
    from terminal.domain.money import yuan
    from terminal.services.slip import FIELD_LABELS
    lines = [f"预结算 pre-settlement (nothing written): {out['psn_name']} {out['certno']} {out['psn_no']}"]
    lines += [f"  {label} {key}: {yuan(out[key])}" for key, label in FIELD_LABELS]
    lines += [f"  共济 {m['owner_psn_no']}: {yuan(m['amount'])}" for m in out["mulaid"]]
    if out["balc"] is not None:
        lines.append(f"  个人账户余额 balc (after): {yuan(out['balc'])}")
    return "\n".join(lines)


def cmd_reverse(args: argparse.Namespace) -> int:
    from terminal.services.reversal import reverse
    from terminal.services.slip import slip_text
    cfg, db = open_db(args)
    result = reverse(db, cfg, args.setl_id)
    return emit(args, result.to_json(), slip_text(cfg, result, db))


def cmd_reconcile(args: argparse.Namespace) -> int:
    from terminal.services.reconcile import reconcile
    day = _date(args.date)
    cfg, db = open_db(args)
    report = reconcile(db, cfg, day, args.window)
    emit(args, report.to_json(), report.text())
    if not report.ok:
        print("RECONCILIATION MISMATCH: " + "; ".join(str(m) for m in report.mismatches), file=sys.stderr)
        return 1
    return 0
