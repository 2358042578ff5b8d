"""The settlement formula as one pure function: bill + policy + year-to-date + balances -> every amount.

No database, no card: the services feed it what they read and write what it returns.

API:
- `presettle(bill, policy, *, insutype, hosp_lv, ytd=YearToDate(), own_balc=None,
  relatives=(), acct_used_flag=True) -> PreSettlement`
- `RelativeSource(owner_psn_no, binding_id, scope, available)`: a binding that may pay, in the
  order it should be drawn on (`available` = the owner's balance, or the quota cross-province).
- `PreSettlement`: medfee_sumamt, fulamt_ownpay_amt, preselfpay_amt, inscp_scp_amt, act_pay_dedc
  (the deductible part), fund_pay_sumamt, psn_part_amt, own_acct_pay, acct_mulaid_pay, acct_pay,
  psn_cash_pay, balc (own balance after, None without an account), mulaid [MulaidPart], the rule
  applied and the year accumulators after; `.fields()` gives the national-name dict.
All amounts integer fen; every ratio applied with Decimal and rounded half-up to the fen.

Note (the formula as docs/data-and-rules.md gives it): there is ONE year accumulator per person and calendar year —
deductible used and fund paid — shared by every med_type (11, 14 and 21 alike): an outpatient visit
uses up the same deductible and annual cap an inpatient stay draws on. Real policies often keep
outpatient and inpatient pools apart (separate 起付线 and 封顶线); doing so would need the accumulator
keyed by pool as well, a spec change, not a fix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from centre.interface.codes import ChrgitmLv, DeductibleScope
from terminal.domain.bill import Bill
from terminal.domain.money import round_fen
from terminal.domain.policy import Policy, PolicyRule


@dataclass(frozen=True)
class YearToDate:
    """The person's accumulators for the calendar year of the settlement."""

    deductible_used: int = 0
    fund_paid: int = 0


@dataclass(frozen=True)
class RelativeSource:
    owner_psn_no: str
    binding_id: int
    scope: str          # "local" (owner's balance) | "cross_province" (the binding's quota)
    available: int


@dataclass(frozen=True)
class MulaidPart:
    owner_psn_no: str
    binding_id: int
    scope: str
    amount: int


