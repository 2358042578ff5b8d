"""What the screens read from the ledger (the centre's client): the patient's family and accounts
(`FamilyView`), and who pays what for a bill (`Split`, with the per-owner mutual-aid part as `MulaidPart`). Frozen: a screen shows them, never edits them.
No Textual here: the command line and the kiosk read the same values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

from drivers.certno import mask
from terminal.store.people import Person

__all__ = ["FamilyView", "MulaidPart", "Relative", "Split", "mulaid_json", "mulaid_parts"]


@dataclass(frozen=True)
class MulaidPart:
    """What one relative's account paid (or would pay) for the patient, fen."""

    owner_psn_no: str
    binding_id: int
    scope: str
    amount: int


@dataclass(frozen=True)
class Relative:
    """A binding that may pay for the patient today."""

    owner_psn_no: str
    owner_name: str
    relation: str
    relation_name: str
    scope: str
    available: int      # fen this binding can pay now
    binding_id: int
    pays_by: str = "balance"   # as the centre says: balance | prior_year | quota | wallet (the owner's account
                               # pays nothing directly: cross-province aid goes by a wallet transfer)

    @property
    def by_wallet(self) -> bool:
        """A cross-province binding under the wallet model: the owner's account pays nothing at a settlement."""
        return self.pays_by == "wallet"


@dataclass(frozen=True)
class FamilyView:
    """The patient and every account that may pay for them."""

    person: Person
    own: int | None                      # own personal-account balance, None without an account
    relatives: list[Relative] = field(default_factory=list)
    cached: bool = False                 # from the window's cache: the centre could not be asked
    wallet: int | None = None            # the insurance wallet (医保钱包, fen) as the centre answered; None: not
                                         # known (an old cache)

    @property
    def total_available(self) -> int:
        return (self.own or 0) + (self.wallet or 0) + sum(r.available for r in self.relatives)

    def to_json(self) -> dict:
        p = self.person
        return {
            "person": {"psn_no": p.psn_no, "psn_name": p.psn_name, "certno": mask(p.certno), "gend": p.gend,
                       "brdy": p.brdy, "card_no": p.card_no, "insuplc_admdvs": p.insuplc_admdvs,
                       "insutype": p.insutype, "psn_insu_stas": p.psn_insu_stas},
            "own": None if self.own is None else {"balc": self.own},
            "wallet": None if self.wallet is None else {"balc": self.wallet},
            "relatives": [{k: v for k, v in asdict(r).items() if k != "pays_by"} for r in self.relatives],
        }


@dataclass(frozen=True)
class Split:
    """Who pays what for one bill (the national field names, fen): a pre-settlement (2206, nothing written) or
    a settlement made (2207, or its reversal with every amount negated)."""

    medfee_sumamt: int
    fulamt_ownpay_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int
    act_pay_dedc: int
    fund_pay_sumamt: int
    psn_part_amt: int
    acct_pay: int
    own_acct_pay: int
    acct_mulaid_pay: int
    psn_cash_pay: int
    balc: int | None                     # own balance after, None without an account
    acct_used: bool                      # a personal account was asked to pay (acct_used_flag)
    mulaid: tuple[MulaidPart, ...] = ()  # each relative's account, in the order drawn on
    wallet_pay: int = 0                  # through the centre: the part of acct_pay from the patient's wallet
    item_amounts: tuple[int, ...] = ()   # a pre-settlement: each bill line's amount as the rules priced it

    @classmethod
    def of_amounts(cls, amounts: Mapping[str, int], *, own_acct_pay: int, balc: int | None, acct_used: bool,
                   mulaid: tuple[MulaidPart, ...], wallet_pay: int = 0, item_amounts: tuple[int, ...] = ()
                   ) -> "Split":
        """The national amount fields (a settlement's record, a pre-settlement's `fields()`) and the rest."""
        return cls(medfee_sumamt=amounts["medfee_sumamt"], fulamt_ownpay_amt=amounts["fulamt_ownpay_amt"],
                   preselfpay_amt=amounts["preselfpay_amt"], inscp_scp_amt=amounts["inscp_scp_amt"],
                   act_pay_dedc=amounts["act_pay_dedc"], fund_pay_sumamt=amounts["fund_pay_sumamt"],
                   psn_part_amt=amounts["psn_part_amt"], acct_pay=amounts["acct_pay"], own_acct_pay=own_acct_pay,
                   acct_mulaid_pay=amounts["acct_mulaid_pay"], psn_cash_pay=amounts["psn_cash_pay"], balc=balc,
                   acct_used=acct_used, mulaid=mulaid, wallet_pay=wallet_pay, item_amounts=item_amounts)

    AMOUNT_FIELDS = ("medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc",
                     "fund_pay_sumamt", "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")

    def fields(self) -> dict[str, Any]:
        """The national-name fields as a JSON-ready dict (amounts in fen): what `settle --pre --json` prints
        beside their yuan."""
        out: dict[str, Any] = {k: getattr(self, k) for k in self.AMOUNT_FIELDS}
        out["own_acct_pay"] = self.own_acct_pay
        out["balc"] = self.balc
        out["acct_used_flag"] = "1" if self.acct_used else "0"
        out["mulaid"] = [{"owner_psn_no": m.owner_psn_no, "binding_id": m.binding_id, "scope": m.scope,
                          "amount": m.amount} for m in self.mulaid]
        return out

    def paid_by(self, owner_psn_no: str) -> int:
        """What this relative's account pays (0 when it pays nothing)."""
        return sum(m.amount for m in self.mulaid if m.owner_psn_no == owner_psn_no)


def mulaid_parts(records: Iterable[Mapping[str, Any]]) -> tuple[MulaidPart, ...]:
    """The per-owner parts as a settlement's record keeps them (JSON objects) as values."""
    return tuple(MulaidPart(str(m["owner_psn_no"]), int(m.get("binding_id") or 0), str(m.get("scope") or ""),
                            int(m["amount"])) for m in records)


def mulaid_json(parts: Iterable[MulaidPart]) -> list[dict[str, Any]]:
    """The per-owner parts as a settlement's record and its JSON keep them."""
    return [asdict(m) for m in parts]
