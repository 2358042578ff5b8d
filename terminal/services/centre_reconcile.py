"""Day end on the centre (3201 per insurance type): the window's totals from its own record beside the centre's
answer, and what differs, as the command line and the day-end screen show it (amounts in fen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from centre.interface.codes import RECONCILE_ASKED, RECONCILE_FIELDS

ASKED = RECONCILE_ASKED   # the name the centre ledger reads


@dataclass(frozen=True)
class CentreReconcileRow:
    """One insurance type's 3201: the window's totals, the centre's, and what differs."""

    insutype: str
    clr_type: str
    count: int
    sums: dict[str, int]                 # fen: medfee_sumamt, fund_pay_sumamt, acct_pay
    centre_count: int | None
    centre_sums: dict[str, int] | None
    agrees: bool
    dscr: str


@dataclass
class CentreReconcileReport:
    date: str
    window: str | None
    rows: list[CentreReconcileRow]
    cash_only: int                       # cash-only settlements kept here, never through the centre (not in
    cash_only_count: int                 # 3201): net cash in fen and net count, reversals taken off
    settled: int = 0                     # the window's settlements of the day (through the centre)
    reversals: int = 0
    cash_only_sales: int = 0             # cash-only sales of the day, reversed or not
    cash_only_reversals: int = 0         # their reversals

    @property
    def sums(self) -> dict[str, int]:
        """The window's totals (fen), every insurance type together (the day-end screen's first column)."""
        return {f: sum(r.sums.get(f, 0) for r in self.rows) for f in RECONCILE_FIELDS}

    @property
    def ledger(self) -> dict[str, int]:
        """The centre's totals as 3201 answered (fen): the day-end screen's second column."""
        return {f: sum((r.centre_sums or {}).get(f, 0) for r in self.rows) for f in RECONCILE_FIELDS}

    @property
    def ok(self) -> bool:
        return all(r.agrees for r in self.rows)

    # the day-end screen's totals (the window's own, fen)
    @property
    def count(self) -> int:
        return sum(r.count for r in self.rows)

    def problems(self) -> list[str]:
        return [f"insutype {r.insutype}: {r.dscr}" for r in self.rows if not r.agrees]

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date, "window": self.window, "ok": self.ok, "centre": True,
                "insutypes": [{"insutype": r.insutype, "clr_type": r.clr_type, "count": r.count,
                               **{f"{k}_fen": v for k, v in r.sums.items()},
                               "centre_count": r.centre_count,
                               "centre": None if r.centre_sums is None else
                               {f"{k}_fen": v for k, v in r.centre_sums.items()},
                               "stmt_rslt": "0" if r.agrees else "1", "stmt_rslt_dscr": r.dscr} for r in self.rows],
                "cash_only_count": self.cash_only_count, "cash_only_fen": self.cash_only,
                "cash_only_sales": self.cash_only_sales, "cash_only_reversals": self.cash_only_reversals}

    def text(self) -> str:
        from centre.interface.amounts import yuan_plain
        lines = [f"对账 reconciliation (3201) {self.date} window {self.window or 'all'}: "
                 f"{'OK' if self.ok else 'MISMATCH'}"]
        for r in self.rows:
            lines.append(f"  insutype {r.insutype} clr_type {r.clr_type}: {'agrees 一致' if r.agrees else 'DIFFERS 不一致'}")
            lines.append(f"    {'':<16} {'window 本窗口':>16} {'centre 医保中心':>16}")
            lines.append(f"    {'count':<16} {r.count:>16} {'' if r.centre_count is None else r.centre_count:>16}")
            for k, v in r.sums.items():
                theirs = "" if r.centre_sums is None else yuan_plain(r.centre_sums.get(k, 0))
                lines.append(f"    {k:<16} {yuan_plain(v):>16} {theirs:>16}")
            if not r.agrees:
                lines.append(f"    !! {r.dscr}")
        if self.cash_only_sales:
            reversed_part = (f", {self.cash_only_reversals} reversed 冲正, {self.cash_only_count} net 净"
                             if self.cash_only_reversals else "")
            lines.append(f"  self-pay cash 全自费现金结算: {self.cash_only_sales}{reversed_part}, "
                         f"{yuan_plain(self.cash_only)} (not through the centre: not in 3201 未经医保中心,不在 3201 中)")
        return "\n".join(lines)


