"""The window as the insurance centre's client: the money journeys as the national sequence, and what the
window keeps of them.

    card → 1101 → X101 → 2201/2203/2204 (one visit per patient and bill) → 2206 → PIN on the card → 2207 → slip
    reversal → 2208;  day end → 3201 per insurance type;  binding → X102/X103 (project-defined)

The window's database holds the cache (persons and their families as the centre last answered: the card
read and the family lookup still work from it while the centre is down) and the window's own record
(`window_settlements`, `request_ids`, the message log). Before any 2207, a 2207 still in flight (no answer,
e.g. the window stopped) is resolved with 2601: never retried blindly. A centre that cannot be reached is
`CentreUnavailable`, with the way on: settle again later, or the whole bill in cash, recorded here
(`cash_only`, outside 3201). This is the window's one ledger (terminal/services/ledger.py): its answers are
the types of terminal/services/results.py; the cache lookups while the centre is down are
terminal/services/cached_people.py.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from centre.interface.codes import MdtrtCertType
from drivers.certno import mask
from drivers.errors import CARD_REMOVED, CardError
from terminal import clock
from terminal.card_session import CardIdentity
from terminal.config import Config
from terminal.domain.bill import Bill
from terminal.error_codes import E
from terminal.errors import CashierError
from terminal.insurance import journey
from terminal.insurance.client import CentreClient
from terminal.insurance.journey import Credential, SettlementUncertain, Visit
from terminal.insurance.models import InsuredPerson, Settlement
from terminal.insurance.transport import AnswerUncertain, CentreUnreachable
from terminal.services.centre_reconcile import ASKED, RECONCILE_FIELDS, CentreReconcileReport, CentreReconcileRow
from terminal.services.results import (
    Patient,
    SettlementResult,
    Unbound,
    request_fingerprint,
    require_active,
    require_no_cash,
)
from terminal.services.slip import as_charged
from terminal.services.views import FamilyView, MulaidPart, Relative, Split, mulaid_json, mulaid_parts
from terminal.store import window_record as record
from terminal.store.people import Binding, Person, find_person, person_names
from terminal.store.schema_settlement import AMOUNT_COLUMNS
from terminal.store.write_lock import write_tx

__all__ = ["CentreLedger", "CentreUnavailable", "SettlementUncertain"]


class CentreUnavailable(CashierError):
    """The centre could not be reached (or did not answer a message that changes nothing): nothing happened."""


def unavailable(exc: BaseException, doing_en: str, doing_zh: str) -> CentreUnavailable:
    if isinstance(exc, AnswerUncertain):
        return CentreUnavailable(E.CENTRE_NO_ANSWER, f"the insurance centre did not answer ({doing_en}): nothing "
                                 "was charged; try again", f"医保中心未应答({doing_zh}),未扣费,请重试")
    return CentreUnavailable(E.CENTRE_UNREACHABLE, f"the insurance centre cannot be reached ({doing_en}): nothing "
                             "was charged; settle again when it answers, or take the whole bill in cash (self-pay)",
                             f"无法连接医保中心({doing_zh}),未扣费;请待恢复后重新结算,或全自费现金结算")


def _relatives_owners(relatives: Any) -> list[str] | None:
    """The window's relatives choice as 2206/2207 carry it: None = every binding in order, [] = none."""
    if relatives == "auto":
        return None
    if relatives is None or relatives == "none":
        return []
    if isinstance(relatives, str):
        raise E.BAD_RELATIVES.error(f"relatives must be auto, none or a list of psn_no (got {relatives!r})",
                       "共济人参数应为 auto、none 或人员编号列表")
    return list(dict.fromkeys(relatives))


def _patient(p: InsuredPerson) -> Patient:
    return Patient(p.psn_no, p.psn_name, p.certno, p.insutype, p.psn_insu_stas, p.insuplc_admdvs)


def _lookup_named(client: CentreClient, *, psn_no: str | None, card_no: str | None, certno: str | None,
                  insuplc: str) -> InsuredPerson:
    """X105; the centre's person_unknown names no number, so the cashier is told which one they gave (an ID
    number masked)."""
    from terminal.insurance.client import CentreRefused
    try:
        return journey.lookup(client, psn_no=psn_no, card_no=card_no, certno=certno, insuplc=insuplc)
    except CentreRefused as exc:
        if exc.code != "person_unknown":
            raise
        from terminal.services.cached_people import asked_for
        what, what_zh = asked_for(card_no=card_no, certno=certno, psn_no=psn_no)
        raise CentreRefused(exc.code, f"{exc.message} ({what})", f"{exc.message_zh}({what_zh})",
                            **exc.details) from None


