"""The national transaction sequence of an outpatient settlement, as a hospital's system runs it:

    card → 1101 (who is this) → X101 (whose accounts may pay) → 2201 (register the visit) → 2203 (what for)
    → 2204 (the fee details: the centre classes each item) → 2206 (pre-settle, shown) → PIN on the card
    → 2207 (settle) → slip;   reversal = 2208;   a 2207 with no answer → 2601 before anything else.

Each function takes the window's `CentreClient` and returns the window's models (fen). Refusals raise
`CentreRefused`; `CentreUnreachable` and `AnswerUncertain` come through from the transport, except from
`settle`, which turns an uncertain 2207 into a clear `SettlementUncertain` after asking the centre (2601).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence

from centre.interface.amounts import fen_to_yuan
from centre.interface.codes import ChrgitmLv, MdtrtCertType
from terminal.domain.bill import Bill
from terminal.error_codes import E
from terminal.errors import CashierError, ErrorCode
from terminal.insurance.client import CentreClient, CentreRefused
from terminal.insurance.models import Family, FamilyAccount, InsuredPerson, Settlement, fen
from terminal.insurance.transport import AnswerUncertain, CentreUnreachable


class SettlementUncertain(CashierError):
    """A 2207 got no answer; the window asked the centre (2601) what happened and undid it if it had happened.

    `took_effect`: it had (and is now reversed); `resolved`: False when even the 2601 got no answer: the
    outcome is still unknown and no new attempt may be made until it is resolved (`resolve_pending`)."""

    def __init__(self, code: ErrorCode, en: str, zh: str, *, msgid: str, took_effect: bool | None,
                 resolved: bool) -> None:
        super().__init__(code, en, zh, msgid=msgid)
        self.msgid = msgid
        self.took_effect = took_effect
        self.resolved = resolved


@dataclass(frozen=True)
class Credential:
    """What the patient presented (就诊凭证): its type and number as 1101 and 2201–2207 carry them."""

    mdtrt_cert_type: str
    mdtrt_cert_no: str
    card_sn: str = ""


@dataclass(frozen=True)
class Visit:
    """A registered visit with its uploaded fees (one batch)."""

    mdtrt_id: str
    chrg_bchno: str
    bill_fingerprint: str
    medfee_sumamt: int              # fen, as the centre summed the details
    classes: tuple[str, ...]        # the centre's class of each item (01/02/03), in bill order
    med_type: str = ""              # as its 2203 said: the centre settles the visit only as this type


def card_credential(card_no: str, card_sn: str) -> Credential:
    return Credential(MdtrtCertType.SSCARD.value, card_no, card_sn)


def voucher_credential(code: str) -> Credential:
    """The e-voucher code as a scanner read it (blanks and line end gone, upper case): 1101 and the visit carry it."""
    from drivers.voucher import normalise
    return Credential(MdtrtCertType.EVOUCHER.value, normalise(code))


def identify(client: CentreClient, cred: Credential, certno: str = "") -> InsuredPerson:
    """1101: who presented this credential (`certno`: the person it must be, when the window knows)."""
    data = {"mdtrt_cert_type": cred.mdtrt_cert_type, "mdtrt_cert_no": cred.mdtrt_cert_no, "card_sn": cred.card_sn}
    if certno:
        data["certno"] = certno
    out = client.call("1101", {"data": data})
    return InsuredPerson.from_answer(out)


def lookup(client: CentreClient, *, psn_no: str | None = None, card_no: str | None = None,
           certno: str | None = None, insuplc: str = "") -> InsuredPerson:
    """X105 (project-defined): a person by psn_no, card number or ID number (the binding window's user). A message
    naming a psn_no must carry the person's insured area (`insuplc`), or the centre refuses it."""
    who = {k: v for k, v in (("psn_no", psn_no), ("card_no", card_no), ("certno", certno)) if v}
    return InsuredPerson.from_answer(client.call("X105", {"data": who}, insuplc=insuplc))


def family(client: CentreClient, person: InsuredPerson, on_date: str | None = None) -> Family:
    """X101 (project-defined): the patient's own account and every relative's account that may pay."""
    data: dict[str, Any] = {"psn_no": person.psn_no}
    if on_date:
        data["ext_on_date"] = on_date
    out: Any = client.call("X101", {"data": data}, insuplc=person.insuplc_admdvs)
    return Family(person, fen(out.own.balc) if out.own.has_account else None, tuple(
        FamilyAccount(r.binding_id, r.owner_psn_no, r.owner_name, r.relation, r.relation_name, r.scope,
                      fen(r.available), r.begin_date, r.pays_by) for r in out.relatives), fen(out.own.wallet_balc))


def bill_fingerprint(bill: Bill) -> str:
    return hashlib.sha256(json.dumps(bill.to_json(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _feedetail(bill: Bill, person: InsuredPerson, mdtrt_id: str, batch: str, at: str) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(bill.items, 1):
        out.append({"feedetl_sn": f"{batch}-{i:03d}", "mdtrt_id": mdtrt_id, "psn_no": person.psn_no,
                    "chrg_bchno": batch, "fee_ocur_time": at, "med_list_codg": item.code,
                    "medins_list_codg": item.code, "medins_list_name": item.name,
                    "det_item_fee_sumamt": fen_to_yuan(item.amount), "cnt": item.qty,
                    "pric": Decimal(item.price) / 100, "ext_chrgitm_lv": ChrgitmLv.of_letter(item.cls).value})
    return out


def open_visit(client: CentreClient, person: InsuredPerson, cred: Credential, bill: Bill, *, window: str) -> Visit:
    """2201 register, 2203 the medical type, 2204 the fee details."""
    at = _now(client)
    ipt_otp_no = f"{window}{client.clock().strftime('%Y%m%d%H%M%S')}{secrets.token_hex(2).upper()}"
    out: Any = client.call("2201", {"data": {
        "psn_no": person.psn_no, "insutype": person.insutype, "begntime": at, "mdtrt_cert_type": cred.mdtrt_cert_type,
        "mdtrt_cert_no": cred.mdtrt_cert_no, "ipt_otp_no": ipt_otp_no}}, insuplc=person.insuplc_admdvs)
    mdtrt_id = out.data.mdtrt_id
    client.call("2203", {"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": person.psn_no, "med_type": bill.med_type,
                                       "begntime": at}}, insuplc=person.insuplc_admdvs)
    return upload_fees(client, person, mdtrt_id, bill)


def upload_fees(client: CentreClient, person: InsuredPerson, mdtrt_id: str, bill: Bill,
                previous: Visit | None = None) -> Visit:
    """2204 a new batch (after 2205 cancels the previous one, when the bill changed; a previous visit whose batch
    is already cancelled, chrg_bchno "", has none to cancel). The visit's type stays what its 2203 said (the
    previous visit's; for a new visit, the bill's)."""
    if previous is not None and previous.chrg_bchno:
        client.call("2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": previous.chrg_bchno,
                                      "psn_no": person.psn_no}}, insuplc=person.insuplc_admdvs)
    batch = f"B{secrets.token_hex(4).upper()}"
    out: Any = client.call("2204", {"feedetail": _feedetail(bill, person, mdtrt_id, batch, _now(client))},
                           insuplc=person.insuplc_admdvs)
    return Visit(mdtrt_id, batch, bill_fingerprint(bill), sum(fen(r.det_item_fee_sumamt) for r in out.result),
                 tuple(r.chrgitm_lv for r in out.result),
                 previous.med_type if previous is not None and previous.med_type else bill.med_type)


def cancel_fees(client: CentreClient, person: InsuredPerson, visit: Visit) -> None:
    """2205: the visit's uploaded batch is cancelled (the bill changed; a new batch follows)."""
    client.call("2205", {"data": {"mdtrt_id": visit.mdtrt_id, "chrg_bchno": visit.chrg_bchno, "psn_no": person.psn_no}},
                insuplc=person.insuplc_admdvs)


def cancel_visit(client: CentreClient, person: InsuredPerson, visit: Visit) -> None:
    """2202: a visit that will not be settled (a pre-settlement only, or a patient who left)."""
    client.call("2202", {"data": {"psn_no": person.psn_no, "mdtrt_id": visit.mdtrt_id}}, insuplc=person.insuplc_admdvs)


def withdraw_visit(client: CentreClient, person: InsuredPerson, visit: Visit) -> None:
    """A visit that will not be settled, withdrawn as an HIS does it: 2205 its uploaded batch (if any), then 2202.
    A refusal saying the batch or the visit is already gone (an earlier attempt whose answer was lost) or has a
    settlement (never touched here) means nothing of it is left open: done. Unreachable or unanswered: raised."""
    if visit.chrg_bchno:
        try:
            cancel_fees(client, person, visit)
        except CentreRefused as exc:
            if exc.code not in _GONE:
                raise
    try:
        cancel_visit(client, person, visit)
    except CentreRefused as exc:
        if exc.code not in _GONE:
            raise


_GONE = frozenset({"batch_unknown", "visit_unknown", "visit_cancelled", "visit_settled"})


def _settle_data(person: InsuredPerson, cred: Credential, visit: Visit, med_type: str, acct_used: bool,
                 owners: Sequence[str] | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "psn_no": person.psn_no, "mdtrt_cert_type": cred.mdtrt_cert_type, "mdtrt_cert_no": cred.mdtrt_cert_no,
        "med_type": med_type, "medfee_sumamt": fen_to_yuan(visit.medfee_sumamt), "psn_setlway": "01",
        "mdtrt_id": visit.mdtrt_id, "chrg_bchno": visit.chrg_bchno, "insutype": person.insutype,
        "acct_used_flag": "1" if acct_used else "0"}
    if owners is not None:
        data["ext_mulaid_owners"] = list(owners)
    return data


def presettle(client: CentreClient, person: InsuredPerson, cred: Credential, visit: Visit, med_type: str, *,
              acct_used: bool = True, owners: Sequence[str] | None = None) -> Settlement:
    """2206: the split as it would be now; nothing changes."""
    out = client.call("2206", {"data": _settle_data(person, cred, visit, med_type, acct_used, owners)},
                      insuplc=person.insuplc_admdvs)
    return Settlement.from_answer(out, acct_used_flag="1" if acct_used else "0")


def settle(client: CentreClient, person: InsuredPerson, cred: Credential, visit: Visit, med_type: str,
           pre: Settlement, *, acct_used: bool = True, owners: Sequence[str] | None = None,
           msgid: str | None = None, cash_allowed: bool = True) -> Settlement:
    """2207 with the amounts of the pre-settlement; an answer that never comes is resolved by 2601 at once.
    `cash_allowed=False` (a kiosk takes no cash): the centre refuses unless the accounts, as they are when it
    settles, cover the whole out-of-pocket part (they may have moved since the 2206)."""
    data = _settle_data(person, cred, visit, med_type, acct_used, owners)
    if not cash_allowed:
        data["ext_cash_allowed"] = False
    data.update({f: fen_to_yuan(pre.amounts[f]) for f in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt",
                                                         "inscp_scp_amt")})
    msgid = msgid or client.next_msgid()
    try:
        out = client.call("2207", {"data": data}, insuplc=person.insuplc_admdvs, msgid=msgid)
    except AnswerUncertain:
        raise resolve(client, msgid, "2207", person) from None
    return Settlement.from_answer(out, acct_used_flag="1" if acct_used else "0")


