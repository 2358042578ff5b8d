"""Binding and unbinding at the window (family mutual aid): the owner's card, the owner's PIN, the user named
by card number or ID number; the rules checked; one transaction with an audit row (operator, window).

API (plain functions; open the db on the calling thread):
  bind_at_window(db, cfg, session, pin, user, relation, scope="local", quota=0, today=None,
                 expected_card=None) -> Binding
      session: terminal.card_session.CardSession over the owner's card; pin None = the reader's keypad.
      expected_card: the CardIdentity of the owner's card as read and shown; the card in the reader must be
      that card when read here and again inside the transaction (card_swapped otherwise, nothing written).
      A cross-province binding moves `quota` fen from the owner's balance into the binding.
  unbind_at_window(db, cfg, session, pin, user, today=None, expected_card=None)
      -> Unbound(binding, returned, owner_balc)
      ends the owner's active binding of that user; the remaining quota returns to the owner.
  end_lapsed_bindings(db, cfg, today=None) -> [Unbound]
      ends every active binding whose owner's insurance ended or changed (not employee any more).
  resolve_user(db, text) -> Person   (card number, or an 18-character ID number with its check digit)

Refusals: RuleRefused / BadInput / CashierError with a code and a message; CardError from the card
(wrong or blocked PIN: an audit row `pin_failed` is written, nothing else). Nothing is written when
the card leaves the reader before the commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlite_utils

from drivers import certno as certno_mod
from drivers.errors import CardError
from terminal import clock
from terminal.card_session import CardIdentity
from terminal.config import parsed_once
from terminal.domain import mutual_aid as rules
from terminal.error_codes import E
from terminal.services.family import find_patient
from terminal.store import binding_rows
from terminal.store.people import (
    Binding,
    Person,
    account_of,
    active_binding,
    add_audit,
    binding_by_id,
    bindings_of_user,
    find_person,
    party_of,
    pooling_area,
)
from terminal.store.write_lock import write_tx

_CERTNO_SHAPE = re.compile(r"^\d{17}[\dX]$")
_CARD_NO = re.compile(r"^[0-9A-Z]{1,20}$")


@dataclass(frozen=True)
class Unbound:
    binding: Binding        # as it is now (status ended)
    returned: int           # quota fen returned to the owner's balance
    owner_balc: int | None  # the owner's balance afterwards


def _today(today: str | None) -> str:
    return today or clock.day()


def policy_of(cfg) -> rules.MutualAidPolicy:
    """The config's mutual-aid rules, parsed once per loaded config (settlement asks on every bill)."""
    return parsed_once(cfg, "mutual_aid", lambda c: rules.MutualAidPolicy.from_config(c.section("mutual_aid")))


def resolve_user(db: sqlite_utils.Database, text: str) -> Person:
    """The user named at the window by card number or ID number."""
    value = (text or "").strip().upper()
    if _CERTNO_SHAPE.match(value):
        problem = certno_mod.problem(value)
        if problem:
            raise E.CERTNO_INVALID.error(f"invalid ID number {certno_mod.mask(value)}: {problem}",
                           f"证件号码{certno_mod.mask(value)}无效:{problem}")
        return find_patient(db, certno=value)
    if not _CARD_NO.match(value):
        raise E.USER_INVALID.error(f"give the relative's card number or 18-character ID number, not {text!r}",
                       "请输入亲属的社保卡号或18位身份证号")
    return find_patient(db, card_no=value)


def _owner_from_card(db: sqlite_utils.Database, session, today: str,
                     expected: CardIdentity | None = None) -> tuple[Person, CardIdentity]:
    """Read the presented card (it must be `expected`, the card shown) and find its holder (the owner) in the
    local database; with the identity to confirm again before the commit."""
    read = session.read()
    session.check_card(expected)
    owner = find_person(db, card_no=read.card.card_no)
    if owner is None:
        raise E.PERSON_UNKNOWN.error(f"card {read.card.card_no} is not in the local database",
                          f"卡号{read.card.card_no}不在本地数据库中")
    if read.holder.certno and read.holder.certno.upper() != owner.certno:
        raise E.CARD_MISMATCH.error(f"card {read.card.card_no} does not belong to {owner.psn_name} on record",
                          f"卡号{read.card.card_no}与登记的持卡人不符")
    session.require_valid(today)
    return owner, expected or CardIdentity.of(read)


def _verify_pin(db: sqlite_utils.Database, cfg, session, pin: str | None, owner: Person, action: str) -> None:
    """VERIFY on the owner's card; a wrong or blocked PIN is audited (never the PIN itself)."""
    try:
        session.verify_pin(pin)
    except CardError as exc:
        if exc.pin_failed:
            with write_tx(db):
                add_audit(db, operator=cfg.terminal.operator, window=cfg.terminal.window, action="pin_failed",
                          subject=owner.psn_no, detail={"for": action, "code": exc.code,
                                                        "tries_left": exc.tries_left})
        raise


def _card_still_there(session, card: CardIdentity) -> None:
    """Inside the transaction: the card read is still the one in the reader (card_removed / card_swapped)."""
    session.confirm_card(card)