class CentreLedger:
    """Money through the centre; the window keeps its cache and its log. Calls are serialised (one journey at a
    time per window), so any worker thread may call it."""

    kind = "centre"    # the only ledger there is (the offline training ledger was retired)

    def __init__(self, cfg: Config, client: CentreClient) -> None:
        self.cfg = cfg
        self.client = client
        self._lock = threading.RLock()
        self._known: dict[str, tuple[InsuredPerson, Credential]] = {}     # psn_no → as 1101 answered, and how
        self._visits: dict[str, Visit] = {}          # psn_no → the open visit (its fees: the bill as last uploaded)

    def db(self) -> Any:
        return self.client.db()

    def cached_psn_no(self, card_no: str) -> str | None:
        person = find_person(self.db(), card_no=card_no)
        return person.psn_no if person is not None else None

    # ---------------------------------------------------------------- who is this
    def patient_for_card(self, card_read: Any) -> Patient:
        """1101 with the card (mdtrt_cert_type 03, card number and card_sn); the cache when the centre is down."""
        with self._lock:
            cred = journey.card_credential(card_read.card.card_no, card_read.card.card_sn or "")
            try:
                person = journey.identify(self.client, cred)
            except (CentreUnreachable, AnswerUncertain):
                from terminal.services.cached_people import patient_for_card
                cached = patient_for_card(self.db(), card_read)     # person_unknown if never seen
                return cached
            certno = card_read.holder.certno
            if certno and person.certno.upper() != certno.upper():
                raise E.CARD_MISMATCH.error(f"card {cred.mdtrt_cert_no} belongs to {mask(person.certno)}, "
                                  f"but the card holds {mask(certno)}", "卡号与证件号不符")
            self._known[person.psn_no] = (person, cred)
            self._cache_person(person, card_sn=cred.card_sn)
            return _patient(person)

    def patient_for_voucher(self, code: str, certno: str = "") -> Patient:
        """1101 with the e-voucher code (mdtrt_cert_type 01): the centre checks it and spends it (once); the
        window keeps it as this patient's credential for the visit. No cache fallback: only the centre can
        read a code. `certno`: the person the code must be (another person's is refused)."""
        cred = journey.voucher_credential(code)
        _check_voucher_shape(cred.mdtrt_cert_no)
        if certno:
            _check_certno(certno)
        with self._lock:
            try:
                person = journey.identify(self.client, cred, certno.strip().upper())
            except (CentreUnreachable, AnswerUncertain) as exc:
                raise unavailable(exc, "e-voucher 1101", "医保电子凭证识别") from None
            self._forget_visit(person.psn_no)       # a visit opened with another credential is not this one's
            self._known[person.psn_no] = (person, cred)
            self._cache_person(person)
            return _patient(person)

    def _forget_visit(self, psn_no: str) -> None:
        """Withdraw (2205, 2202, best effort) the patient's visit registered earlier, before a new credential
        opens one."""
        visit = self._visits.pop(psn_no, None)
        known = self._known.get(psn_no)
        if visit is not None and known is not None:
            try:
                journey.withdraw_visit(self.client, known[0], visit)
            except Exception:
                pass

    def settle_voucher(self, psn_no: str, bill: Bill, *, relatives: Any = "auto", acct_used_flag: bool = True,
                       request_id: str | None = None, now: datetime | None = None, save_slip: bool = True,
                       cash_allowed: bool = True, self_pay: bool = False) -> SettlementResult:
        """The patient identified by `patient_for_voucher`: visit → 2206 → 2207 with mdtrt_cert_type 01 and the
        code throughout; no PIN (the patient confirmed in the app); the personal account still pays."""
        with self._lock:
            known = self._known.get(psn_no)
            if known is None or known[1].mdtrt_cert_type != MdtrtCertType.EVOUCHER.value:
                raise E.VOUCHER_NEEDED.error()
            return self._settle_presented(known, bill, relatives=relatives, acct_used_flag=acct_used_flag,
                                          request_id=request_id, save_slip=save_slip, cash_allowed=cash_allowed,
                                          self_pay=self_pay)

    def patient_for_id_card(self, certno: str) -> Patient:
        """1101 with the resident ID number (mdtrt_cert_type 02), read or typed at the window: checked here
        first (GB 11643 check digit), then the centre names the insured person. No cache fallback: a visit on
        the ID card is the centre's to allow. The window must allow the ID card (`[terminal] id_card`)."""
        _check_id_card_allowed(self.cfg)
        _check_certno(certno)
        cred = Credential(MdtrtCertType.ID_CARD.value, certno.strip().upper())
        with self._lock:
            try:
                person = journey.identify(self.client, cred)
            except (CentreUnreachable, AnswerUncertain) as exc:
                raise unavailable(exc, "ID card 1101", "身份证识别") from None
            self._forget_visit(person.psn_no)       # a visit opened with another credential is not this one's
            self._known[person.psn_no] = (person, cred)
            self._cache_person(person)
            return _patient(person)

    def settle_id_card(self, psn_no: str, bill: Bill, *, relatives: Any = "auto", acct_used_flag: bool | None = None,
                       request_id: str | None = None, now: datetime | None = None, save_slip: bool = True,
                       cash_allowed: bool = True, self_pay: bool = False) -> SettlementResult:
        """The patient identified by `patient_for_id_card`: visit → 2206 → 2207 with mdtrt_cert_type 02 and the
        ID number throughout; no PIN (an ID card has none). The personal account does not pay unless the centre
        allows it on the ID card (`[centre] id_card_account`): `acct_used_flag` None = that default."""
        _check_id_card_allowed(self.cfg)
        if acct_used_flag is None:
            acct_used_flag = self.cfg.centre.id_card_account
        with self._lock:
            known = self._known.get(psn_no)
            if known is None or known[1].mdtrt_cert_type != MdtrtCertType.ID_CARD.value:
                raise E.ID_CARD_NEEDED.error()
            return self._settle_presented(known, bill, relatives=relatives, acct_used_flag=acct_used_flag,
                                          request_id=request_id, save_slip=save_slip, cash_allowed=cash_allowed,
                                          self_pay=self_pay)

    def account_may_pay(self, psn_no: str) -> bool:
        """Whether a personal account may pay for this patient as identified: not on the ID card unless the
        centre allows it (`[centre] id_card_account`), so no preview shows an account paying that 2207 refuses."""
        known = self._known.get(psn_no)
        return known is None or known[1].mdtrt_cert_type != MdtrtCertType.ID_CARD.value \
            or self.cfg.centre.id_card_account

    def _settle_presented(self, known: tuple[InsuredPerson, Credential], bill: Bill, *, relatives: Any,
                          acct_used_flag: bool, request_id: str | None, save_slip: bool, cash_allowed: bool,
                          self_pay: bool) -> SettlementResult:
        """A patient without a card (the credential as 1101 resolved it): replay, self-pay, or visit → 2206 →
        2207 with no PIN (the e-voucher and the ID card)."""
        person, cred = known
        psn_no = person.psn_no
        if self_pay:
            acct_used_flag, relatives = False, "none"
        if request_id:
            replay = self._replay(request_id, psn_no, bill, acct_used_flag, relatives, self_pay)
            if replay is not None:
                if save_slip:
                    self._slip(replay, only_if_missing=True)
                return replay
        if self_pay:
            result = self._cash_only(_patient(person), bill, request_id,
                                     request_fingerprint(psn_no, bill, False, "none", True),
                                     cert_type=cred.mdtrt_cert_type)
            if save_slip:
                self._slip(result)
            return result
        self._resolve_pending()
        try:
            return self._settle_person(person, cred, bill, lambda accounts_usable: None, relatives=relatives,
                                       acct_used_flag=acct_used_flag, request_id=request_id,
                                       save_slip=save_slip, cash_allowed=cash_allowed)
        except (CentreUnreachable, AnswerUncertain) as exc:
            raise unavailable(exc, "settlement", "结算") from None

    def _cache_person(self, p: InsuredPerson, card_sn: str = "") -> None:
        db = self.db()
        with write_tx(db):
            record.cache_person(db, {"psn_no": p.psn_no, "certno": p.certno, "psn_name": p.psn_name, "gend": p.gend,
                                     "naty": p.naty, "brdy": p.brdy, "card_no": p.card_no, "card_sn": card_sn or None,
                                     "insuplc_admdvs": p.insuplc_admdvs, "insutype": p.insutype,
                                     "psn_insu_stas": p.psn_insu_stas}, clock.stamp())

    def _person(self, psn_no: str) -> tuple[InsuredPerson, Credential | None]:
        known = self._known.get(psn_no)
        if known is not None:
            return known
        person = journey.lookup(self.client, psn_no=psn_no, insuplc=self._insuplc_of(psn_no))
        self._cache_person(person)
        return person, None

    def _insuplc_of(self, psn_no: str | None) -> str:
        """The insured area of a person the window knows (its cache): what a message naming a psn_no carries. A
        psn_no this window has never seen is refused here, clearly, rather than by the centre for the missing area."""
        if not psn_no:
            return ""
        known = find_person(self.db(), psn_no=psn_no)
        if known is None:
            raise E.PERSON_UNKNOWN.error(f"no person {psn_no} known at this window: read their card or ID first",
                                         f"本窗口无人员 {psn_no} 的记录:请先读卡或证件")
        return known.insuplc_admdvs

    # ---------------------------------------------------------------- family
    def family(self, *, card_no: str | None = None, certno: str | None = None, psn_no: str | None = None,
               today: str | None = None) -> FamilyView:
        """X101 (after 1101 or X105); the cached answer, when the centre cannot be reached."""
        with self._lock:
            try:
                if psn_no and psn_no in self._known:
                    person = self._known[psn_no][0]
                else:
                    if certno is not None:
                        _check_certno(certno)
                    person = _lookup_named(self.client, psn_no=psn_no, card_no=card_no,
                                           certno=certno.strip().upper() if certno else None,
                                           insuplc=self._insuplc_of(psn_no))
                    self._cache_person(person)
                fam = journey.family(self.client, person, today)
            except (CentreUnreachable, AnswerUncertain):
                return self._cached_family(card_no=card_no, certno=certno, psn_no=psn_no, today=today)
            view = FamilyView(_store_person(person), fam.own, [
                Relative(r.owner_psn_no, r.owner_name, r.relation, r.relation_name, r.scope, r.available, r.binding_id,
                         r.pays_by)
                for r in fam.relatives], wallet=fam.wallet)
            self._cache_family(view)
            return view

    def _cache_family(self, view: FamilyView) -> None:
        db = self.db()
        with write_tx(db):
            record.cache_family(db, view.person.psn_no, json.dumps({"own": view.own, "wallet": view.wallet,
                                                                    "relatives": [r.__dict__ for r in view.relatives]},
                                                                   ensure_ascii=False), clock.stamp())

    def _cached_family(self, *, card_no: str | None, certno: str | None, psn_no: str | None,
                       today: str | None) -> FamilyView:
        from terminal.services.cached_people import family_for, find_patient
        db = self.db()
        person = find_patient(db, card_no=card_no, certno=certno, psn_no=psn_no)
        kept = record.cached_family(db, person.psn_no)
        if kept is None:
            found = family_for(db, psn_no=person.psn_no, today=today)
            return FamilyView(found.person, found.own, found.relatives, cached=True)
        cached = json.loads(kept)
        return FamilyView(person, cached["own"], [Relative(**r) for r in cached["relatives"]], cached=True,
                          wallet=cached.get("wallet"))

    # ---------------------------------------------------------------- pre-settle
    def _visit(self, person: InsuredPerson, cred: Credential, bill: Bill) -> Visit:
        """The patient's open visit with this bill's fees: registered once (2201/2203/2204); a bill changed since
        (an item added at the window) replaces the fees of the same visit (2205 then 2204). A bill of another
        visit type (医疗类别, changed at the window, or the next bill after one discarded) is not that visit: the
        centre settles a visit only as its 2203 said, so the open one, never settled, is withdrawn (2205, 2202)
        and the bill's registered anew."""
        visit = self._visits.get(person.psn_no)
        if visit is not None and visit.med_type != bill.med_type:
            journey.withdraw_visit(self.client, person, visit)
            self._visits.pop(person.psn_no, None)
            visit = None
        if visit is None:
            visit = journey.open_visit(self.client, person, cred, bill, window=self.cfg.terminal.window)
        elif visit.bill_fingerprint != journey.bill_fingerprint(bill):
            if visit.chrg_bchno:
                journey.cancel_fees(self.client, person, visit)
                # the batch is gone: a 2204 refused next (a code the catalogue lacks) must not leave it to cancel again
                self._visits[person.psn_no] = visit = replace(visit, chrg_bchno="", bill_fingerprint="")
            visit = journey.upload_fees(self.client, person, visit.mdtrt_id, bill, previous=visit)
        self._visits[person.psn_no] = visit
        return visit

    def presettle(self, psn_no: str, bill: Bill, *, relatives: Any = "auto", acct_used_flag: bool = True,
                  now: datetime | None = None, self_pay: bool = False) -> Split:
        """2206 on the patient's open visit for this bill (2201/2203/2204 the first time); writes nothing."""
        if self_pay:
            return _cash_split(bill, psn_no, None)
        with self._lock:
            try:
                person, cred = self._person(psn_no)
                if cred is None:
                    raise E.CARD_NEEDED.error()
                require_active(_patient(person))
                visit = self._visit(person, cred, bill)
                pre = journey.presettle(self.client, person, cred, visit, bill.med_type, acct_used=acct_used_flag,
                                        owners=_relatives_owners(relatives) if acct_used_flag else [])
            except (CentreUnreachable, AnswerUncertain) as exc:
                raise unavailable(exc, "pre-settlement 2206", "预结算") from None
            return _presettlement(pre, bill, acct_used_flag)

    # ---------------------------------------------------------------- settle
    def settle(self, session: Any, bill: Bill, *, pin: str | None = None, relatives: Any = "auto",
               acct_used_flag: bool = True, request_id: str | None = None, now: datetime | None = None,
               save_slip: bool = True, cash_allowed: bool = True, expected_card: CardIdentity | None = None,
               self_pay: bool = False) -> SettlementResult:
        """card → 1101 → visit → 2206 → PIN (only when an account will pay) → the card still there → 2207 → slip."""
        with self._lock:
            card_read = session.read()
            session.check_card(expected_card)
            shown = expected_card or CardIdentity.of(card_read)
            if self_pay:
                acct_used_flag, relatives = False, "none"
            fp_psn = self._psn_for_fingerprint(card_read)
            if request_id and fp_psn is None and record.request(self.db(), request_id) is not None:
                fp_psn = self.patient_for_card(card_read).psn_no   # a card not cached yet: whose is it (1101)
            if request_id:
                replay = self._replay(request_id, fp_psn, bill, acct_used_flag, relatives, self_pay)
                if replay is not None:
                    if save_slip:
                        self._slip(replay, only_if_missing=True)
                    return replay
            if self_pay:
                patient = self.patient_for_card(card_read)
                result = self._cash_only(patient, bill, request_id,
                                         request_fingerprint(patient.psn_no, bill, False, "none", True))
                if save_slip:
                    self._slip(result)
                return result
            session.require_valid(clock.day(now))
            self._resolve_pending()
            try:
                return self._settle(session, card_read, shown, bill, pin=pin, relatives=relatives,
                                    acct_used_flag=acct_used_flag, request_id=request_id, save_slip=save_slip,
                                    cash_allowed=cash_allowed)
            except (CentreUnreachable, AnswerUncertain) as exc:
                raise unavailable(exc, "settlement", "结算") from None

    def _psn_for_fingerprint(self, card_read: Any) -> str | None:
        return record.psn_no_by_card(self.db(), card_read.card.card_no)

    def _settle(self, session: Any, card_read: Any, shown: CardIdentity, bill: Bill, *, pin: str | None,
                relatives: Any, acct_used_flag: bool, request_id: str | None, save_slip: bool,
                cash_allowed: bool) -> SettlementResult:
        cred = journey.card_credential(card_read.card.card_no, card_read.card.card_sn or "")
        person = journey.identify(self.client, cred)
        self._known[person.psn_no] = (person, cred)
        self._cache_person(person, card_sn=cred.card_sn)

        def before_2207(accounts_usable: bool) -> None:
            if accounts_usable:
                session.verify_pin(pin)
            if not session.confirm_card(shown):
                raise CardError(CARD_REMOVED, "the card was removed before the settlement was sent")
        return self._settle_person(person, cred, bill, before_2207, relatives=relatives,
                                   acct_used_flag=acct_used_flag, request_id=request_id, save_slip=save_slip,
                                   cash_allowed=cash_allowed)

    def _settle_person(self, person: InsuredPerson, cred: Credential, bill: Bill, before_2207: Any, *,
                       relatives: Any, acct_used_flag: bool, request_id: str | None, save_slip: bool,
                       cash_allowed: bool) -> SettlementResult:
        """visit → 2206 → `before_2207(accounts_usable)` (the card's PIN and presence; nothing for an e-voucher,
        confirmed in the patient's app) → 2207 → the window's record → slip; the credential throughout."""
        require_active(_patient(person))
        owners = _relatives_owners(relatives) if acct_used_flag else []
        fingerprint = request_fingerprint(person.psn_no, bill, acct_used_flag, relatives)
        visit = self._visit(person, cred, bill)
        pre = journey.presettle(self.client, person, cred, visit, bill.med_type, acct_used=acct_used_flag,
                                owners=owners)
        if not cash_allowed and pre.amounts["psn_cash_pay"] > 0:
            require_no_cash(_presettlement(pre, bill, acct_used_flag))
        accounts_usable = acct_used_flag and pre.amounts["acct_pay"] > 0
        if acct_used_flag and not accounts_usable:   # no account pays now: none may at 2207 either
            pre = journey.presettle(self.client, person, cred, visit, bill.med_type, acct_used=False, owners=[])
        before_2207(accounts_usable)
        msgid = self.client.next_msgid()
        rid = request_id or f"w-{uuid.uuid4().hex}"
        self._remember_request(rid, fingerprint, msgid)
        try:
            done = journey.settle(self.client, person, cred, visit, bill.med_type, pre, acct_used=accounts_usable,
                                  owners=owners if accounts_usable else [], msgid=msgid, cash_allowed=cash_allowed)
        except SettlementUncertain:
            self._visits.pop(person.psn_no, None)     # the next attempt registers a new visit
            raise
        self._visits.pop(person.psn_no, None)
        charged = as_charged(bill.to_json(), visit.classes)   # each item's class as the centre applied it
        result = self._result(done, charged, rid, self.cfg.terminal.window, self.cfg.terminal.operator)
        result.mdtrt_cert_type = done.mdtrt_cert_type or cred.mdtrt_cert_type
        self._record(result, kind="insurance", clr_type=str(done.platform["setlinfo"].get("clr_type") or ""),
                     mdtrt_cert_type=result.mdtrt_cert_type)
        self._remember_request(rid, fingerprint, msgid, result.setl_id)
        if save_slip:
            self._slip(result)
        return result

    def _resolve_pending(self) -> None:
        """Every 2207 in flight in the log is resolved by 2601 before a new one leaves; one that cannot be
        resolved now stops this settlement (SettlementUncertain, resolved False)."""
        def person_of(psn_no: str, insuplc: str) -> Any:
            return _StandIn(psn_no, insuplc)
        for outcome in journey.resolve_pending(self.client, person_of):
            if not outcome.resolved:
                raise outcome

    def _replay(self, request_id: str, psn_no: str | None, bill: Bill, acct_used_flag: bool, relatives: Any,
                self_pay: bool) -> SettlementResult | None:
        row = record.request(self.db(), request_id)
        if row is None or row[1] is None:
            return None
        first = self._row(row[1])
        fingerprint = request_fingerprint(first.psn_no, bill, acct_used_flag, relatives, self_pay)
        if psn_no is not None and psn_no != first.psn_no:
            raise E.REQUEST_ID_CONFLICT.error(f"request id {request_id} was used for another patient",
                              f"请求号 {request_id} 已用于其他患者")
        if fingerprint != row[0]:
            raise E.REQUEST_ID_CONFLICT.error(
                              f"request id {request_id} was used for a different request (another bill, relatives "
                              f"choice or account flag); a retry must repeat the same request, or use a new id",
                              f"请求号 {request_id} 已用于另一笔不同的结算请求(账单、共济人或账户选项不同)")
        first.replayed = True
        return first

    def _remember_request(self, request_id: str, fingerprint: str, msgid: str, setl_id: str | None = None) -> None:
        db = self.db()
        with write_tx(db):
            record.remember_request(db, request_id, fingerprint, msgid, setl_id, clock.stamp())

    def _cash_only(self, patient: Patient, bill: Bill, request_id: str | None, fingerprint: str,
                   cert_type: str = "03") -> SettlementResult:
        """The whole bill in cash, recorded here only (the centre is not asked; 3201 does not count it). Its time,
        id and day are on the centre's clock, as a settlement through the centre is, so the day's list sorts
        them together and the day end counts them on the same day."""
        pre = _cash_split(bill, patient.psn_no, None)
        now = centre_now(self.cfg)
        setl_id = f"C{now.strftime('%Y%m%d%H%M%S')}{uuid.uuid4().hex[:10].upper()}"
        rid = request_id or f"w-{uuid.uuid4().hex}"
        result = SettlementResult(
            setl_id=setl_id, mdtrt_id="", msgid="", request_id=rid, psn_no=patient.psn_no, psn_name=patient.psn_name,
            certno_masked=patient.certno_masked, insutype=patient.insutype, med_type=bill.med_type,
            hosp_lv=self.cfg.terminal.hosp_lv, window=self.cfg.terminal.window, operator=self.cfg.terminal.operator,
            acct_used_flag="0", amounts={c: getattr(pre, c) for c in AMOUNT_COLUMNS}, own_acct_pay=0, balc=None,
            mulaid=(), bill=bill.to_json(), status="settled", created_at=now.isoformat(timespec="seconds"),
            setl_date=now.date().isoformat(), kind="cash_only", mdtrt_cert_type=cert_type)
        self._record(result, kind="cash_only", clr_type="", mdtrt_cert_type=cert_type)
        self._remember_request(rid, fingerprint, "", setl_id)
        return result

    def _result(self, s: Settlement, bill_json: dict[str, Any], request_id: str, window: str, operator: str
                ) -> SettlementResult:
        return SettlementResult(
            setl_id=s.setl_id or "", mdtrt_id=s.mdtrt_id, msgid=s.msgid, request_id=request_id, psn_no=s.psn_no,
            psn_name=s.psn_name, certno_masked=s.certno_masked, insutype=s.insutype, med_type=s.med_type,
            hosp_lv=self.cfg.terminal.hosp_lv, window=window, operator=operator, acct_used_flag=s.acct_used_flag,
            amounts={c: s.amounts[c] for c in AMOUNT_COLUMNS}, own_acct_pay=s.own_acct_pay, balc=s.balc,
            mulaid=tuple(MulaidPart(m.owner_psn_no, m.binding_id, m.scope, m.amount) for m in s.mulaid),
            bill=bill_json, status=s.status, created_at=centre_stamp(self.cfg, s.setl_time or ""),
            setl_date=s.setl_date,
            reversal_of=s.reversal_of, platform=s.platform_json(), kind=s.kind)

    def _record(self, r: SettlementResult, *, kind: str, clr_type: str, mdtrt_cert_type: str) -> None:
        db = self.db()
        with write_tx(db):
            record.insert_settlement(db, {
                "setl_id": r.setl_id, "msgid": r.msgid or None, "kind": kind, "mdtrt_id": r.mdtrt_id or None,
                "psn_no": r.psn_no, "psn_name": r.psn_name, "certno_masked": r.certno_masked, "insutype": r.insutype,
                "med_type": r.med_type, "clr_type": clr_type, "mdtrt_cert_type": mdtrt_cert_type,
                "acct_used_flag": r.acct_used_flag, **{c: r.amounts[c] for c in AMOUNT_COLUMNS},
                "overlmt_selfpay": _overlmt(r), "own_acct_pay": r.own_acct_pay, "balc": r.balc,
                "mulaid": json.dumps(mulaid_json(r.mulaid), ensure_ascii=False), "bill": json.dumps(r.bill, ensure_ascii=False),
                "status": r.status, "setl_time": r.created_at, "setl_date": r.setl_date, "reversal_of": r.reversal_of,
                "window": r.window, "operator": r.operator, "request_id": r.request_id, "slip_path": r.slip_path})
            wallet = _wallet_part(r)
            if wallet is not None:
                record.set_wallet(db, r.setl_id, json.dumps(wallet, ensure_ascii=False))

    def _slip(self, result: SettlementResult, only_if_missing: bool = False) -> None:
        from terminal.services.slip import keep_slip
        keep_slip(self.db(), self.cfg, result, only_if_missing=only_if_missing)
        if result.slip_path:
            db = self.db()
            with write_tx(db):
                record.set_slip_path(db, result.setl_id, result.slip_path)

    # ---------------------------------------------------------------- what the window recorded
    def _row(self, setl_id: str) -> SettlementResult:
        r = record.settlement_row(self.db(), setl_id)
        if r is None:
            raise E.UNKNOWN_SETTLEMENT.error(f"no settlement {setl_id} at this window",
                           f"本窗口无此结算记录 {setl_id}")
        return self._result_of_row(r)

    def _result_of_row(self, r: dict[str, Any]) -> SettlementResult:
        result = SettlementResult(
            setl_id=r["setl_id"], mdtrt_id=r["mdtrt_id"] or "", msgid=r["msgid"] or "", request_id=r["request_id"] or "",
            psn_no=r["psn_no"], psn_name=r["psn_name"], certno_masked=r["certno_masked"], insutype=r["insutype"],
            med_type=r["med_type"], hosp_lv=self.cfg.terminal.hosp_lv, window=r["window"], operator=r["operator"],
            acct_used_flag=r["acct_used_flag"], amounts={c: r[c] for c in AMOUNT_COLUMNS},
            own_acct_pay=r["own_acct_pay"], balc=r["balc"], mulaid=mulaid_parts(json.loads(r["mulaid"])),
            bill=json.loads(r["bill"]),
            status=r["status"], created_at=r["setl_time"], setl_date=r["setl_date"], reversal_of=r["reversal_of"],
            slip_path=r["slip_path"], kind=r["kind"], mdtrt_cert_type=r["mdtrt_cert_type"])
        if r.get("wallet"):
            from terminal.services.platform_json import recorded_setlinfo
            wallet = {k: (v if k == "ext_explain" else Decimal(v)) for k, v in json.loads(r["wallet"]).items()}
            result.platform = {"setlinfo": {**recorded_setlinfo(result), **wallet}, "setldetail": []}
        return result

    def load_result(self, setl_id: str) -> SettlementResult:
        return self._row(setl_id)

    def find_by_request(self, request_id: str) -> SettlementResult | None:
        row = record.request(self.db(), request_id)
        if row is None or row[1] is None:
            return None
        found = self._row(row[1])
        found.replayed = True
        return found

    def todays(self, day: str, window: str) -> tuple[list[SettlementResult], dict[str, str]]:
        day = centre_day(self.cfg, day)
        db = self.db()
        rows = [self._result_of_row(r) for r in record.rows_of_day(db, day, window)]
        names = {r.psn_no: r.psn_name for r in rows}
        owners = sorted({m.owner_psn_no for r in rows for m in r.mulaid} - set(names) - {""})
        found = person_names(db, owners)
        names.update({owner: found.get(owner, owner) for owner in owners})
        return rows, names

    # ---------------------------------------------------------------- reversal
    def reverse(self, setl_id: str, now: datetime | None = None) -> SettlementResult:
        """2208 (a cash-only settlement is reversed here: the centre never had it)."""
        with self._lock:
            orig = self._row(setl_id)
            if orig.status == "reversal":
                raise E.IS_REVERSAL.error(f"{setl_id} is itself a reversal", f"{setl_id} 本身是冲正记录")
            if orig.status == "reversed":
                raise E.ALREADY_REVERSED.error(f"{setl_id} was already reversed: it cannot be reversed again",
                                  f"该笔结算 {setl_id} 已冲正,不能再次冲正")
            if orig.kind == "cash_only":
                result = self._cash_reversal(orig)
            else:
                known = find_person(self.db(), psn_no=orig.psn_no)
                stand_in = _StandIn(orig.psn_no, known.insuplc_admdvs if known else "")
                try:
                    done = journey.reverse(self.client, stand_in, setl_id, orig.mdtrt_id)  # type: ignore[arg-type]
                except (CentreUnreachable, AnswerUncertain) as exc:
                    raise unavailable(exc, "reversal 2208", "冲正") from None
                result = self._result(done, orig.bill, f"reverse:{setl_id}", self.cfg.terminal.window,
                                      self.cfg.terminal.operator)
                result.reversal_of = result.reversal_of or setl_id
                clr = record.clearing(self.db(), setl_id)
                assert clr is not None   # _row found it above
                result.mdtrt_cert_type = clr[1]
                self._record(result, kind="insurance", clr_type=clr[0], mdtrt_cert_type=clr[1])
            db = self.db()
            with write_tx(db):
                record.mark_reversed(db, setl_id)
            self._slip(result)
            return result

    def _cash_reversal(self, orig: SettlementResult) -> SettlementResult:
        """The reversal of a cash-only sale, kept here only, stamped on the centre's clock like the sale."""
        now = centre_now(self.cfg)
        result = SettlementResult(**{**orig.__dict__, "setl_id": f"C{now.strftime('%Y%m%d%H%M%S')}"
                                     f"{uuid.uuid4().hex[:10].upper()}", "status": "reversal",
                                     "amounts": {k: -v for k, v in orig.amounts.items()},
                                     "request_id": f"reverse:{orig.setl_id}", "reversal_of": orig.setl_id,
                                     "created_at": now.isoformat(timespec="seconds"),
                                     "setl_date": now.date().isoformat(), "slip_path": None, "replayed": False})
        self._record(result, kind="cash_only", clr_type="", mdtrt_cert_type=orig.mdtrt_cert_type or "03")
        return result

    # ---------------------------------------------------------------- day end
    def reconcile(self, day: str | None = None, window: str | None = None) -> CentreReconcileReport:
        """3201 per insurance type (and clearing class) for the day: this window's totals from its own record
        against the centre's answer."""
        day = centre_day(self.cfg, day)
        db = self.db()
        found = record.insured_groups(db, day, window)
        groups = list(dict.fromkeys([*found, ("310", "11"), ("390", "11")]))
        rows = []
        with self._lock:
            for insutype, clr_type in groups:
                count, *sums = record.group_sums(db, day, insutype, clr_type, window, RECONCILE_FIELDS)
                mine = dict(zip(RECONCILE_FIELDS, (int(s) for s in sums)))
                try:
                    info = journey.reconcile(self.client, insutype=insutype, clr_type=clr_type, begin=day, end=day,
                                             count=int(count), **{f: mine[f] for f in ASKED})
                except (CentreUnreachable, AnswerUncertain) as exc:
                    raise unavailable(exc, "reconciliation 3201", "对总账") from None
                theirs = getattr(info, "ext_centre", None)
                from terminal.insurance.models import fen
                centre_sums = {k: fen(v) for k, v in theirs.items() if k in RECONCILE_FIELDS} if theirs else None
                if not count and not info.ext_centre_setl_cnt and info.stmt_rslt == "0" and (insutype, clr_type) not in \
                        found:
                    continue   # an insurance type nobody settled today, and the centre agrees: not worth a line
                rows.append(CentreReconcileRow(insutype, clr_type, int(count), mine, info.ext_centre_setl_cnt,
                                               centre_sums, info.stmt_rslt == "0", info.stmt_rslt_dscr))
        cash_sales, cash_reversals, cash_net = (int(n) for n in record.cash_only_sums(db, day, window))
        settled, reversals = record.settled_and_reversals(db, day, window)
        return CentreReconcileReport(day, window, rows, cash_net, cash_sales - cash_reversals, int(settled),
                                     int(reversals), cash_only_sales=cash_sales, cash_only_reversals=cash_reversals)

    # ---------------------------------------------------------------- bindings (X102–X104)
    def _owner(self, session: Any, expected_card: CardIdentity | None, today: str | None) -> tuple[InsuredPerson, Any]:
        card_read = session.read()
        session.check_card(expected_card)
        session.require_valid(today or clock.day())
        self.patient_for_card(card_read)
        cred = journey.card_credential(card_read.card.card_no, card_read.card.card_sn or "")
        for person, c in self._known.values():
            if c == cred:
                return person, card_read
        raise unavailable(CentreUnreachable(), "who is this 1101", "人员信息获取")

    def _verify_pin(self, session: Any, pin: str | None, psn_no: str, action: str) -> None:
        """VERIFY on the owner's card; a wrong or blocked PIN is the window's to audit (the card answered it,
        nothing reached the centre): one row in the window's database, never the PIN itself."""
        from terminal.store.people import add_audit
        try:
            session.verify_pin(pin)
        except CardError as exc:
            if exc.pin_failed:
                db = self.db()
                with write_tx(db):
                    add_audit(db, operator=self.cfg.terminal.operator, window=self.cfg.terminal.window,
                              action="pin_failed", subject=psn_no,
                              detail={"for": action, "code": exc.code, "tries_left": exc.tries_left})
            raise

    def bind(self, session: Any, pin: str | None, user: str, relation: str, *, scope: str = "local", quota: int = 0,
             today: str | None = None, expected_card: CardIdentity | None = None) -> Binding:
        who = _who(user)                    # a malformed ID number is refused before the card and the PIN
        with self._lock:
            try:
                owner, card_read = self._owner(session, expected_card, today)
                self._verify_pin(session, pin, owner.psn_no, "bind")
                if not session.confirm_card(expected_card or CardIdentity.of(card_read)):
                    raise CardError(CARD_REMOVED)
                out = journey.bind(self.client, owner, who, relation, scope, quota)
            except (CentreUnreachable, AnswerUncertain) as exc:
                raise unavailable(exc, "binding", "共济绑定") from None
            return _binding(out.binding, out)

    def unbind(self, session: Any, pin: str | None, user: str, *, today: str | None = None,
               expected_card: CardIdentity | None = None) -> Any:
        from terminal.insurance.models import fen
        who = _who(user)
        with self._lock:
            try:
                owner, card_read = self._owner(session, expected_card, today)
                self._verify_pin(session, pin, owner.psn_no, "unbind")
                if not session.confirm_card(expected_card or CardIdentity.of(card_read)):
                    raise CardError(CARD_REMOVED)       # the card pulled after the PIN: nothing is unbound
                out = journey.unbind(self.client, owner, who)
            except (CentreUnreachable, AnswerUncertain) as exc:
                raise unavailable(exc, "unbinding", "解除共济绑定") from None
            return Unbound(_binding(out.binding, out), fen(out.returned),
                           None if out.owner_balc is None else fen(out.owner_balc))

    def owner_bindings(self, owner_psn_no: str) -> list[tuple[Any, Any]]:
        with self._lock:
            try:
                owner, _ = self._person(owner_psn_no)
                records = journey.owner_bindings(self.client, owner)
            except (CentreUnreachable, AnswerUncertain) as exc:
                raise unavailable(exc, "bindings X104", "绑定查询") from None
        db = self.db()    # X104 names no ID number: the window's cache of persons has it, for the screen
        return [(_binding(r, None), Person(r.user_psn_no, _cached_certno(db, r.user_psn_no), r.user_name, None, None,
                                           None, r.user_card_no, None, "", "", "")) for r in records]

    def binding_json(self, binding: Any) -> dict[str, Any]:
        """`cashier bind/unbind --json` on the centre: the binding as X102/X103 answered; fen named so."""
        from centre.interface import relations
        rec = getattr(binding, "centre", None) or {}
        return {"binding_id": binding.id, "owner_psn_no": binding.owner_psn_no, "owner_name": rec.get("owner_name"),
                "user_psn_no": binding.user_psn_no, "user_name": rec.get("user_name"), "relation": binding.relation,
                "relation_name": relations.name(binding.relation), "scope": binding.scope,
                "quota_fen": binding.quota, "begin_date": binding.begin_date, "end_date": binding.end_date,
                "status": binding.status, "owner_balc_fen": rec.get("owner_balc_fen")}

    # ---------------------------------------------------------------- the rest
    def slip_text(self, result: SettlementResult) -> str:
        from terminal.services.slip import slip_text
        return slip_text(self.cfg, result, self.db())

    def sign_in(self) -> None:
        """9001 when the window starts (the header shows the signed-in operator at once). A centre that cannot
        be reached or refuses is only recorded in the client's health: the first call will try again."""
        with self._lock:
            if self.client.health.sign_no:
                return
            try:
                self.client.sign_in()
            except (CashierError, CentreUnreachable, AnswerUncertain):
                pass

    def probe(self) -> None:
        """Asked by the idle window every `[centre] probe_s`: is the centre there (the header says down before the
        next patient), and once it is back, or was never reached, sign in (9001) again."""
        self.client.probe()
        if not self.client.health.sign_no and self.client.health.state != "down":
            self.sign_in()

    def message_log(self, limit: int = 50) -> list[Any]:
        """The last messages to the centre, newest first (`terminal.services.message_log`)."""
        from terminal.services.message_log import recent_messages
        return recent_messages(self.db(), limit)

    def close(self) -> None:
        """Visits registered but never settled (a pre-settlement only, a patient who left) are cancelled
        (2202), then the window signs out (9002). Best effort: the centre may be down."""
        with self._lock:
            for psn_no, visit in list(self._visits.items()):
                known = self._known.get(psn_no)
                try:
                    if known is not None:
                        journey.cancel_visit(self.client, known[0], visit)
                except Exception:
                    pass
            self._visits.clear()
            try:
                if self.client.health.sign_no:
                    self.client.sign_out()
            except Exception:
                pass
            self.client.close()

    # ---------------------------------------------------------------- the insurance wallet (X111–X113)
    def wallet_transfer(self, session: Any, pin: str | None, to: str, amount: int, *, today: str | None = None,
                        expected_card: CardIdentity | None = None) -> Any:
        """X111: the owner's card (1101) and PIN, the relative named by psn_no, card or ID number (X105)."""
        from terminal.services.wallet import TransferMade
        with self._lock:
            try:
                owner, card_read = self._owner(session, expected_card, today)
                user = self._relative(to)
                journey.wallet_transfer_check(self.client, owner, user, amount)   # the limits before the PIN
                session.verify_pin(pin)
                if not session.confirm_card(expected_card or CardIdentity.of(card_read)):
                    raise CardError(CARD_REMOVED)
                out = journey.wallet_transfer(self.client, owner, user, amount)
            except AnswerUncertain:
                raise CentreUnavailable(
                    E.CENTRE_NO_ANSWER, "the insurance centre did not answer the transfer: it may have been made; "
                    "look at the owner's wallet (cashier wallet show) before trying again",
                    "医保中心未应答,转账结果未知:请先查询授权人的医保钱包记录,再决定是否重新转账") from None
            except CentreUnreachable as exc:
                raise _wallet_down(exc) from None
            return TransferMade.of(out)

    def _relative(self, to: str) -> dict[str, str]:
        """The relative named at the window, as X111 takes them: an ID number; a card number the centre knows
        (X105); else a psn_no (X111 itself says when nobody has it)."""
        from terminal.insurance.client import CentreRefused
        text = to.strip().upper()
        if len(text) == 18 and text[:17].isdigit():
            _check_certno(text)
            return {"certno": text}
        try:
            return {"psn_no": journey.lookup(self.client, card_no=text).psn_no}
        except CentreRefused as exc:
            if exc.code not in ("person_unknown", "card_unknown", "bad_request"):
                raise
        return {"psn_no": text}

    def wallet_accept(self, session: Any, transfer_id: int, *, today: str | None = None,
                      expected_card: CardIdentity | None = None) -> Any:
        """X112: the relative's own card (1101) accepts a transfer made to them; money in, so no PIN."""
        from terminal.services.wallet import TransferAccepted
        with self._lock:
            try:
                user, _ = self._owner(session, expected_card, today)
                out = journey.wallet_accept(self.client, user, transfer_id)
            except AnswerUncertain:
                raise CentreUnavailable(
                    E.CENTRE_NO_ANSWER, "the insurance centre did not answer: the transfer may have been accepted; "
                    "look at the wallet (cashier wallet show) before trying again",
                    "医保中心未应答,接收结果未知:请先查询医保钱包再决定是否重试") from None
            except CentreUnreachable as exc:
                raise _wallet_down(exc) from None
            return TransferAccepted.of(out)

    def wallet_show(self, session: Any, *, today: str | None = None,
                    expected_card: CardIdentity | None = None) -> Any:
        """X113 for the card's holder: the wallet, the transfers made and received, what is left today."""
        from terminal.services.wallet import WalletView
        with self._lock:
            try:
                person, _ = self._owner(session, expected_card, today)
                out = journey.wallet_of(self.client, person)
            except (CentreUnreachable, AnswerUncertain) as exc:
                raise _wallet_down(exc) from None
            return WalletView.of(person.psn_no, person.psn_name, out)