def resolve(client: CentreClient, msgid: str, infno: str, person: InsuredPerson) -> SettlementUncertain:
    """Ask the centre to undo `msgid` (2601) and say what happened, as an exception for the caller to show."""
    from terminal.store import window_log
    try:
        out: Any = client.call("2601", {"data": {"psn_no": person.psn_no, "omsgid": msgid, "oinfno": infno}},
                               insuplc=person.insuplc_admdvs)
    except (AnswerUncertain, CentreUnreachable):
        return SettlementUncertain(
            E.SETTLEMENT_UNKNOWN, "no answer to the settlement, and the centre cannot be asked now: do not settle "
            "again until the centre answers (the window will ask it first)",
            "结算结果未知,且暂时无法向医保中心确认:请勿重新结算,待恢复连接后系统将先行冲正确认",
            msgid=msgid, took_effect=None, resolved=False)
    took = bool(out.data.ext_took_effect)
    window_log.resolve(client.db(), msgid, f"2601: {'took effect, reversed' if took else 'never took effect'}")
    if took:
        return SettlementUncertain(E.SETTLEMENT_REVERSED, "the settlement's answer was lost; it had gone through and "
                                   "has been reversed: nobody was charged; settle again",
                                   "结算结果未知,已冲正,可重新结算", msgid=msgid, took_effect=True, resolved=True)
    return SettlementUncertain(E.SETTLEMENT_NOT_DONE, "the settlement's answer was lost; it never took effect: "
                               "nobody was charged; settle again", "结算未生效,可重新结算",
                               msgid=msgid, took_effect=False, resolved=True)


