"""Settlement at the window (like the national 2206/2207): pre-settle without writing, settle in one transaction.

API (plain functions taking `(db, cfg, ...)`, returning dataclasses; one connection per thread):
- `patient_for_card(db, card_read) -> Patient`: the person on the presented card (RuleRefused if unknown).
- `presettle_for(db, cfg, psn_no, bill, relatives="auto", acct_used_flag=True, now=None) -> PreSettlement`:
  the split the settlement would make now; writes nothing.
- `settle(db, cfg, session, bill, pin=..., relatives="auto", acct_used_flag=True, request_id=None, now=None,
  expected_card=None, self_pay=False) -> SettlementResult`: reads the card in `session` (a `CardSession`),
  checks it is `expected_card` (the card read and shown: card_swapped otherwise), verifies its PIN before any
  personal account is used (pin=None: the reader's keypad), commits with the card confirmed again inside the
  transaction, saves the slip (结算单).
- self-pay (`self_pay=True`, also `presettle_for` and `commit_settlement`): the whole bill in cash, no fund
  share, no account (acct_used_flag 0), no PIN: the way on for a patient whose insurance is not active or
  whose card has expired. Recorded as a settlement like any other (day end counts it).
  A slip that cannot be written leaves `slip_warning` on the result, never an error (a replay writes a
  missing one). `cash_allowed=False` (a kiosk, which cannot take cash): refused with `accounts_short`,
  nothing written, when the accounts do not cover the whole out-of-pocket part, checked again inside the
  transaction.
- `commit_settlement(db, cfg, psn_no, bill, relatives=..., acct_used_flag=..., request_id=...,
  still_present=lambda: True, now=None) -> SettlementResult`: the transaction alone (callers that
  have already checked the card and PIN: the UI's worker, benchmarks).
- `find_by_request(db, request_id) -> SettlementResult | None`; `load_result(db, setl_id)`.
`relatives`: "auto" (every usable binding, in the family lookup's order), "none", or a list of owner
psn_no in the order to draw on them. A retry with the same request id returns the first result
(`replayed=True`) and charges nothing; the same id with another request (patient, bill, relatives,
account flag: `request_fingerprint`, stored as `request_fp`) is refused with `request_id_conflict`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Sequence

import sqlite_utils

from centre.interface.codes import BindingScope, Insutype, SetlStatus
from drivers.certno import mask
from drivers.errors import CARD_REMOVED, CardError
from terminal import clock
from terminal.card_session import CardIdentity
from terminal.config import parsed_once
from terminal.domain.bill import Bill, check_limits
from terminal.domain.money import yuan_text
from terminal.domain.policy import Policy, PolicyRule
from terminal.domain.presettle import PreSettlement, RelativeSource, YearToDate, presettle
from terminal.error_codes import E
from terminal.errors import RuleRefused
from terminal.services.views import MulaidPart, Split, mulaid_json, mulaid_parts
from terminal.store import settlements as rows
from terminal.store.people import add_audit
from terminal.store.schema_settlement import AMOUNT_COLUMNS
from terminal.store.write_lock import write_tx

Relatives = str | Sequence[str]


@dataclass(frozen=True)
class Patient:
    psn_no: str
    psn_name: str
    certno: str
    insutype: str
    psn_insu_stas: str
    insuplc_admdvs: str

    @property
    def certno_masked(self) -> str:
        return mask(self.certno)


@dataclass
class SettlementResult:
    setl_id: str
    mdtrt_id: str
    msgid: str
    request_id: str
    psn_no: str
    psn_name: str
    certno_masked: str
    insutype: str
    med_type: str
    hosp_lv: str
    window: str
    operator: str
    acct_used_flag: str
    amounts: dict[str, int]
    own_acct_pay: int
    balc: int | None
    mulaid: tuple[MulaidPart, ...]   # each relative's account that paid, in the order drawn on
    bill: dict[str, Any]
    status: str
    created_at: str
    setl_date: str
    reversal_of: str | None = None
    replayed: bool = False
    slip_path: str | None = None
    slip_warning: Any = None      # a SlipNotSaved when the slip could not be written (the settlement stands)
    platform: dict[str, Any] | None = None   # through the centre: its 2207/2208 answer (setlinfo, setldetail)
    kind: str = "insurance"       # "cash_only": settled in cash here (self-pay, or the centre could not be reached)
    mdtrt_cert_type: str | None = None   # through the centre: what the patient presented (01 e-voucher, 03 card)

    @property
    def split(self) -> Split:
        """Who paid what, as the screens show it (the same shape as a pre-settlement's)."""
        from terminal.services.wallet import settlement_wallet
        return Split.of_amounts(self.amounts, own_acct_pay=self.own_acct_pay, balc=self.balc,
                                acct_used=self.acct_used_flag == "1", mulaid=self.mulaid,
                                wallet_pay=settlement_wallet(self).wallet_pay)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"setl_id": self.setl_id, "mdtrt_id": self.mdtrt_id, "msgid": self.msgid,
                               "request_id": self.request_id, "psn_no": self.psn_no, "psn_name": self.psn_name,
                               "certno": self.certno_masked, "insutype": self.insutype, "med_type": self.med_type,
                               "acct_used_flag": self.acct_used_flag}
        out.update(self.amounts)
        out.update({"own_acct_pay": self.own_acct_pay, "balc": self.balc, "mulaid": mulaid_json(self.mulaid),
                    "status": self.status, "setl_time": self.created_at, "setl_date": self.setl_date,
                    "window": self.window, "operator": self.operator, "reversal_of": self.reversal_of,
                    "replayed": self.replayed, "slip": self.slip_path})
        if self.slip_warning is not None:
            out["warning"] = {"code": self.slip_warning.code, "message": self.slip_warning.message}
        return out