def _wallet_down(exc: BaseException) -> CentreUnavailable:
    return CentreUnavailable(E.CENTRE_UNREACHABLE, "the insurance centre cannot be reached: the insurance wallet is "
                             "kept there; nothing was changed; try again when it answers",
                             "无法连接医保中心(医保钱包由医保中心管理),未做任何变更,请待恢复后重试")


@dataclass(frozen=True)
class _StandIn:
    """What a message needs of a person the window did not just read: psn_no and the insured area."""

    psn_no: str
    insuplc_admdvs: str


def _binding(rec: Any, out: Any) -> Binding:
    from terminal.insurance.models import fen
    b = Binding(rec.binding_id, rec.owner_psn_no, rec.user_psn_no, rec.relation, rec.scope, fen(rec.quota),
                rec.begin_date, rec.end_date, rec.status, None, None, None, None, None, None, None)
    extra = {"owner_name": rec.owner_name, "user_name": rec.user_name,
             "owner_balc_fen": None if out is None or out.owner_balc is None else fen(out.owner_balc)}
    object.__setattr__(b, "centre", extra) if _frozen(b) else setattr(b, "centre", extra)
    return b


def _frozen(obj: Any) -> bool:
    params = getattr(type(obj), "__dataclass_params__", None)
    return bool(params and params.frozen)


