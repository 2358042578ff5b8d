"""How one fee item divides before the fund looks at it (2204): self-paid in full, over the price limit,
self-paid first, in scope. The class comes from the centre's catalogue (医保目录), never from the hospital.

- class C (03, 丙类): the whole amount is self-paid (`fulamt_ownpay_amt`);
- a unit price above the catalogue's limit (`pric_uplmt_amt`): the part above it is self-paid
  (`overlmt_amt` = round((pric − limit) × cnt));
- class B (02, 乙类): of what is left, `selfpay_prop` is self-paid first (`preselfpay_amt`, rounded per
  item); the catalogue's ratio for that item, else the policy's `b_selfpay_ratio`;
- the rest is in scope (`inscp_scp_amt`), where the deductible and the fund's ratio apply.
All figures integer fen; every product rounded half-up to the fen with Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from centre.interface.amounts import round_fen
from centre.interface.codes import ChrgitmLv


@dataclass(frozen=True)
class CatalogueEntry:
    med_list_codg: str
    name: str
    chrgitm_lv: ChrgitmLv
    med_chrgitm_type: str
    selfpay_prop: Decimal | None = None      # class B's self-paid-first ratio for this item
    pric_uplmt: Decimal | None = None        # price limit per unit, yuan
    lmt_used_flag: str = "0"


@dataclass(frozen=True)
class ChargedItem:
    """One uploaded fee item as the centre divided it (the 2204 result), amounts in fen."""

    amount: int                  # det_item_fee_sumamt
    chrgitm_lv: ChrgitmLv
    selfpay_prop: Decimal        # applied to class B (0 for A; 1 for C, shown as the platform does)
    fulamt_ownpay_amt: int
    overlmt_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int


def item_amount(cnt: Decimal, pric: Decimal) -> int:
    """det_item_fee_sumamt in fen: cnt × pric (yuan) rounded half-up to the fen."""
    return round_fen(cnt * pric * 100)


def charge(cnt: Decimal, pric: Decimal, lv: ChrgitmLv, b_selfpay_ratio: Decimal,
           entry: CatalogueEntry | None = None) -> ChargedItem:
    """Divide one item (see the module docstring)."""
    amount = item_amount(cnt, pric)
    if lv is ChrgitmLv.C:
        return ChargedItem(amount, lv, Decimal(1), amount, 0, 0, 0)
    over = 0
    if entry is not None and entry.pric_uplmt is not None and pric > entry.pric_uplmt:
        over = min(amount, round_fen((pric - entry.pric_uplmt) * cnt * 100))
    ratio = Decimal(0)
    if lv is ChrgitmLv.B:
        ratio = entry.selfpay_prop if entry is not None and entry.selfpay_prop is not None else b_selfpay_ratio
    pre = round_fen((amount - over) * ratio)
    return ChargedItem(amount, lv, ratio, 0, over, pre, amount - over - pre)