# ---------------------------------------------------------------- lookups

def _patient(db: sqlite_utils.Database, where: str, value: str) -> Patient | None:
    row = rows.patient_row(db, where, value)
    return Patient(*row) if row else None


def patient_by_psn_no(db: sqlite_utils.Database, psn_no: str) -> Patient:
    patient = _patient(db, "psn_no", psn_no)
    if patient is None:
        raise E.PERSON_UNKNOWN.error(f"no person {psn_no} in the local database", f"本地库中无人员 {psn_no}")
    return patient


def patient_for_card(db: sqlite_utils.Database, card_read) -> Patient:
    """The person whose card was read: by card number, cross-checked with the ID number when readable."""
    card_no, certno = card_read.card.card_no, card_read.holder.certno
    patient = _patient(db, "card_no", card_no) or (_patient(db, "certno", certno) if certno else None)
    if patient is None:
        raise E.PERSON_UNKNOWN.error(f"card {card_no} is not in the local database",
                          f"卡号 {card_no} 不在本地库中")
    if certno and patient.certno.upper() != certno.upper():
        raise E.CARD_MISMATCH.error(f"card {card_no} belongs to {mask(patient.certno)}, "
                          f"but the card holds {mask(certno)}", "卡号与证件号不符")
    return patient


def _require_active(patient: Patient) -> None:
    if patient.psn_insu_stas != "1":
        state = {"2": "suspended", "4": "ended"}.get(patient.psn_insu_stas, f"status {patient.psn_insu_stas}")
        state_zh = {"2": "暂停", "4": "终止"}.get(patient.psn_insu_stas, patient.psn_insu_stas)
        raise E.INSURANCE_INACTIVE.error(
                          f"{patient.psn_name}'s insurance is {state}: cannot settle with insurance; "
                          f"the bill can be paid in full in cash (self-pay)",
                          f"{patient.psn_name} 的参保状态为{state_zh},不能医保结算;可全自费现金结算")


def _relative_sources(db: sqlite_utils.Database, cfg, patient: Patient, relatives: Relatives,
                      day: str) -> list[RelativeSource]:
    """The bindings that may pay, in the order to draw on them (family lookup order, or as listed)."""
    if relatives == "none" or relatives is None:
        return []
    from terminal.services.bindings import policy_of
    from terminal.services.family import relatives_of
    found = [RelativeSource(r.owner_psn_no, r.binding_id, r.scope, r.available)
             for r in relatives_of(db, patient.psn_no, day, policy_of(cfg))]
    if relatives == "auto":
        return found
    if isinstance(relatives, str):
        raise E.BAD_RELATIVES.error(f"relatives must be auto, none or a list of psn_no (got {relatives!r})",
                       "共济人参数应为 auto、none 或人员编号列表")
    by_owner = {r.owner_psn_no: r for r in found}
    chosen = []
    for owner in relatives:
        if owner not in by_owner:
            raise E.NO_BINDING.error(f"{owner} has no active mutual-aid binding for {patient.psn_no}",
                              f"{owner} 与 {patient.psn_no} 之间没有有效的共济绑定")
        if by_owner[owner] not in chosen:
            chosen.append(by_owner[owner])
    return chosen


