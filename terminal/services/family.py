"""Family lookup: the patient's own account and every relative's account that may pay for them.

API (plain functions, safe in a Textual thread worker with its own connection):
  family_for(db, *, card_no=None, certno=None, psn_no=None, today=None, policy=None) -> FamilyView
    (terminal.services.views: the shape the centre's client answers with too)
    FamilyView.person (store Person), .own (own balance in fen, None without an account),
    .relatives [Relative(binding_id, owner_psn_no, owner_name, relation, relation_name, scope, available)]
    in the order the bindings were made (config relatives_order = "config"); .to_json() is the
    `cashier family --json` object (ID number masked).
  find_patient(db, *, card_no=None, certno=None, psn_no=None) -> Person
      (BadInput certno_invalid for an ID number with a wrong check digit or birth date;
       RuleRefused person_unknown)
  relatives_of(db, psn_no, today, policy=None, user=None) -> [Relative]   (what settlement draws on)

A relative appears when the binding is active and in force today, the user's insurance is active, and the
binding still passes the mutual-aid rules (defence in depth, whatever put it in the database:
mutual_aid.payable_problem, the rules the centre import applies): the owner an active employee (310) with
an account, the relation allowed on the binding's begin_date (never an in-law) and agreeing with the user's
recorded sex, the scope matching the provinces (local within one, cross_province between two), and a
cross-province binding begun on or after the cross-province start date with both pooling areas open.
`available` is the owner's balance for a local binding, the remaining quota for a cross-province one.
policy None = the rules shipped in config.toml.
"""

from __future__ import annotations

import sqlite_utils

from centre.interface.codes import BindingScope
from drivers.certno import mask
from drivers.certno import problem as certno_problem
from terminal import clock
from terminal.domain import relations
from terminal.domain.mutual_aid import MutualAidPolicy, Party, available, in_force, payable_problem
from terminal.error_codes import E
from terminal.services.views import FamilyView, Relative
from terminal.store import binding_rows
from terminal.store.people import Person, account_of, find_person, pooling_area

__all__ = ["FamilyView", "Relative", "family_for", "find_patient", "relatives_of"]

def find_patient(db: sqlite_utils.Database, *, card_no: str | None = None, certno: str | None = None,
                 psn_no: str | None = None) -> Person:
    if certno is not None:
        value = certno.strip().upper()
        why = certno_problem(value)
        if why:
            raise E.CERTNO_INVALID.error(f"invalid ID number {mask(value)}: {why}",
                           f"证件号码{mask(value)}无效:{why}")
    person = find_person(db, card_no=card_no, certno=certno, psn_no=psn_no)
    if person is None:
        if card_no is not None:
            what, what_zh = f"card number {card_no}", f"卡号{card_no}"
        elif certno is not None:
            what, what_zh = f"ID number {mask(certno)}", f"证件号{mask(certno)}"
        else:
            what, what_zh = f"psn_no {psn_no}", f"人员编号{psn_no}"
        raise E.PERSON_UNKNOWN.error(f"no insured person with {what} in the local database",
                           f"本地数据库中没有{what_zh}的参保人员")
    return person


def relatives_of(db: sqlite_utils.Database, psn_no: str, today: str, policy: MutualAidPolicy | None = None,
                 user: Person | None = None) -> list[Relative]:
    """Bindings that can pay for this user today, oldest first (see the module docstring)."""
    policy = policy or MutualAidPolicy.default()
    rows = binding_rows.relative_rows(db, psn_no)
    if not rows:
        return []
    user = user or find_person(db, psn_no=psn_no)
    if user is None:
        return []
    user_party = user.party(None)
    out = []
    for (bid, owner, owner_name, rel, scope, quota, begin, end, balc, insutype, stas, admdvs,
         gend) in rows:
        if not in_force("active", begin, end, today):
            continue
        owner_party = Party(owner, owner_name, insutype, stas, admdvs, gend, balc)
        areas = ((pooling_area(db, admdvs), pooling_area(db, user.insuplc_admdvs)) if scope == BindingScope.CROSS_PROVINCE
                 else (None, None))
        if payable_problem(policy, owner_party, user_party, rel, begin, scope, *areas) is not None:
            continue
        out.append(Relative(owner, owner_name, rel, relations.name(rel), scope, available(scope, balc, quota), bid))
    return out


def family_for(db: sqlite_utils.Database, *, card_no: str | None = None, certno: str | None = None,
               psn_no: str | None = None, today: str | None = None,
               policy: MutualAidPolicy | None = None) -> FamilyView:
    """The person and every account usable for them (docs/data-and-rules.md, `cashier family`)."""
    today = today or clock.day()
    person = find_patient(db, card_no=card_no, certno=certno, psn_no=psn_no)
    acct = account_of(db, person.psn_no)
    return FamilyView(person, acct.balc if acct else None, relatives_of(db, person.psn_no, today, policy, person))
