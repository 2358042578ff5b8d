"""What the window keeps of the centre's answers, in fen: typed values the services hand to the screens,
the command line and the kiosk (one model for a settlement, one for each owner's mutual-aid share)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from centre.interface.amounts import fen_to_yuan, yuan_to_fen
from drivers.certno import mask

AMOUNT_FIELDS = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
                 "act_pay_dedc", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")


def fen(value: Any) -> int:
    """A yuan amount from an answer (Decimal or int) in fen."""
    return yuan_to_fen(value if isinstance(value, Decimal) else Decimal(value))


@dataclass(frozen=True)
class InsuredPerson:
    """The person 1101 (or X105) answered for."""

    psn_no: str
    psn_name: str
    certno: str
    gend: str
    naty: str
    brdy: str | None
    insutype: str
    psn_insu_stas: str
    insuplc_admdvs: str
    balc: int                       # fen; 0 without an account (the platform's way)
    card_no: str | None = None

    @property
    def certno_masked(self) -> str:
        return mask(self.certno)

    @classmethod
    def from_answer(cls, out: Any) -> "InsuredPerson":
        base, insu = out.baseinfo, out.insuinfo[0]
        return cls(psn_no=base.psn_no, psn_name=base.psn_name, certno=base.certno, gend=base.gend, naty=base.naty,
                   brdy=base.brdy, insutype=insu.insutype, psn_insu_stas=insu.psn_insu_stas,
                   insuplc_admdvs=insu.insuplc_admdvs, balc=fen(insu.balc), card_no=out.ext_card_no)


@dataclass(frozen=True)
class FamilyAccount:
    """A relative's account that may pay for the patient (X101), in the order it was registered."""

    binding_id: int
    owner_psn_no: str
    owner_name: str
    relation: str
    relation_name: str
    scope: str
    available: int                  # fen
    begin_date: str
    pays_by: str = "balance"        # balance | prior_year | quota | wallet (across provinces: by wallet transfer)


@dataclass(frozen=True)
class Family:
    person: InsuredPerson
    own: int | None                 # own balance in fen, None without an account
    relatives: tuple[FamilyAccount, ...] = ()
    wallet: int | None = None       # the insurance wallet (医保钱包) in fen, as X101 answered

    @property
    def total_available(self) -> int:
        return (self.own or 0) + sum(r.available for r in self.relatives)


@dataclass(frozen=True)
class MulaidShare:
    """What one owner's account paid (or gave back, negative) in a settlement."""

    owner_psn_no: str
    owner_name: str
    binding_id: int
    scope: str
    amount: int                     # fen


@dataclass(frozen=True)
class Settlement:
    """A settlement, pre-settlement or reversal as the centre answered (amounts in fen), plus the window's
    own facts about it (the request id, whether it was a replay, where its slip went)."""

    setl_id: str | None
    mdtrt_id: str
    msgid: str                      # medins_setl_id: the 2207's msgid
    psn_no: str
    psn_name: str
    certno: str
    insutype: str
    med_type: str
    mdtrt_cert_type: str
    setl_time: str | None
    status: str                     # presettle | settled | reversed | reversal | cash_only
    amounts: dict[str, int]
    own_acct_pay: int
    balc: int | None                # own balance after; None without an account
    mulaid: tuple[MulaidShare, ...]
    reversal_of: str | None = None
    acct_used_flag: str = "1"
    kind: str = "insurance"         # insurance | cash_only (settled here while the centre was down)
    request_id: str | None = None
    replayed: bool = False
    slip_path: str | None = None
    warnings: tuple[str, ...] = ()
    platform: dict[str, Any] = field(default_factory=dict, compare=False)   # setlinfo/setldetail as answered

    def __getitem__(self, name: str) -> int:
        return self.amounts[name]

    @property
    def certno_masked(self) -> str:
        return mask(self.certno)

    @property
    def setl_date(self) -> str:
        return (self.setl_time or "")[:10]

    @classmethod
    def from_answer(cls, out: Any, *, acct_used_flag: str = "1") -> "Settlement":
        s = out.setlinfo
        return cls(
            setl_id=s.setl_id, mdtrt_id=s.mdtrt_id, msgid=s.medins_setl_id, psn_no=s.psn_no, psn_name=s.psn_name,
            certno=s.certno, insutype=s.insutype, med_type=s.med_type, mdtrt_cert_type=s.mdtrt_cert_type,
            setl_time=s.setl_time, status=s.ext_status, amounts={f: fen(getattr(s, f)) for f in AMOUNT_FIELDS},
            own_acct_pay=fen(s.ext_own_acct_pay), balc=fen(s.balc) if s.ext_has_account else None,
            mulaid=tuple(MulaidShare(m.owner_psn_no, m.owner_name, m.binding_id, m.scope, fen(m.amount))
                         for m in s.ext_mulaid),
            reversal_of=s.ext_reversal_of, acct_used_flag=acct_used_flag,
            platform=out.model_dump(mode="python"))

    def platform_json(self) -> dict[str, Any]:
        """`setlinfo` (national fields, yuan as JSON numbers) and `setldetail`, as the centre answered."""
        return self.platform

    def fen_json(self) -> dict[str, Any]:
        """Every amount in fen, under names that say so (`medfee_sumamt_fen` ...)."""
        out: dict[str, Any] = {f"{k}_fen": v for k, v in self.amounts.items()}
        out["own_acct_pay_fen"] = self.own_acct_pay
        out["balc_fen"] = self.balc
        return out

    def mulaid_json(self) -> list[dict[str, Any]]:
        return [{"owner_psn_no": m.owner_psn_no, "owner_name": m.owner_name, "binding_id": m.binding_id,
                 "scope": m.scope, "amount": fen_to_yuan(m.amount), "amount_fen": m.amount} for m in self.mulaid]
