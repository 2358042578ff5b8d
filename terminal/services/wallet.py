"""The insurance wallet (医保钱包) at the insurance office window, as the window keeps the centre's answers (fen).

An owner transfers money from their personal account into a bound relative's wallet (X111, owner's card and
PIN); the relative accepts it (X112, their card) and from then it is their own money, paying their share at a
settlement after their own account and before any relative's binding; a transfer not accepted goes back to the
owner at the return time. The centre keeps the wallets and checks every limit: the window only shows and
explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from centre.interface.amounts import fen_to_yuan, yuan_text

if TYPE_CHECKING:
    from terminal.services.views import Relative

STATES_EN = {"pending": "waiting to be accepted", "accepted": "accepted", "returned": "returned to the owner"}


def _fen(value: Any) -> int:
    from terminal.insurance.models import fen
    return fen(value)


@dataclass(frozen=True)
class Limits:
    transfers_per_day: int
    max_transfer: int               # fen
    closed_from: str                # HH:MM
    closed_until: str
    return_at: str
    en: str
    zh: str

    @classmethod
    def of(cls, out: Any) -> "Limits":
        return cls(out.transfers_per_day, _fen(out.max_transfer), out.closed_from, out.closed_until, out.return_at,
                   out.en, out.zh)

    def to_json(self) -> dict[str, Any]:
        return {"transfers_per_day": self.transfers_per_day, "max_transfer": fen_to_yuan(self.max_transfer),
                "max_transfer_fen": self.max_transfer, "closed_from": self.closed_from,
                "closed_until": self.closed_until, "return_at": self.return_at, "en": self.en, "zh": self.zh}


@dataclass(frozen=True)
class Transfer:
    transfer_id: int
    owner_psn_no: str
    owner_name: str
    user_psn_no: str
    user_name: str
    amount: int                     # fen
    state: str                      # pending | accepted | returned
    state_name: str                 # 待接收 | 已接收 | 已退回
    made_at: str
    due_at: str
    closed_at: str | None

    @classmethod
    def of(cls, r: Any) -> "Transfer":
        return cls(r.transfer_id, r.owner_psn_no, r.owner_name, r.user_psn_no, r.user_name, _fen(r.amount), r.state,
                   r.state_name, r.made_at, r.due_at, r.closed_at)

    def to_json(self) -> dict[str, Any]:
        return {"transfer_id": self.transfer_id, "owner_psn_no": self.owner_psn_no, "owner_name": self.owner_name,
                "user_psn_no": self.user_psn_no, "user_name": self.user_name, "amount": fen_to_yuan(self.amount),
                "amount_fen": self.amount, "state": self.state, "state_name": self.state_name,
                "made_at": self.made_at, "due_at": self.due_at, "closed_at": self.closed_at}

    def line(self) -> str:
        """One line of a wallet's history, for the cashier."""
        when = {"pending": f"; goes back to the owner at {self.due_at} unless accepted 未接收将于{self.due_at}退回",
                "accepted": f" {self.closed_at}", "returned": f" {self.closed_at}"}.get(self.state, "")
        return (f"  #{self.transfer_id}  {self.made_at}  {self.owner_name} → {self.user_name}  "
                f"{yuan_text(self.amount)}  {self.state_name} {STATES_EN.get(self.state, self.state)}{when}")