def policy_for(cfg) -> Policy:
    """The config's policy, parsed once per loaded config."""
    return parsed_once(cfg, "policy", Policy.from_config)


def _compute(db, cfg, patient: Patient, bill: Bill, relatives: Relatives, acct_used_flag: bool,
             now: datetime, policy: Policy | None = None, self_pay: bool = False) -> PreSettlement:
    """Read the patient's standing (balance, year accumulators, relatives) and apply the settlement steps (or self-pay)."""
    if not self_pay:
        _require_active(patient)
    policy = policy or policy_for(cfg)
    check_limits(bill, policy.bill_limits)      # the config's absurd-amount limits, whoever parsed the bill
    balc, dedc_used, fund_paid = rows.standing(db, patient.psn_no, now.year)
    own = balc if patient.insutype == Insutype.EMPLOYEE else None  # only employees have an account; shown even if unused
    if self_pay:
        return _self_pay_split(bill, policy, patient, cfg.terminal.hosp_lv, own,
                               YearToDate(dedc_used or 0, fund_paid or 0))
    return presettle(bill, policy, insutype=patient.insutype, hosp_lv=cfg.terminal.hosp_lv,
                     ytd=YearToDate(dedc_used or 0, fund_paid or 0), own_balc=own,
                     relatives=_relative_sources(db, cfg, patient, relatives, clock.day(now)) if acct_used_flag else (),
                     acct_used_flag=acct_used_flag)


def _self_pay_split(bill: Bill, policy: Policy, patient: Patient, hosp_lv: str, own_balc: int | None,
                    ytd: YearToDate) -> PreSettlement:
    """Full self-pay: the whole bill is the patient's, in cash; the fund and every account pay nothing, the
    year accumulators do not move. (The rule is recorded for the form's sake; none when no rule matches.)"""
    amounts = tuple(item.amount for item in bill.items)
    total = sum(amounts)
    try:
        rule = policy.rule_for(patient.insutype, bill.med_type, hosp_lv)
    except RuleRefused:
        rule = PolicyRule(patient.insutype, bill.med_type, hosp_lv, 0, "visit", Decimal(0), 0)
    return PreSettlement(medfee_sumamt=total, fulamt_ownpay_amt=total, preselfpay_amt=0, inscp_scp_amt=0,
                         act_pay_dedc=0, fund_pay_sumamt=0, psn_part_amt=total, own_acct_pay=0, acct_mulaid_pay=0,
                         acct_pay=0, psn_cash_pay=total, balc=own_balc, mulaid=(), rule=rule, acct_used_flag=False,
                         item_amounts=amounts, ytd_after=ytd)


def presettle_for(db: sqlite_utils.Database, cfg, psn_no: str, bill: Bill, relatives: Relatives = "auto",
                  acct_used_flag: bool = True, now: datetime | None = None, self_pay: bool = False) -> PreSettlement:
    """2206: the split as it would be now (self_pay: the whole bill in cash); nothing is written."""
    return _compute(db, cfg, patient_by_psn_no(db, psn_no), bill, relatives, acct_used_flag, clock.local(now),
                    self_pay=self_pay)


# ---------------------------------------------------------------- results

def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _row_result(db: sqlite_utils.Database, row: dict[str, Any], replayed: bool = False,
                patient: Patient | None = None) -> SettlementResult:
    patient = patient or patient_by_psn_no(db, row["psn_no"])
    return SettlementResult(
        setl_id=row["setl_id"], mdtrt_id=row["mdtrt_id"], msgid=row["msgid"], request_id=row["request_id"],
        psn_no=row["psn_no"], psn_name=patient.psn_name, certno_masked=patient.certno_masked,
        insutype=row["insutype"], med_type=row["med_type"], hosp_lv=row["hosp_lv"], window=row["window"],
        operator=row["operator"], acct_used_flag=row["acct_used_flag"],
        amounts={c: row[c] for c in AMOUNT_COLUMNS}, own_acct_pay=row["own_acct_pay"], balc=row["balc"],
        mulaid=mulaid_parts(_json(row["mulaid"])), bill=_json(row["bill"]), status=row["status"],
        created_at=row["created_at"], setl_date=row["setl_date"], reversal_of=row["reversal_of"],
        replayed=replayed)


