"""The settlement formula as one pure function: charged items + policy rule + year to date + accounts.

Steps, all amounts integer fen, every ratio applied with Decimal and rounded half-up to the fen:
1. `medfee_sumamt` = Σ item amounts (each already cnt × pric rounded, see `charges`).
2. `fulamt_ownpay_amt` (class C), `overlmt_selfpay` (above price limits) and `preselfpay_amt` (class B's
   self-paid-first part) are the items' sums; `inscp_scp_amt` = the total minus those three.
3. The policy rule that matches gives the deductible: the part of the in-scope amount it takes is
   min(in scope, deductible − already used this year) for a yearly deductible, min(in scope, deductible)
   for one per visit.
4. `fund_pay_sumamt` = min(round((in scope − deductible part) × ratio), annual cap − fund already paid).
5. `psn_part_amt` = total − fund.
6. With the account allowed: the patient's own balance first, then the patient's insurance wallet (医保钱包),
   then each relative's binding in order (the owner's balance, or the quota of a cross-province binding),
   then cash. Where the insured place says accounts may not pay class C items, the accounts pay at most the
   person's part less `fulamt_ownpay_amt`, and the class C part is cash.
7. The year accumulators move by the deductible part and the fund's payment.
Invariants (kept even under `python -O`): total = fund + accounts + cash; person's part = accounts + cash.

Wallet money counts in `acct_pay` and not in `acct_mulaid_pay`. On the national interface `acct_pay` (个人账户
支出) is what personal-account money paid of the settlement, and the hospital collects the rest of the
person's part, `psn_cash_pay`, in cash: wallet money came out of a personal account (the owner's) and is still
personal-account money that can only pay medical costs, so leaving it out of `acct_pay` would make a hospital
that knows nothing of wallets collect it a second time in cash. It is not `acct_mulaid_pay` (共济支付: drawn on a
relative's account at this settlement): the mutual aid happened when the owner transferred it; at settlement
it is the patient's own money and no relative's account moves. Its part is shown beside the national fields
as `ext_wallet_pay`, and `ext_own_acct_pay` stays the part from the patient's own personal account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from centre.interface.amounts import round_fen
from centre.interface.codes import DeductibleScope
from centre.rules.charges import ChargedItem
from centre.rules.policy import PolicyRule


@dataclass(frozen=True)
class YearToDate:
    """The person's accumulators for the calendar year of the settlement."""

    deductible_used: int = 0
    fund_paid: int = 0


@dataclass(frozen=True)
class RelativeSource:
    """A binding that may pay, in the order it is drawn on."""

    owner_psn_no: str
    owner_name: str
    binding_id: int
    scope: str          # "local" (owner's balance) | "cross_province" (the binding's quota)
    available: int
    prior_only: bool = False   # the owner's area shares only the prior-year balance (available says how much)


@dataclass(frozen=True)
class MulaidPart:
    owner_psn_no: str
    owner_name: str
    binding_id: int
    scope: str
    amount: int
    prior_only: bool = False


@dataclass(frozen=True)
class PreSettlement:
    medfee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_selfpay: int
    preselfpay_amt: int
    inscp_scp_amt: int
    act_pay_dedc: int
    fund_pay_sumamt: int
    psn_part_amt: int
    own_acct_pay: int                 # from the patient's own personal account
    wallet_pay: int                   # from the patient's insurance wallet (in acct_pay, not in acct_mulaid_pay)
    acct_mulaid_pay: int
    acct_pay: int
    psn_cash_pay: int
    balc: int | None                  # own balance after; None without an account
    mulaid: tuple[MulaidPart, ...]
    rule: PolicyRule
    acct_used_flag: bool
    ytd_after: YearToDate = field(default_factory=YearToDate)
    wallet_balc: int = 0              # the wallet after
    class_c_from_account: bool = True  # whether accounts could pay the class C part


def _check(condition: bool, what: str) -> None:
    """An invariant of the formula; kept even under `python -O` because money depends on it."""
    if not condition:
        raise AssertionError(f"settlement invariant broken: {what}")


