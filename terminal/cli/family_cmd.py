"""`cashier family`, `cashier bind`, `cashier unbind`: family mutual aid at the window."""

from __future__ import annotations

import argparse
import re

from centre.interface.amounts import yuan_plain, yuan_text
from centre.interface.codes import BindingScope
from drivers.certno import mask
from terminal.cli.output import PIN_HELP, emit, pin_arg


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    fam = sub.add_parser("family", parents=[common], help="a person and every account usable for them")
    who = fam.add_mutually_exclusive_group(required=True)
    who.add_argument("--card-no", help="the person's card number")
    who.add_argument("--certno", help="the person's ID number")
    who.add_argument("--psn-no", help="the person's psn_no")
    who.add_argument("--voucher", metavar="CODE", help="the person's e-voucher code ('-': a line of stdin); it is "
                                                       "spent by the lookup (1101), as at the window")
    who.add_argument("--id-card", metavar="-", help="the person's resident ID card (身份证, mdtrt_cert_type 02): '-' "
                                                    "reads the ID number from a line of stdin, as at the window "
                                                    "(1101); needs [terminal] id_card = true")
    fam.add_argument("--date", help="as of this date (default today)")
    fam.set_defaults(handler=cmd_family)

    bind = sub.add_parser("bind", parents=[common], help="bind a relative to the owner's account (owner's card)")
    _card_options(bind)
    bind.add_argument("--relation", required=True, help="GB/T 4761 code: what the user is to the owner (30 daughter)")
    bind.add_argument("--scope", choices=BindingScope.values(), default=BindingScope.LOCAL.value)
    bind.add_argument("--quota", type=_fen, default=0,
                      help="cross-province quota in fen (50000 = ¥500.00), moved out of the owner's balance")
    bind.set_defaults(handler=cmd_bind)

    unbind = sub.add_parser("unbind", parents=[common], help="end the owner's binding of a relative")
    _card_options(unbind)
    unbind.set_defaults(handler=cmd_unbind)


def _fen(text: str) -> int:
    """--quota: whole fen. An amount written in yuan (500.00) is refused with the fen it would be."""
    value = text.strip()
    if re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    yuan_form = re.fullmatch(r"([0-9]+)\.([0-9]{1,2})", value)
    if yuan_form:
        fen = int(yuan_form[1]) * 100 + int(yuan_form[2].ljust(2, "0"))
        raise argparse.ArgumentTypeError(f"{text!r} looks like yuan: --quota is in fen, so ¥{text} is --quota {fen}")
    raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of fen (50000 = ¥500.00)")


def _card_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reader", help="the reader holding the owner's card (default [reader].spec)")
    p.add_argument("--pin", help=PIN_HELP.replace("the card's PIN", "the owner's PIN", 1))
    p.add_argument("--user", required=True, help="the relative's card number or ID number")
    p.add_argument("--date", help=argparse.SUPPRESS)  # tests: act as of this date


def cmd_family(args: argparse.Namespace) -> int:
    from terminal.cli.settle_cmd import _date, _ledger
    today = _date(args.date)  # a real date, or a usage error (not a silent "today")
    from terminal.cli.settle_cmd import id_card_arg, voucher_arg
    code = voucher_arg(args.voucher)
    certno = id_card_arg(args.id_card)
    cfg, ledger = _ledger(args)
    try:
        psn_no = ledger.patient_for_voucher(code).psn_no if code is not None else \
            ledger.patient_for_id_card(certno).psn_no if certno is not None else args.psn_no
        view = ledger.family(card_no=args.card_no, certno=args.certno, psn_no=psn_no, today=today)
    finally:
        ledger.close()
    p = view.person
    lines = [f"{p.psn_name}  {p.psn_no}  {mask(p.certno)}  card {p.card_no or '-'}  insutype {p.insutype}  "
             f"status {p.psn_insu_stas}",
             f"  own account: {_yuan(view.own) if view.own is not None else 'none'}"]
    from terminal.services.wallet import by_wallet_owners, wallet_shown
    if wallet_shown(cfg, view.wallet):   # no wallet line where the model has no wallet (the quota model)
        lines.append(_wallet_line(view.wallet))
    for r in view.relatives:
        lines.append(f"  {r.relation_name}({r.relation}) {r.owner_name} {r.owner_psn_no}  {r.scope}  "
                     f"available {_yuan(r.available)}")
    if not view.relatives:
        lines.append("  no relative's account")
    for owner in by_wallet_owners(view.relatives):
        lines.append(f"    {owner}: cross-province aid goes by wallet transfer, not the account: transfer at the insurance "
                     f"office (cashier wallet transfer) 跨省共济经医保钱包转账,{owner}的账户不直接支付")
    if view.cached:
        lines.append("  (from this window's cache: the insurance centre cannot be reached 医保中心无法连接,显示本地缓存)")
    from terminal.services.platform_json import family_json
    return emit(args, family_json(view, cached=view.cached), "\n".join(lines))


