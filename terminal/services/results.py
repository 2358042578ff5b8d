"""What the window's ledger answers with (the centre's client): the patient as identified, a settlement made,
an unbinding (a pre-settlement, 2206's answer, is the screens' `Split`); and the checks the window makes before
it asks the centre to move money (insurance active, no cash at a kiosk, one request per request id).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Sequence

from centre.interface.amounts import yuan_text
from drivers.certno import mask
from terminal.domain.bill import Bill
from terminal.error_codes import E
from terminal.services.views import MulaidPart, Split, mulaid_json
from terminal.store.people import Binding

__all__ = ["Patient", "Relatives", "SettlementResult", "Unbound",
           "request_fingerprint", "require_active", "require_no_cash"]

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
    platform: dict[str, Any] | None = None   # the centre's 2207/2208 answer (setlinfo, setldetail)
    kind: str = "insurance"       # "cash_only": settled in cash here (self-pay, or the centre could not be reached)
    mdtrt_cert_type: str | None = None   # what the patient presented (01 e-voucher, 02 ID card, 03 card)

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


@dataclass(frozen=True)
class Unbound:
    binding: Binding        # as it is now (status ended)
    returned: int           # quota fen returned to the owner's balance
    owner_balc: int | None  # the owner's balance afterwards


def require_active(patient: Patient) -> None:
    """Insurance pays only for an active insured person; the way on is the whole bill in cash (self-pay)."""
    if patient.psn_insu_stas != "1":
        state = {"2": "suspended", "4": "ended"}.get(patient.psn_insu_stas, f"status {patient.psn_insu_stas}")
        state_zh = {"2": "暂停", "4": "终止"}.get(patient.psn_insu_stas, patient.psn_insu_stas)
        raise E.INSURANCE_INACTIVE.error(
                          f"{patient.psn_name}'s insurance is {state}: cannot settle with insurance; "
                          f"the bill can be paid in full in cash (self-pay)",
                          f"{patient.psn_name} 的参保状态为{state_zh},不能医保结算;可全自费现金结算")


def require_no_cash(pre: Split) -> None:
    """Where no cash can be taken (a kiosk), the accounts must cover the whole out-of-pocket part."""
    if pre.psn_cash_pay > 0:
        raise E.ACCOUNTS_SHORT.error(
                          f"the accounts do not cover the out-of-pocket part: {yuan_text(pre.psn_cash_pay)} would be "
                          "left to pay in cash; nothing was charged",
                          f"账户余额不足以支付个人负担部分，还差 {yuan_text(pre.psn_cash_pay)} 需付现金；未扣费",
                          cash_fen=pre.psn_cash_pay)


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