@dataclass(frozen=True)
class TransferMade:
    """X111's answer: the transfer, the owner's account afterwards, what is left today."""

    transfer: Transfer
    owner_balc: int                 # fen
    owner_prior_balc: int           # fen: of which prior-year balance (历年结余)
    transfers_left_today: int
    limits: Limits

    @classmethod
    def of(cls, out: Any) -> "TransferMade":
        return cls(Transfer.of(out.transfer), _fen(out.owner_balc), _fen(out.owner_prior_balc),
                   out.transfers_left_today, Limits.of(out.limits))

    def to_json(self) -> dict[str, Any]:
        return {"transfer": self.transfer.to_json(), "owner_balc": fen_to_yuan(self.owner_balc),
                "owner_balc_fen": self.owner_balc, "owner_prior_balc": fen_to_yuan(self.owner_prior_balc),
                "owner_prior_balc_fen": self.owner_prior_balc, "transfers_left_today": self.transfers_left_today,
                "limits": self.limits.to_json()}

    def text(self) -> str:
        t = self.transfer
        return "\n".join([
            f"transfer #{t.transfer_id}: {yuan_text(t.amount)} from {t.owner_name}'s personal account into "
            f"{t.user_name}'s insurance wallet, waiting for {t.user_name} to accept it",
            f"转账 #{t.transfer_id}:{t.owner_name}个人账户转入{t.user_name}医保钱包{yuan_text(t.amount)},待{t.user_name}接收",
            f"  not accepted by {t.due_at}: it goes back to {t.owner_name}'s account "
            f"未在{t.due_at}前接收将退回授权人个人账户",
            f"  {t.owner_name}'s account now 个人账户余额 {yuan_text(self.owner_balc)}"
            + (f" (of which prior-year 其中历年结余 {yuan_text(self.owner_prior_balc)})" if self.owner_prior_balc else ""),
            f"  transfers left today 今日剩余转账次数: {self.transfers_left_today}",
            f"  limits: {self.limits.en}", f"  限额:{self.limits.zh}"])


@dataclass(frozen=True)
class TransferAccepted:
    """X112's answer: the transfer, and the relative's wallet afterwards."""

    transfer: Transfer
    wallet_balc: int                # fen

    @classmethod
    def of(cls, out: Any) -> "TransferAccepted":
        return cls(Transfer.of(out.transfer), _fen(out.wallet_balc))

    def to_json(self) -> dict[str, Any]:
        return {"transfer": self.transfer.to_json(), "wallet_balc": fen_to_yuan(self.wallet_balc),
                "wallet_balc_fen": self.wallet_balc}

    def text(self) -> str:
        t = self.transfer
        return "\n".join([
            f"accepted transfer #{t.transfer_id}: {yuan_text(t.amount)} from {t.owner_name} is now {t.user_name}'s "
            f"own money; it pays {t.user_name}'s share at a settlement after their own account",
            f"已接收转账 #{t.transfer_id}:{t.owner_name}转入的{yuan_text(t.amount)}已归{t.user_name}本人所有,"
            f"结算时在本人个人账户之后支付",
            f"  {t.user_name}'s insurance wallet now 医保钱包余额 {yuan_text(self.wallet_balc)}"])


@dataclass(frozen=True)
class WalletView:
    """X113's answer for the person whose card was read."""

    psn_no: str
    psn_name: str
    wallet_balc: int                # fen
    received: tuple[Transfer, ...]
    made: tuple[Transfer, ...]
    transfers_left_today: int
    transfer_open_now: bool
    limits: Limits
    returned_now: tuple[int, ...]

    @classmethod
    def of(cls, psn_no: str, psn_name: str, out: Any) -> "WalletView":
        return cls(psn_no, psn_name, _fen(out.wallet_balc), tuple(Transfer.of(t) for t in out.received),
                   tuple(Transfer.of(t) for t in out.made), out.transfers_left_today, out.transfer_open_now,
                   Limits.of(out.limits), tuple(out.returned_now))

    def to_json(self) -> dict[str, Any]:
        return {"psn_no": self.psn_no, "psn_name": self.psn_name, "wallet_balc": fen_to_yuan(self.wallet_balc),
                "wallet_balc_fen": self.wallet_balc, "received": [t.to_json() for t in self.received],
                "made": [t.to_json() for t in self.made], "transfers_left_today": self.transfers_left_today,
                "transfer_open_now": self.transfer_open_now, "limits": self.limits.to_json(),
                "returned_now": list(self.returned_now)}

    def text(self) -> str:
        lines = [f"{self.psn_name} {self.psn_no}: insurance wallet 医保钱包余额 {yuan_text(self.wallet_balc)}"]
        if self.returned_now:
            ids = ", ".join(f"#{i}" for i in self.returned_now)
            lines.append(f"  just returned to their owners (not accepted in time) 刚退回授权人: {ids}")
        pending = [t for t in self.received if t.state == "pending"]
        if pending:
            lines.append(f"  waiting for {self.psn_name} to accept 待接收: "
                         + ", ".join(f"#{t.transfer_id} {yuan_text(t.amount)}" for t in pending)
                         + "  (cashier wallet accept --transfer ID)")
        lines.append("received (last 30 days) 收到的转账:" if self.received else "received 收到的转账: none 无")
        lines += [t.line() for t in self.received]
        if self.made:
            lines.append("made (last 30 days) 转出的转账:")
            lines += [t.line() for t in self.made]
        lines.append(f"as an owner, transfers still allowed today 作为授权人今日还可转账: {self.transfers_left_today}"
                     + ("" if self.transfer_open_now else
                        f"; closed now 当前不可转账 ({self.limits.closed_from}–{self.limits.closed_until})"))
        lines += [f"limits: {self.limits.en}", f"限额:{self.limits.zh}"]
        return "\n".join(lines)