def _one(db: sqlite_utils.Database, where: str, value: str) -> dict[str, Any] | None:
    return rows.settlement_row(db, where, value)


def find_by_request(db: sqlite_utils.Database, request_id: str) -> SettlementResult | None:
    row = _one(db, "request_id", request_id)
    return _row_result(db, row, replayed=True) if row else None


def load_result(db: sqlite_utils.Database, setl_id: str) -> SettlementResult:
    row = _one(db, "setl_id", setl_id)
    if row is None:
        raise E.UNKNOWN_SETTLEMENT.error(f"no settlement {setl_id}", f"无此结算记录 {setl_id}")
    return _row_result(db, row)


def results_of_day(db: sqlite_utils.Database, day: str, window: str) -> list[SettlementResult]:
    """A window's settlements and reversals of a day, newest first: one query for the rows, one for the
    people named on them (not one per row)."""
    found = rows.settlement_rows_of_day(db, day, window)
    patients = {psn_no: Patient(*row) for psn_no, row in rows.patient_rows(db, (r["psn_no"] for r in found)).items()}
    return [_row_result(db, row, patient=patients.get(row["psn_no"])) for row in found]


def new_ids(cfg, now: datetime) -> tuple[str, str, str]:
    """(setl_id, mdtrt_id, msgid): unique across windows and processes."""
    stamp = now.strftime("%Y%m%d%H%M%S")
    tail = uuid.uuid4().hex[:10].upper()
    hosp = (cfg.terminal.hospital_code or "H00000000000")[:12]
    return f"S{stamp}{tail}", f"M{stamp}{tail}", f"{hosp}{stamp}{tail[:4]}"


def _canonical_relatives(relatives: Relatives) -> str | list[str]:
    if relatives is None or relatives == "none":
        return "none"
    if isinstance(relatives, str):
        return relatives
    return list(relatives)


def request_fingerprint(psn_no: str, bill: Bill, acct_used_flag: bool, relatives: Relatives,
                        self_pay: bool = False) -> str:
    """sha256 of the canonical request (patient, bill, acct_used_flag as asked, relatives choice, self-pay).

    A retry under the same request id must give the same fingerprint; a quantity is written in its
    shortest form ("1.000" and 1 are the same quantity), keys sorted, no spaces.
    """
    def qty(q) -> str:
        return str(int(q)) if q == q.to_integral_value() else str(q.normalize())
    canonical = {"psn_no": psn_no, "med_type": bill.med_type, "items": [
        {"code": i.code, "name": i.name, "category": i.category, "class": i.cls, "qty": qty(i.qty), "price": i.price}
        for i in bill.items], "acct_used_flag": bool(acct_used_flag), "relatives": _canonical_relatives(relatives)}
    if self_pay:   # only then: the fingerprints of every other request stay as they were
        canonical["self_pay"] = True
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _same_request(first: dict[str, Any], request_id: str, psn_no: str, fingerprint: str) -> None:
    """A request id seen before must carry the same request, or it is refused (nothing written)."""
    if first["psn_no"] != psn_no:
        raise E.REQUEST_ID_CONFLICT.error(f"request id {request_id} was used for another patient",
                          f"请求号 {request_id} 已用于其他患者")
    stored = first.get("request_fp")
    if stored is not None and stored != fingerprint:   # rows from before step 0002 carry none
        raise E.REQUEST_ID_CONFLICT.error(
                          f"request id {request_id} was used for a different request (another bill, relatives "
                          f"choice or account flag); a retry must repeat the same request, or use a new id",
                          f"请求号 {request_id} 已用于另一笔不同的结算请求(账单、共济人或账户选项不同)")


# ---------------------------------------------------------------- the transaction