def resolve_pending(client: CentreClient, person_of: Any) -> list[SettlementUncertain]:
    """Every 2207 still in flight in the window's log (sent, never answered, e.g. the window crashed): 2601 each.

    `person_of(psn_no, insuplc)` gives the InsuredPerson (or a stand-in with psn_no and insuplc_admdvs)."""
    from terminal.store import window_log
    out = []
    for row in window_log.in_flight(client.db()):
        data = row["request"].get("input", {}).get("data", {})
        person = person_of(data.get("psn_no", ""), row["request"].get("insuplc_admdvs", ""))
        out.append(resolve(client, row["msgid"], row["infno"], person))
    return out


def reverse(client: CentreClient, person: InsuredPerson, setl_id: str, mdtrt_id: str) -> Settlement:
    """2208: same-day reversal; every account is credited back."""
    out = client.call("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": person.psn_no}},
                      insuplc=person.insuplc_admdvs)
    return Settlement.from_answer(out)


def query(client: CentreClient, person: InsuredPerson, setl_id: str, mdtrt_id: str) -> Settlement:
    """5203: a settlement as the centre has it."""
    out = client.call("5203", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": person.psn_no}},
                      insuplc=person.insuplc_admdvs)
    return Settlement.from_answer(out)


def reconcile(client: CentreClient, *, insutype: str, clr_type: str, begin: str, end: str, count: int,
              medfee_sumamt: int, fund_pay_sumamt: int, acct_pay: int) -> Any:
    """3201: do the centre's totals for the period agree with the window's? The `stmtinfo` answered."""
    out: Any = client.call("3201", {"data": {
        "insutype": insutype, "clr_type": clr_type, "setl_optins": "", "stmt_begndate": begin, "stmt_enddate": end,
        "medfee_sumamt": fen_to_yuan(medfee_sumamt), "fund_pay_sumamt": fen_to_yuan(fund_pay_sumamt),
        "acct_pay": fen_to_yuan(acct_pay), "fixmedins_setl_cnt": count}})
    return out.stmtinfo