def yuan_amount(text: str) -> int:
    """--amount: yuan with at most two decimals ("500", "500.00"), in fen; anything else is refused."""
    import re
    value = text.strip().replace(",", "")
    m = re.fullmatch(r"([0-9]{1,9})(?:\.([0-9]{1,2}))?", value)
    if not m:
        raise ValueError(text)
    return int(m[1]) * 100 + int((m[2] or "0").ljust(2, "0"))


__all__ = ["Limits", "Transfer", "TransferAccepted", "TransferMade", "WalletView", "yuan_amount"]


WALLET_PAY_ZH = "医保钱包支付"


def wallet_model(cfg: Any) -> bool:
    """Cross-province mutual aid goes by the insurance wallet at this window: under
    `cross_province_model = "wallet"` (the default); a quota under "quota"."""
    return bool(_mutual_aid(cfg).wallet_model)


def wallet_shown(cfg: Any, balance: int | None) -> bool:
    """Whether the screens show a patient's insurance wallet: always under the wallet model (¥0.00 is a wallet
    with nothing in it yet); under the quota model, which has no wallet transfers, only when it holds money
    (made before the window changed models), never as a wallet that cannot exist."""
    return wallet_model(cfg) or bool(balance)


def transfer_limits(cfg: Any) -> tuple[int, int]:
    """(transfers an owner may make a day, the most one may move in fen) as configured, for the screens' hints."""
    limits = _mutual_aid(cfg).wallet
    return limits.transfers_per_day, limits.max_transfer


def _mutual_aid(cfg: Any) -> Any:
    """The config's [mutual_aid] as the centre reads it (its defaults and checks, defined there once)."""
    from centre.api import check_settings
    return check_settings(cfg.raw or {}).mutual_aid


def by_wallet_owners(relatives: Iterable[Relative]) -> list[str]:
    """The owners whose binding pays this patient only through a wallet transfer (a cross-province binding under
    the wallet model: X101's pays_by "wallet", available ¥0.00), by name, once each: the screens say why."""
    names: list[str] = []
    for rel in relatives:
        if rel.by_wallet and rel.owner_name not in names:
            names.append(rel.owner_name)
    return names


@dataclass(frozen=True)
class SettlementWallet:
    """What a settlement through the centre says beyond its national figures: the wallet's part of acct_pay,
    the wallet afterwards, and the centre's explanations (en, zh) for the patient."""

    wallet_pay: int                 # fen, part of acct_pay (negative in a reversal)
    wallet_balc: int | None         # fen, None when the answer does not say
    explain: tuple[tuple[str, str], ...]


def settlement_wallet(result: Any) -> SettlementWallet:
    """From the centre's 2207/2208 answer kept with the result (`platform`); nothing for a result rebuilt from the
    window's record without it."""
    info = (getattr(result, "platform", None) or {}).get("setlinfo") or {}
    pay = info.get("ext_wallet_pay")
    balc = info.get("ext_wallet_balc")
    notes = tuple((str(e.get("en", "")), str(e.get("zh", ""))) for e in info.get("ext_explain") or ())
    return SettlementWallet(_fen(pay) if pay is not None else 0,
                            _fen(balc) if balc is not None and pay is not None else None, notes)