def presettle(items: Sequence[ChargedItem], rule: PolicyRule, *, ytd: YearToDate = YearToDate(),
              own_balc: int | None = None, relatives: Sequence[RelativeSource] = (),
              acct_used_flag: bool = True, wallet_balc: int = 0,
              class_c_from_account: bool = True) -> PreSettlement:
    """Steps 1–7 (module docstring) for one visit's items."""
    medfee = sum(i.amount for i in items)
    fulamt = sum(i.fulamt_ownpay_amt for i in items)
    overlmt = sum(i.overlmt_amt for i in items)
    preself = sum(i.preselfpay_amt for i in items)
    inscp = medfee - fulamt - overlmt - preself
    if rule.deductible_scope == DeductibleScope.YEAR:
        dedc = min(inscp, max(0, rule.deductible - ytd.deductible_used))
    else:
        dedc = min(inscp, rule.deductible)
    fund = min(round_fen((inscp - dedc) * rule.ratio), max(0, rule.annual_cap - ytd.fund_paid))
    psn_part = medfee - fund
    own = wallet = 0
    mulaid: list[MulaidPart] = []
    left = psn_part if class_c_from_account else max(0, psn_part - fulamt)   # what accounts may pay
    if acct_used_flag:
        if own_balc is not None:
            own = min(max(own_balc, 0), left)
            left -= own
        wallet = min(max(wallet_balc, 0), left)
        left -= wallet
        for rel in relatives:
            if left == 0:
                break
            take = min(max(rel.available, 0), left)
            if take > 0:
                mulaid.append(MulaidPart(rel.owner_psn_no, rel.owner_name, rel.binding_id, rel.scope, take,
                                         rel.prior_only))
                left -= take
    mulaid_pay = sum(m.amount for m in mulaid)
    acct_pay = own + wallet + mulaid_pay
    cash = psn_part - acct_pay

    _check(all(i.amount >= 0 for i in items), "item amounts >= 0")
    _check(0 <= fulamt + overlmt + preself <= medfee, "self-paid parts within the total")
    _check(0 <= dedc <= inscp, "deductible part within the in-scope amount")
    _check(0 <= fund <= inscp - dedc, "fund pays at most the in-scope amount above the deductible")
    _check(medfee == fund + acct_pay + cash, "medfee_sumamt = fund_pay_sumamt + acct_pay + psn_cash_pay")
    _check(psn_part == acct_pay + cash, "psn_part_amt = acct_pay + psn_cash_pay")
    _check(min(own, wallet, mulaid_pay, cash) >= 0, "no negative payment")
    _check(own_balc is None or own <= own_balc, "own account not overdrawn")
    _check(wallet <= max(wallet_balc, 0), "wallet not overdrawn")
    _check(class_c_from_account or cash >= fulamt, "class C paid in cash where accounts may not pay it")
    for rel in relatives:
        drawn = sum(m.amount for m in mulaid if m.binding_id == rel.binding_id)
        _check(drawn <= max(rel.available, 0), f"binding {rel.binding_id} not overdrawn")
    return PreSettlement(
        medfee_sumamt=medfee, fulamt_ownpay_amt=fulamt, overlmt_selfpay=overlmt, preselfpay_amt=preself,
        inscp_scp_amt=inscp, act_pay_dedc=dedc, fund_pay_sumamt=fund, psn_part_amt=psn_part, own_acct_pay=own,
        wallet_pay=wallet, acct_mulaid_pay=mulaid_pay, acct_pay=acct_pay, psn_cash_pay=cash,
        balc=None if own_balc is None else own_balc - own, mulaid=tuple(mulaid), rule=rule,
        acct_used_flag=acct_used_flag, ytd_after=YearToDate(ytd.deductible_used + dedc, ytd.fund_paid + fund),
        wallet_balc=max(wallet_balc, 0) - wallet, class_c_from_account=class_c_from_account)