def _check_voucher_shape(code: str) -> None:
    """A scan that is not shaped like an e-voucher code is refused here, before the centre is asked."""
    from drivers.voucher import CODE_CHARS, PREFIX, looks_like
    if not looks_like(code):
        raise E.VOUCHER_MALFORMED.error(f"not an e-voucher code (expected {CODE_CHARS} characters beginning "
                       f"{PREFIX}, got {len(code)}): scan the code again",
                       f"不是医保电子凭证二维码(应为以{PREFIX}开头的{CODE_CHARS}位字符,收到{len(code)}位),请重新扫码")


def _check_id_card_allowed(cfg: Config) -> None:
    """The ID card is a credential at this window only where its config allows it (`[terminal] id_card`)."""
    if not cfg.terminal.id_card:
        raise E.ID_CARD_OFF.error()


def _check_certno(certno: str) -> None:
    from drivers.certno import problem
    value = certno.strip().upper()
    why = problem(value)
    if why:
        raise E.CERTNO_INVALID.error(f"invalid ID number {mask(value)}: {why}", f"证件号码{mask(value)}无效:{why}")


def _who(user: str) -> dict[str, str]:
    """The relative named at the window: an 18-character ID number (checked here: a wrong check digit or an
    impossible birth date is said as such, masked, not as an unknown person), else a card number."""
    text = user.strip().upper()
    if len(text) == 18 and text[:17].isdigit():
        _check_certno(text)
        return {"certno": text}
    return {"card_no": text}