def _wallet_line(wallet: int | None) -> str:
    """The patient's insurance wallet (医保钱包) beside the own account: the centre's figure."""
    return f"  insurance wallet 医保钱包余额: {_yuan(wallet) if wallet is not None else 'not known'}"


def _yuan(fen: int) -> str:
    return f"{yuan_plain(fen)} yuan"


def _session(args: argparse.Namespace, cfg):
    from terminal.card_session import CardSession
    from terminal.readers import open_reader
    return CardSession(open_reader(args.reader, cfg), cfg)


def cmd_bind(args: argparse.Namespace) -> int:
    from centre.interface.amounts import MAX_FEN
    from terminal.error_codes import E
    if not 0 <= args.quota <= MAX_FEN:  # a malformed argument: usage (exit 2), before any card or database
        raise E.AMOUNT_INVALID.usage(f"--quota is fen (100 fen = ¥1.00) from 0 to {MAX_FEN} "
                         f"({yuan_text(MAX_FEN)}), not {args.quota}",
                         f"--quota 以分为单位(100分 = ¥1.00),须为 0 到 {MAX_FEN}({yuan_text(MAX_FEN)}),"
                         f"而不是 {args.quota}")
    pin = pin_arg(args.pin)                # pin_invalid (exit 2) before any card or database
    from terminal.cli.settle_cmd import _ledger
    cfg, ledger = _ledger(args)
    try:
        session = _session(args, cfg)
        try:
            binding = ledger.bind(session, pin, args.user, args.relation, scope=args.scope, quota=args.quota,
                                  today=args.date)
        finally:
            session.close()
        obj = ledger.binding_json(binding)
    finally:
        ledger.close()
    quota = obj.get("quota", obj.get("quota_fen"))
    text = (f"bound: {obj['user_name']} ({obj['relation_name']}) may use {obj['owner_name']}'s account, "
            f"{obj['scope']}" + (f", quota {_yuan(quota)}" if quota else ""))
    if obj["scope"] == BindingScope.CROSS_PROVINCE and not quota:
        text = _wallet_binding_text(obj)
    return emit(args, obj, text)


def _wallet_binding_text(obj: dict) -> str:
    """A cross-province binding without a quota (the wallet model): the owner's account pays nothing directly."""
    owner, user = obj["owner_name"], obj["user_name"]
    return (f"bound across provinces: {user} ({obj['relation_name']}); {owner}'s account does not pay for {user} "
            f"directly: {owner} transfers into {user}'s insurance wallet (cashier wallet transfer)\n"
            f"已跨省绑定{user}({obj['relation_name']}):{owner}的个人账户不直接支付{user}的费用,"
            f"须通过医保钱包转账(cashier wallet transfer)")


def cmd_unbind(args: argparse.Namespace) -> int:
    pin = pin_arg(args.pin)                # pin_invalid (exit 2) before any card or database
    from terminal.cli.settle_cmd import _ledger
    cfg, ledger = _ledger(args)
    try:
        session = _session(args, cfg)
        try:
            result = ledger.unbind(session, pin, args.user, today=args.date)
        finally:
            session.close()
        obj = ledger.binding_json(result.binding)
        obj["returned_fen"] = result.returned
    finally:
        ledger.close()
    text = (f"unbound: {obj['user_name']} no longer uses {obj['owner_name']}'s account"
            + (f"; {_yuan(result.returned)} returned" if result.returned else ""))
    return emit(args, obj, text)