def _debit(db, pre: PreSettlement, patient: Patient, setl_id: str, at: str, window: str, day: str) -> list[tuple]:
    """Conditional updates for each account that pays; returns the ledger rows. Raises if any would overdraw."""
    entries: list[tuple] = []

    def take_balc(psn_no: str, amount: int) -> int:
        left = rows.take_balc(db, psn_no, amount)
        if left is None:
            raise E.INSUFFICIENT_BALANCE.error(f"the account of {psn_no} no longer holds {amount} fen",
                              f"{psn_no} 的账户余额不足")
        return left

    if pre.own_acct_pay:
        entries.append((setl_id, "own", "balc", patient.psn_no, None, pre.own_acct_pay,
                        take_balc(patient.psn_no, pre.own_acct_pay), at, window, day))
    for part in pre.mulaid:
        if part.scope == BindingScope.CROSS_PROVINCE:
            quota_left = rows.take_quota(db, part.binding_id, part.amount)
            if quota_left is None:
                raise E.INSUFFICIENT_QUOTA.error(f"binding {part.binding_id} no longer holds {part.amount} fen",
                                  f"共济额度不足(绑定 {part.binding_id})")
            entries.append((setl_id, "binding", "quota", part.owner_psn_no, part.binding_id, part.amount, quota_left,
                            at, window, day))
        else:
            entries.append((setl_id, "binding", "balc", part.owner_psn_no, part.binding_id, part.amount,
                            take_balc(part.owner_psn_no, part.amount), at, window, day))
    entries.append((setl_id, "fund", None, patient.psn_no, None, pre.fund_pay_sumamt, None, at, window, day))
    entries.append((setl_id, "cash", None, patient.psn_no, None, pre.psn_cash_pay, None, at, window, day))
    return entries


def commit_settlement(db: sqlite_utils.Database, cfg, psn_no: str, bill: Bill, *, relatives: Relatives = "auto",
                      acct_used_flag: bool = True, request_id: str | None = None,
                      still_present: Callable[[], bool] = lambda: True, now: datetime | None = None,
                      policy: Policy | None = None, fingerprint: str | None = None,
                      cash_allowed: bool = True, self_pay: bool = False) -> SettlementResult:
    """2207 in one IMMEDIATE transaction: re-read everything, re-compute, debit conditionally, append entries.

    `fingerprint`: the request as asked (see `request_fingerprint`); default: from these arguments.
    `still_present`: asked last, inside the transaction: False (or a CardError) and nothing is written.
    `self_pay`: the whole bill in cash (no fund, no account), whatever the insurance status.
    """
    now = clock.local(now)
    if self_pay:
        acct_used_flag, relatives = False, "none"
    fingerprint = fingerprint or request_fingerprint(psn_no, bill, acct_used_flag, relatives, self_pay)
    asked_id = request_id is not None   # a fresh id cannot have been used before: no look-up needed
    request_id = request_id or uuid.uuid4().hex
    setl_id, mdtrt_id, msgid = new_ids(cfg, now)
    at, day, window, operator = clock.stamp(now), clock.day(now), cfg.terminal.window, cfg.terminal.operator
    bill_obj = bill.to_json()
    bill_text = json.dumps(bill_obj, ensure_ascii=False)
    with write_tx(db):
        first = _one(db, "request_id", request_id) if asked_id else None
        if first is not None:
            _same_request(first, request_id, psn_no, fingerprint)
            return _row_result(db, first, replayed=True)
        patient = patient_by_psn_no(db, psn_no)
        pre = _compute(db, cfg, patient, bill, relatives, acct_used_flag, now, policy, self_pay=self_pay)
        if not cash_allowed:
            _require_no_cash(pre)   # balances may have moved since the caller's pre-settlement
        entries = _debit(db, pre, patient, setl_id, at, window, day)
        mulaid = mulaid_json(pre.mulaid)
        row = {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "msgid": msgid, "request_id": request_id,
               "psn_no": psn_no, "window": window, "operator": operator, "med_type": bill.med_type,
               "insutype": patient.insutype, "hosp_lv": cfg.terminal.hosp_lv,
               "acct_used_flag": "1" if acct_used_flag else "0",
               **{c: getattr(pre, c) for c in AMOUNT_COLUMNS}, "own_acct_pay": pre.own_acct_pay, "balc": pre.balc,
               "mulaid": json.dumps(mulaid, ensure_ascii=False),
               "bill": bill_text, "status": SetlStatus.SETTLED.value,
               "created_at": at, "setl_date": day, "reversal_of": None, "request_fp": fingerprint}
        rows.insert_settlement(db, row)
        rows.insert_ledger(db, entries)
        rows.add_to_accumulators(db, psn_no, now.year, pre.act_pay_dedc, pre.fund_pay_sumamt)
        add_audit(db, at=at, operator=operator, window=window, action="settle", subject=psn_no, detail={
            "setl_id": setl_id, "request_id": request_id, "medfee_sumamt": pre.medfee_sumamt,
            "fund_pay_sumamt": pre.fund_pay_sumamt, "acct_pay": pre.acct_pay,
            "acct_mulaid_pay": pre.acct_mulaid_pay, "psn_cash_pay": pre.psn_cash_pay, "mulaid": mulaid,
            **({"self_pay": True} if self_pay else {})})
        if not still_present():   # the card left before commit: nothing happened
            raise CardError(CARD_REMOVED, "the card was removed before the settlement was committed")
    return _row_result(db, {**row, "mulaid": mulaid, "bill": bill_obj}, patient=patient)