def _store_person(p: InsuredPerson) -> Person:
    return Person(p.psn_no, p.certno, p.psn_name, p.gend, p.naty, p.brdy, p.card_no, None, p.insuplc_admdvs,
                  p.insutype, p.psn_insu_stas)


WALLET_KEYS = ("ext_wallet_pay", "ext_wallet_balc", "ext_explain")


def _wallet_part(r: SettlementResult) -> dict[str, Any] | None:
    """The wallet's part of the centre's answer (yuan as text, notes as given), kept beside the record; None
    when the answer has none (no wallet paid, a cash-only settlement, the quota model)."""
    info = (r.platform or {}).get("setlinfo") or {}
    part = {k: info[k] for k in WALLET_KEYS if info.get(k) not in (None, [], "")}
    return {k: (str(v) if k != "ext_explain" else v) for k, v in part.items()} or None


def _overlmt(r: SettlementResult) -> int:
    platform = r.platform or {}
    value = (platform.get("setlinfo") or {}).get("overlmt_selfpay")
    if value is None:
        return 0
    from terminal.insurance.models import fen
    return fen(value)


def _presettlement(s: Settlement, bill: Bill, acct_used_flag: bool) -> Split:
    """2206's answer as the screens show it (nothing written); the policy is the centre's."""
    a = s.amounts
    return Split(
        medfee_sumamt=a["medfee_sumamt"], fulamt_ownpay_amt=a["fulamt_ownpay_amt"], preselfpay_amt=a["preselfpay_amt"],
        inscp_scp_amt=a["inscp_scp_amt"], act_pay_dedc=a["act_pay_dedc"], fund_pay_sumamt=a["fund_pay_sumamt"],
        psn_part_amt=a["psn_part_amt"], own_acct_pay=s.own_acct_pay, acct_mulaid_pay=a["acct_mulaid_pay"],
        acct_pay=a["acct_pay"], psn_cash_pay=a["psn_cash_pay"], balc=s.balc,
        mulaid=tuple(MulaidPart(m.owner_psn_no, m.binding_id, m.scope, m.amount) for m in s.mulaid),
        acct_used=acct_used_flag and a["acct_pay"] > 0, item_amounts=tuple(i.amount for i in bill.items),
        wallet_pay=_wallet_pay(s))


