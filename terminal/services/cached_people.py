"""The patient and their family from the window's cache (persons, accounts and bindings as the centre last
answered, or as `cashier db import` filled them): what the card read and the family lookup show while the
insurance centre cannot be asked. Nothing here moves money.

  patient_for_card(db, card_read) -> Patient     by card number, cross-checked with the ID number when readable
  find_patient(db, *, card_no=None, certno=None, psn_no=None) -> Person
      (BadInput certno_invalid for an ID number with a wrong check digit or birth date; RuleRefused person_unknown)
  family_for(db, *, card_no=None, certno=None, psn_no=None, today=None) -> FamilyView

A relative appears when the cached binding is active, in force today, and its owner active: the bindings are
the centre's (it judged each by the mutual-aid rules when it took it), and the centre judges again when it is
asked to pay. `available` is the owner's cached balance for a local binding, the remaining quota for a
cross-province one.
"""

from __future__ import annotations

import sqlite_utils

from centre.interface import relations
from centre.interface.codes import BindingScope, PsnInsuStas
from drivers.certno import mask
from drivers.certno import problem as certno_problem
from terminal import clock
from terminal.error_codes import E
from terminal.services.results import Patient
from terminal.services.views import FamilyView, Relative
from terminal.store import binding_rows
from terminal.store.people import Person, account_of, find_person

__all__ = ["asked_for", "family_for", "find_patient", "patient_for_card"]


def patient_for_card(db: sqlite_utils.Database, card_read) -> Patient:
    """The person whose card was read: by card number, cross-checked with the ID number when readable."""
    card_no, certno = card_read.card.card_no, card_read.holder.certno
    person = find_person(db, card_no=card_no) or (find_person(db, certno=certno) if certno else None)
    if person is None:
        raise E.PERSON_UNKNOWN.error(f"card {card_no} is not in the local database",
                                     f"卡号 {card_no} 不在本地库中")
    if certno and person.certno.upper() != certno.upper():
        raise E.CARD_MISMATCH.error(f"card {card_no} belongs to {mask(person.certno)}, "
                                    f"but the card holds {mask(certno)}", "卡号与证件号不符")
    return Patient(person.psn_no, person.psn_name, person.certno, person.insutype, person.psn_insu_stas,
                   person.insuplc_admdvs)


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
        what, what_zh = asked_for(card_no=card_no, certno=certno, psn_no=psn_no)
        raise E.PERSON_UNKNOWN.error(f"no insured person with {what} in the local database",
                                     f"本地数据库中没有{what_zh}的参保人员")
    return person


def asked_for(*, card_no: str | None, certno: str | None, psn_no: str | None) -> tuple[str, str]:
    """The number a person was asked for by, as a refusal names it (en, zh; an ID number masked)."""
    if card_no:
        return f"card number {card_no}", f"卡号{card_no}"
    if certno:
        return f"ID number {mask(certno)}", f"证件号{mask(certno)}"
    return f"psn_no {psn_no}", f"人员编号{psn_no}"


def _relatives_of(db: sqlite_utils.Database, user: Person, today: str) -> list[Relative]:
    """Cached bindings that can pay for this user today, oldest first (see the module docstring)."""
    out = []
    for (bid, owner, owner_name, rel, scope, quota, begin, end, balc, _insutype, stas, _admdvs,
         _gend) in binding_rows.relative_rows(db, user.psn_no):
        if not _in_force(begin, end, today) or stas != PsnInsuStas.ACTIVE:
            continue
        available = quota if scope == BindingScope.CROSS_PROVINCE else (balc or 0)
        out.append(Relative(owner, owner_name, rel, relations.name(rel), scope, available, bid))
    return out


def _in_force(begin_date: str, end_date: str | None, on_date: str) -> bool:
    """An active binding pays on a date when begun and not past its end date."""
    return begin_date <= on_date and (not end_date or on_date <= end_date)


def family_for(db: sqlite_utils.Database, *, card_no: str | None = None, certno: str | None = None,
               psn_no: str | None = None, today: str | None = None) -> FamilyView:
    """The person and every cached account usable for them."""
    today = today or clock.day()
    person = find_patient(db, card_no=card_no, certno=certno, psn_no=psn_no)
    acct = account_of(db, person.psn_no)
    return FamilyView(person, acct.balc if acct else None,
                      _relatives_of(db, person, today))