@dataclass(frozen=True)
class PreSettlement:
    medfee_sumamt: int
    fulamt_ownpay_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int
    act_pay_dedc: int
    fund_pay_sumamt: int
    psn_part_amt: int
    own_acct_pay: int
    acct_mulaid_pay: int
    acct_pay: int
    psn_cash_pay: int
    balc: int | None
    mulaid: tuple[MulaidPart, ...]
    rule: PolicyRule
    acct_used_flag: bool
    item_amounts: tuple[int, ...]
    ytd_after: YearToDate = field(default_factory=YearToDate)
    wallet_pay: int = 0             # through the centre: the part of acct_pay from the patient's insurance wallet

    AMOUNT_FIELDS = ("medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc",
                     "fund_pay_sumamt", "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")

    def fields(self) -> dict[str, Any]:
        """The national-name fields as a JSON-ready dict (amounts in fen)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in self.AMOUNT_FIELDS}
        out["own_acct_pay"] = self.own_acct_pay
        out["balc"] = self.balc
        out["acct_used_flag"] = "1" if self.acct_used_flag else "0"
        out["mulaid"] = [{"owner_psn_no": m.owner_psn_no, "binding_id": m.binding_id, "scope": m.scope,
                          "amount": m.amount} for m in self.mulaid]
        out["policy"] = {"deductible": self.rule.deductible, "deductible_scope": self.rule.deductible_scope,
                         "ratio": str(self.rule.ratio), "annual_cap": self.rule.annual_cap}
        out["ytd_after"] = asdict(self.ytd_after)
        return out


def _check(condition: bool, what: str) -> None:
    """An invariant of the settlement formula; kept even under `python -O` because money depends on it."""
    if not condition:
        raise AssertionError(f"settlement invariant broken: {what}")


def presettle(bill: Bill, policy: Policy, *, insutype: str, hosp_lv: str, ytd: YearToDate = YearToDate(),
              own_balc: int | None = None, relatives: Sequence[RelativeSource] = (),
              acct_used_flag: bool = True) -> PreSettlement:
    """Steps 1–7 of the settlement formula (docs/data-and-rules.md), in that order, for one bill."""
    # 1. item amounts and the total
    amounts = tuple(item.amount for item in bill.items)
    medfee = sum(amounts)
    # 2. class C fully self-paid; class B self-paid first by the ratio (each item rounded); the rest in scope
    fulamt_ownpay = sum(a for item, a in zip(bill.items, amounts) if item.cls == ChrgitmLv.C.letter)
    preselfpay = sum(round_fen(a * policy.b_selfpay_ratio) for item, a in zip(bill.items, amounts) if item.cls == ChrgitmLv.B.letter)
    inscp = medfee - fulamt_ownpay - preselfpay
    # 3. the rule and the deductible part
    rule = policy.rule_for(insutype, bill.med_type, hosp_lv)
    if rule.deductible_scope == DeductibleScope.YEAR:
        dedc = min(inscp, max(0, rule.deductible - ytd.deductible_used))
    else:
        dedc = min(inscp, rule.deductible)
    # 4. the fund's share, capped by what is left of the annual cap
    fund = min(round_fen((inscp - dedc) * rule.ratio), max(0, rule.annual_cap - ytd.fund_paid))
    # 5. the individual-borne part
    psn_part = medfee - fund
    # 6. own account, then relatives in order, then cash
    own = 0
    mulaid: list[MulaidPart] = []
    left = psn_part
    if acct_used_flag:
        if own_balc is not None:
            own = min(max(own_balc, 0), left)
            left -= own
        for rel in relatives:
            if left == 0:
                break
            take = min(max(rel.available, 0), left)
            if take > 0:
                mulaid.append(MulaidPart(rel.owner_psn_no, rel.binding_id, rel.scope, take))
                left -= take
    mulaid_pay = sum(m.amount for m in mulaid)
    acct_pay = own + mulaid_pay
    cash = psn_part - acct_pay
    # 7. the year accumulators after this settlement
    ytd_after = YearToDate(ytd.deductible_used + dedc, ytd.fund_paid + fund)

    _check(all(a >= 0 for a in amounts), "item amounts >= 0")
    _check(0 <= fulamt_ownpay + preselfpay <= medfee, "self-paid parts within the total")
    _check(0 <= dedc <= inscp, "deductible part within the in-scope amount")
    _check(0 <= fund <= inscp - dedc, "fund pays at most the in-scope amount above the deductible")
    _check(medfee == fund + acct_pay + cash, "medfee_sumamt = fund_pay_sumamt + acct_pay + psn_cash_pay")
    _check(psn_part == acct_pay + cash, "psn_part_amt = acct_pay + psn_cash_pay")
    _check(min(own, mulaid_pay, cash) >= 0, "no negative payment")
    _check(own_balc is None or own <= own_balc, "own account not overdrawn")
    for rel in relatives:
        drawn = sum(m.amount for m in mulaid if m.binding_id == rel.binding_id)
        _check(drawn <= max(rel.available, 0), f"binding {rel.binding_id} not overdrawn")
    return PreSettlement(
        medfee_sumamt=medfee, fulamt_ownpay_amt=fulamt_ownpay, preselfpay_amt=preselfpay, inscp_scp_amt=inscp,
        act_pay_dedc=dedc, fund_pay_sumamt=fund, psn_part_amt=psn_part, own_acct_pay=own,
        acct_mulaid_pay=mulaid_pay, acct_pay=acct_pay, psn_cash_pay=cash,
        balc=None if own_balc is None else own_balc - own, mulaid=tuple(mulaid), rule=rule,
        acct_used_flag=acct_used_flag, item_amounts=amounts, ytd_after=ytd_after)
