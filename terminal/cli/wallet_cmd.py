"""`cashier wallet transfer | accept | show`: the insurance wallet (医保钱包) at the insurance office window.

transfer: the owner's card in --reader and the owner's PIN (the reader's keypad, `--pin -` from stdin or
$CASHIER_PIN: never on the command line by default) move --amount yuan from the owner's personal account into a
bound relative's wallet (X111); accept: the relative's own card takes a transfer made to them (X112); show: the
wallet of the card's holder, the transfers made and received, and what may still be transferred today (X113).
The centre checks every limit (transfers a day, the most one transfer may move, the closed hours, the regional
rules) and a refusal names the rule and the region; nothing changes then (exit 1).
"""

from __future__ import annotations

import argparse
from typing import Any

from terminal.cli.output import PIN_HELP, emit, pin_arg
from terminal.error_codes import E


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    group = sub.add_parser("wallet", help="the insurance wallet (医保钱包): transfer to a relative, accept, show")
    actions = group.add_subparsers(dest="wallet_command", metavar="ACTION", required=True)

    transfer = actions.add_parser("transfer", parents=[common],
                                  help="move money from the owner's personal account into a bound relative's wallet "
                                       "(owner's card and PIN)")
    transfer.add_argument("--reader", help="the reader holding the owner's card (default [reader].spec)")
    transfer.add_argument("--pin", help=PIN_HELP.replace("the card's PIN", "the owner's PIN", 1))
    transfer.add_argument("--to", required=True, metavar="RELATIVE",
                          help="the relative: psn_no, card number or ID number (bound to the owner already)")
    transfer.add_argument("--amount", required=True, metavar="YUAN", type=_yuan,
                          help="yuan, e.g. 500 or 500.00 (at most the per-transfer limit, ¥2,000.00 by default)")
    transfer.add_argument("--date", help=argparse.SUPPRESS)  # tests: the card's expiry checked as of this date
    transfer.set_defaults(handler=cmd_transfer)

    accept = actions.add_parser("accept", parents=[common],
                                help="the relative accepts a transfer into their wallet (the relative's own card)")
    accept.add_argument("--reader", help="the reader holding the relative's card (default [reader].spec)")
    accept.add_argument("--transfer", required=True, type=_transfer_id, metavar="ID",
                        help="the transfer's number (from `cashier wallet show`)")
    accept.add_argument("--date", help=argparse.SUPPRESS)
    accept.set_defaults(handler=cmd_accept)

    show = actions.add_parser("show", parents=[common],
                              help="the card holder's wallet, transfers made and received, what is left today")
    show.add_argument("--reader", help="the reader holding the card (default [reader].spec)")
    show.add_argument("--date", help=argparse.SUPPRESS)
    show.set_defaults(handler=cmd_show)


def _yuan(text: str) -> int:
    """--amount in yuan (at most two decimals) as fen; more than 0."""
    from terminal.services.wallet import yuan_amount
    try:
        fen = yuan_amount(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in yuan (500 or 500.00; at most two decimals)"
                                         ) from None
    if fen <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a transfer must be more than ¥0.00")
    return fen


def _transfer_id(text: str) -> int:
    value = text.strip().lstrip("#")
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a transfer number (1, 2, ... as `cashier wallet show` "
                                         "lists them)")
    return int(value)


def _session(args: argparse.Namespace, cfg):
    from terminal.card_session import CardSession
    from terminal.readers import open_reader
    return CardSession(open_reader(args.reader, cfg), cfg)


def _run(args: argparse.Namespace, act: Any) -> Any:
    """Open the ledger and the card, do `act(ledger, session)`, close both."""
    from terminal.cli.settle_cmd import _date, _ledger
    today = _date(args.date)
    cfg, ledger = _ledger(args)
    try:
        session = _session(args, cfg)
        try:
            return act(ledger, session, today)
        finally:
            session.close()
    finally:
        ledger.close()


def cmd_transfer(args: argparse.Namespace) -> int:
    pin = pin_arg(args.pin)                # pin_invalid (exit 2) before any card or centre
    if not args.to.strip():
        raise E.BAD_RELATIVE.error()
    done = _run(args, lambda ledger, session, today: ledger.wallet_transfer(session, pin, args.to, args.amount,
                                                                            today=today))
    return emit(args, done.to_json(), done.text())


def cmd_accept(args: argparse.Namespace) -> int:
    done = _run(args, lambda ledger, session, today: ledger.wallet_accept(session, args.transfer, today=today))
    return emit(args, done.to_json(), done.text())


def cmd_show(args: argparse.Namespace) -> int:
    view = _run(args, lambda ledger, session, today: ledger.wallet_show(session, today=today))
    return emit(args, view.to_json(), view.text())
