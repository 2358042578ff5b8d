"""The config's `[policy]` as the window reads it, parsed once per loaded config: the bill's absurd-amount
limits (max_item_price, max_bill_total), checked by the centre's own rules (`centre.api`). The money rules and
the mutual-aid rules themselves are the centre's."""

from __future__ import annotations

from terminal.config import Config, parsed_once
from terminal.domain.bill import BillLimits

__all__ = ["bill_limits_of"]


def bill_limits_of(cfg: Config) -> BillLimits:
    """[policy] max_item_price and max_bill_total (fen), parsed once per loaded config."""
    def parse(c: Config) -> BillLimits:
        from centre.api import bill_limits
        item, total = bill_limits(c.raw)
        return BillLimits(max_item_price=item, max_bill_total=total)
    return parsed_once(cfg, "bill_limits", parse)