# ---------------------------------------------------------------- at the window, with a card

def _pin_failed(db, cfg, patient: Patient, exc: CardError, now: datetime) -> None:
    """Audit a PIN failure (never the PIN itself) in its own small transaction."""
    with write_tx(db):
        add_audit(db, at=clock.stamp(now), operator=cfg.terminal.operator, window=cfg.terminal.window, action="pin_failed",
                  subject=patient.psn_no, detail={"code": exc.code, "tries_left": exc.tries_left})


def _require_no_cash(pre: PreSettlement) -> None:
    """Where no cash can be taken (a kiosk), the accounts must cover the whole out-of-pocket part."""
    if pre.psn_cash_pay > 0:
        raise E.ACCOUNTS_SHORT.error(
                          f"the accounts do not cover the out-of-pocket part: {yuan_text(pre.psn_cash_pay)} would be "
                          "left to pay in cash; nothing was charged",
                          f"账户余额不足以支付个人负担部分，还差 {yuan_text(pre.psn_cash_pay)} 需付现金；未扣费",
                          cash_fen=pre.psn_cash_pay)


def settle(db: sqlite_utils.Database, cfg, session, bill: Bill, *, pin: str | None = None,
           relatives: Relatives = "auto", acct_used_flag: bool = True, request_id: str | None = None,
           now: datetime | None = None, save_slip: bool = True, cash_allowed: bool = True,
           expected_card: CardIdentity | None = None, self_pay: bool = False) -> SettlementResult:
    """The whole window flow: card -> the card shown? -> patient -> (PIN if an account will pay) -> commit -> slip.

    `expected_card`: the card the caller read and showed with this bill (the UI, the kiosk). The card in the
    reader must be that card when read here and again inside the transaction, else card_swapped and nothing
    is written. Without it, the card read here is the one confirmed at commit (the command line).
    `self_pay`: the whole bill in cash, no PIN (insurance not active, card expired).
    """
    now = clock.local(now)
    card_read = session.read()   # always the card in the reader now ...
    session.check_card(expected_card)   # ... and it must be the card shown with this bill
    shown = expected_card or CardIdentity.of(card_read)
    patient = patient_for_card(db, card_read)
    if self_pay:
        acct_used_flag, relatives = False, "none"
    else:
        session.require_valid(clock.day(now))   # an expired card pays nothing, as at bind and the kiosk
    fingerprint = request_fingerprint(patient.psn_no, bill, acct_used_flag, relatives, self_pay)
    if request_id:
        first = _one(db, "request_id", request_id)
        if first is not None:
            _same_request(first, request_id, patient.psn_no, fingerprint)
            replay = _row_result(db, first, replayed=True, patient=patient)
            if save_slip:
                _keep_slip(db, cfg, replay, only_if_missing=True)
            return replay
    pre = _compute(db, cfg, patient, bill, relatives, acct_used_flag, now, self_pay=self_pay)
    if not cash_allowed:
        _require_no_cash(pre)   # before the PIN: no try of the card's counter spent on a refusal
    # PIN only when an account would pay; if none would now, none may at commit either (cash instead)
    accounts_usable = acct_used_flag and pre.acct_pay > 0
    if accounts_usable:
        try:
            session.verify_pin(pin)
        except CardError as exc:
            if exc.pin_failed:
                _pin_failed(db, cfg, patient, exc, now)
            raise
    result = commit_settlement(db, cfg, patient.psn_no, bill, relatives=relatives,
                               acct_used_flag=accounts_usable, request_id=request_id,
                               still_present=lambda: session.confirm_card(shown), now=now,
                               fingerprint=fingerprint, self_pay=self_pay, cash_allowed=cash_allowed)
    if save_slip:   # after the commit: a slip that cannot be written is a warning, never a failure
        _keep_slip(db, cfg, result, only_if_missing=result.replayed)
    return result


def _keep_slip(db: sqlite_utils.Database, cfg, result: SettlementResult, only_if_missing: bool) -> None:
    from terminal.services.slip import keep_slip
    keep_slip(db, cfg, result, only_if_missing=only_if_missing)