def bind_at_window(db: sqlite_utils.Database, cfg, session, pin: str | None, user: str, relation: str,
                   scope: str = "local", quota: int = 0, today: str | None = None,
                   expected_card: CardIdentity | None = None) -> Binding:
    """The owner (card in the reader, PIN) binds a relative; see the module docstring."""
    today = _today(today)
    rules.check_amount(quota)
    policy = policy_of(cfg)
    owner, card = _owner_from_card(db, session, today, expected_card)
    user_person = resolve_user(db, user)
    _verify_pin(db, cfg, session, pin, owner, "bind")
    with write_tx(db):
        owner_party, user_party = party_of(db, owner), party_of(db, user_person)
        owners = [b.owner_psn_no for b in bindings_of_user(db, user_person.psn_no)]
        rules.check_binding(policy, owner_party, user_party, relation, on_date=today, scope=scope, quota=quota,
                            active_owners_of_user=owners, owner_area=pooling_area(db, owner.insuplc_admdvs),
                            user_area=pooling_area(db, user_person.insuplc_admdvs))
        _card_still_there(session, card)
        if quota:
            moved = binding_rows.take_for_quota(db, owner.psn_no, quota)
            if not moved:  # re-checked under the write lock: another window spent it meanwhile
                raise E.QUOTA_EXCEEDS_BALANCE.error("the owner's balance no longer covers the quota",
                                  "授权人个人账户余额已不足以设定该额度")
        binding = _existing(db, binding_rows.insert_binding(
            db, owner_psn_no=owner.psn_no, user_psn_no=user_person.psn_no, relation=relation, scope=scope,
            quota=quota, begin_date=today, operator=cfg.terminal.operator, at=clock.stamp(),
            window=cfg.terminal.window))
        if quota:
            _record_move(db, binding.id, owner.psn_no, quota, "bind", cfg.terminal.operator, cfg.terminal.window)
        add_audit(db, operator=cfg.terminal.operator, window=cfg.terminal.window, action="bind",
                  subject=f"binding:{binding.id}",
                  detail={"owner_psn_no": owner.psn_no, "user_psn_no": user_person.psn_no, "relation": relation,
                          "scope": scope, "quota": quota, "begin_date": today})
    return binding


def _record_move(db: sqlite_utils.Database, binding_id: int, owner_psn_no: str, amount: int, reason: str,
                 operator: str | None, window: str | None) -> None:
    """Money moved between the owner's balance and the binding's quota (> 0: into the quota), so that
    `cashier reconcile` can explain both."""
    binding_rows.record_move(db, binding_id, owner_psn_no, amount, reason, clock.stamp(), window, operator)


def _existing(db: sqlite_utils.Database, binding_id: int | None) -> Binding:
    """A binding this transaction has just written or read: there, or the store is broken."""
    binding = binding_by_id(db, binding_id) if binding_id is not None else None
    if binding is None:
        raise E.DB_ERROR.error(f"binding {binding_id} vanished inside its own transaction",
                         f"绑定记录{binding_id}在本事务中丢失")
    return binding


def end_binding(db: sqlite_utils.Database, binding: Binding, *, operator: str | None, window: str | None,
                reason: str, today: str) -> Unbound:
    """End one active binding and return its remaining quota to the owner. Call inside a write transaction."""
    returned = binding.quota
    if returned:
        binding_rows.return_to_owner(db, binding.owner_psn_no, returned)
        _record_move(db, binding.id, binding.owner_psn_no, -returned, reason, operator, window)
    binding_rows.end_binding_row(db, binding.id, end_date=today, operator=operator, at=clock.stamp(), window=window,
                                 reason=reason)
    add_audit(db, operator=operator, window=window, action="unbind", subject=f"binding:{binding.id}",
              detail={"owner_psn_no": binding.owner_psn_no, "user_psn_no": binding.user_psn_no,
                      "reason": reason, "returned": returned})
    acct = account_of(db, binding.owner_psn_no)
    return Unbound(_existing(db, binding.id), returned, acct.balc if acct else None)


def unbind_at_window(db: sqlite_utils.Database, cfg, session, pin: str | None, user: str,
                     today: str | None = None, expected_card: CardIdentity | None = None) -> Unbound:
    """The owner (card, PIN) ends their binding of a relative; any remaining quota comes back."""
    today = _today(today)
    owner, card = _owner_from_card(db, session, today, expected_card)
    user_person = resolve_user(db, user)
    _verify_pin(db, cfg, session, pin, owner, "unbind")
    with write_tx(db):
        binding = active_binding(db, owner.psn_no, user_person.psn_no)
        if binding is None:
            raise E.BINDING_NOT_FOUND.error(f"{owner.psn_name} has no active binding of {user_person.psn_name}",
                              f"{owner.psn_name}没有绑定{user_person.psn_name}")
        _card_still_there(session, card)
        return end_binding(db, binding, operator=cfg.terminal.operator, window=cfg.terminal.window,
                           reason="owner_request", today=today)


def end_lapsed_bindings(db: sqlite_utils.Database, cfg, today: str | None = None) -> list[Unbound]:
    """A binding ends by itself when the owner's insurance ends or changes (docs/data-and-rules.md)."""
    today = _today(today)
    out = []
    with write_tx(db):
        rows = binding_rows.lapsed_owner_rows(db)
        for bid, psn_no, name, insutype, stas, admdvs in rows:
            reason = rules.end_reason(rules.Party(psn_no, name, insutype, stas, admdvs))
            if reason:
                out.append(end_binding(db, _existing(db, bid), operator=cfg.terminal.operator,
                                       window=cfg.terminal.window, reason=reason, today=today))
    return out