def bind(client: CentreClient, owner: InsuredPerson, user: dict[str, str], relation: str, scope: str,
         quota: int) -> Any:
    """X102 (project-defined): the owner binds a relative (after the owner's PIN on the card)."""
    return client.call("X102", {"data": {"owner_psn_no": owner.psn_no, "user": user, "relation": relation,
                                         "scope": scope, "quota": fen_to_yuan(quota)}}, insuplc=owner.insuplc_admdvs)


def unbind(client: CentreClient, owner: InsuredPerson, user: dict[str, str]) -> Any:
    """X103 (project-defined): the owner ends a binding; any quota returns to the owner's balance."""
    return client.call("X103", {"data": {"owner_psn_no": owner.psn_no, "user": user}}, insuplc=owner.insuplc_admdvs)


def owner_bindings(client: CentreClient, owner: InsuredPerson) -> Any:
    """X104 (project-defined): the owner's active bindings."""
    out: Any = client.call("X104", {"data": {"owner_psn_no": owner.psn_no}}, insuplc=owner.insuplc_admdvs)
    return out.bindings


def _now(client: CentreClient) -> str:
    return client.clock().strftime("%Y-%m-%d %H:%M:%S")


def wallet_transfer(client: CentreClient, owner: InsuredPerson, user: dict[str, str], amount: int) -> Any:
    """X111 (project-defined): the owner (after their PIN on the card) moves `amount` fen from their personal
    account into a bound relative's insurance wallet (医保钱包); it waits there until the relative accepts."""
    return client.call("X111", {"data": {"owner_psn_no": owner.psn_no, "user": user, "amount": fen_to_yuan(amount)}},
                       insuplc=owner.insuplc_admdvs)


def wallet_transfer_check(client: CentreClient, owner: InsuredPerson, user: dict[str, str], amount: int) -> Any:
    """X113 with `ext_transfer_check` (project-defined, read-only): would this transfer go through now? Refused
    with X111's own refusal (the limits, the hours, the binding, the balance) when not; asked before the owner's
    PIN, so a transfer the rules refuse asks for no PIN. X111 checks everything again when it commits."""
    return client.call("X113", {"data": {"psn_no": owner.psn_no, "ext_transfer_check": {
        "user": user, "amount": fen_to_yuan(amount)}}}, insuplc=owner.insuplc_admdvs)


def wallet_accept(client: CentreClient, user: InsuredPerson, transfer_id: int) -> Any:
    """X112 (project-defined): the relative takes a pending transfer into their wallet; it is their money now."""
    return client.call("X112", {"data": {"user_psn_no": user.psn_no, "transfer_id": transfer_id}},
                       insuplc=user.insuplc_admdvs)


def wallet_of(client: CentreClient, person: InsuredPerson) -> Any:
    """X113 (project-defined): a person's wallet, the transfers they made and received, and today's limits."""
    return client.call("X113", {"data": {"psn_no": person.psn_no}}, insuplc=person.insuplc_admdvs)


def region_rules(client: CentreClient, admdvs: str) -> Any:
    """X121 (project-defined): the mutual-aid rules in force for an insured area, each with who says it."""
    return client.call("X121", {"data": {"admdvs": admdvs}})