def _wallet_pay(s: Settlement) -> int:
    from terminal.services.wallet import settlement_wallet
    return settlement_wallet(s).wallet_pay


def _cash_split(bill: Bill, psn_no: str, balc: int | None) -> Split:
    amounts = tuple(i.amount for i in bill.items)
    total = sum(amounts)
    return Split(medfee_sumamt=total, fulamt_ownpay_amt=total, preselfpay_amt=0, inscp_scp_amt=0, act_pay_dedc=0,
                 fund_pay_sumamt=0, psn_part_amt=total, own_acct_pay=0, acct_mulaid_pay=0, acct_pay=0,
                 psn_cash_pay=total, balc=balc, mulaid=(), acct_used=False, item_amounts=amounts)


def centre_stamp(cfg: Config, setl_time: str) -> str:
    """The centre's setl_time ('2026-12-02 23:59:50', its wall clock in `[centre] timezone`) as the window stamps
    every row it keeps: ISO 8601 with the offset ('2026-12-02T23:59:50+08:00'), so the record names one instant."""
    from zoneinfo import ZoneInfo
    try:
        at = datetime.strptime(setl_time, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(cfg.centre.timezone))
    except (ValueError, LookupError):
        return setl_time.replace(" ", "T")
    return at.isoformat(timespec="seconds")


