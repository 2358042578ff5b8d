"""The insurance wallet (医保钱包): the limits on a transfer and when an unaccepted one goes back, as pure functions.

An owner transfers money from their personal account into a relative's wallet; once the relative accepts,
it is the relative's own money and pays their out-of-pocket share after their own account (see
`centre.rules.presettle`). The reported limits, as config `[mutual_aid.options]` with these defaults:
at most 3 transfers a day per owner (counted by the day they were made, accepted or not), at most ¥2,000.00
each, none between 22:00 and 06:00; a transfer not accepted goes back to the owner's account at 06:00 the next
day. Times are the centre's clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from centre.errors import Refused
from centre.interface.amounts import yuan_text


@dataclass(frozen=True)
class WalletLimits:
    transfers_per_day: int = 3
    max_transfer: int = 200_000                 # fen: ¥2,000.00
    closed_from: dt.time = dt.time(22, 0)       # no transfer from this time ...
    closed_until: dt.time = dt.time(6, 0)       # ... until this one (across midnight when from > until)
    return_at: dt.time = dt.time(6, 0)          # an unaccepted transfer returns at this time the next day

    def closed(self, at: dt.datetime) -> bool:
        """Whether `at` falls in the hours without transfers."""
        t = at.time()
        if self.closed_from == self.closed_until:
            return False
        if self.closed_from < self.closed_until:
            return self.closed_from <= t < self.closed_until
        return t >= self.closed_from or t < self.closed_until

    def due(self, made_at: dt.datetime) -> dt.datetime:
        """When a transfer made at `made_at` goes back if nobody accepted it: `return_at` the next day."""
        return dt.datetime.combine(made_at.date() + dt.timedelta(days=1), self.return_at)

    def explain(self) -> tuple[str, str]:
        """The limits as a cashier reads them out (en, zh); the closed hours as configured (none, within a day,
        or across midnight)."""
        f, u, r = (t.strftime("%H:%M") for t in (self.closed_from, self.closed_until, self.return_at))
        if self.closed_from == self.closed_until:
            hours_en, hours_zh = "at any hour", "全天可转账"
        else:
            hours_en = f"none between {f} and {u}" + (" the next morning" if self.closed_from > self.closed_until
                                                       else "")
            hours_zh = f"{f}至{'次日' if self.closed_from > self.closed_until else ''}{u}不能转账"
        return (f"at most {self.transfers_per_day} transfers a day, at most {yuan_text(self.max_transfer)} each, "
                f"{hours_en}; a transfer not accepted returns to the owner's account at {r} the next day",
                f"每天最多转账{self.transfers_per_day}笔,单笔不超过{yuan_text(self.max_transfer)},{hours_zh};"
                f"对方未接收的转账于次日{r}退回授权人个人账户")


def hm(at: dt.datetime | dt.time) -> str:
    return at.strftime("%H:%M")


def check_transfer(limits: WalletLimits, *, amount: int, at: dt.datetime, made_today: int) -> None:
    """Refuse a transfer the limits do not allow, naming the limit (the hours first: nothing else matters then)."""
    if amount <= 0:
        raise Refused("amount_invalid", "a transfer must be more than ¥0.00", "转账金额须大于0")
    if limits.closed(at):
        raise Refused("wallet_closed_hours",
                      f"no wallet transfers between {hm(limits.closed_from)} and {hm(limits.closed_until)} "
                      f"(it is {hm(at)}); try again from {hm(limits.closed_until)}",
                      f"{hm(limits.closed_from)}至{'次日' if limits.closed_from > limits.closed_until else ''}"
                      f"{hm(limits.closed_until)}不能转账(现在{hm(at)}),"
                      f"请于{hm(limits.closed_until)}后再试", rule="wallet_closed_from")
    if amount > limits.max_transfer:
        raise Refused("wallet_transfer_too_large",
                      f"one transfer may be at most {yuan_text(limits.max_transfer)}, not {yuan_text(amount)}",
                      f"单笔转账不能超过{yuan_text(limits.max_transfer)}(本次{yuan_text(amount)})",
                      rule="wallet_max_transfer")
    if made_today >= limits.transfers_per_day:
        raise Refused("wallet_daily_limit",
                      f"at most {limits.transfers_per_day} transfers a day: {made_today} made today already; "
                      "try again tomorrow",
                      f"每天最多转账{limits.transfers_per_day}笔,今天已转{made_today}笔,请明天再试",
                      rule="wallet_transfers_per_day")