def _cached_certno(db: Any, psn_no: str) -> str:
    cached = find_person(db, psn_no=psn_no)
    return cached.certno if cached is not None else ""


def centre_now(cfg: Config) -> datetime:
    """Now on the centre's clock, aware of its offset ('2026-12-03T00:30:00+08:00'): what the window stamps the
    sales it keeps without the centre with (cash only and their reversals), so their times, ids and days are
    on the clock the centre's own settlements carry (`centre_stamp`). The embedded centre's clock is the one
    read. Stored as it is: `clock.stamp` would turn it to the machine's zone, and its date with it."""
    from zoneinfo import ZoneInfo

    from centre.api import ConfigProblem, check_settings
    try:
        settings = check_settings(cfg.raw)
        return settings.clock()().replace(tzinfo=ZoneInfo(settings.timezone))
    except (ConfigProblem, LookupError, ValueError):
        return clock.now()


def centre_day(cfg: Config, day: str | None) -> str:
    """The centre's day for a day the window asks about: its setl_date and 3201 are on its clock, so "today" on
    the machine's clock (or None) is the centre's today; any other day is that day."""
    return centre_today(cfg) if day is None or day == clock.day() else day


def centre_today(cfg: Config) -> str:
    """Today on the centre's clock (its setl_date and 3201 days are in its time zone)."""
    return centre_now(cfg).date().isoformat()
