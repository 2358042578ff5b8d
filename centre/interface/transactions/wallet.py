"""The insurance wallet (医保钱包) and the regional rules: the project's own transactions, NOT on the national
interface.

A hospital's interface has no wallet transaction: owners transfer in the national app or at the insurance
office (医保经办窗口). The simulator offers them on the same envelope, numbered with an `X` like the bindings
(X101–X105), so a window can play the insurance office and explain the rules:

- X111 transfer: the owner (card and PIN at the office, or the e-voucher) moves money from their personal
  account into a bound relative's wallet; the limits are checked and named when they refuse.
- X112 accept: the relative takes a pending transfer into their wallet; from then it is their own money.
- X113 wallet: a person's wallet balance, the transfers they made and received, and what they may still
  transfer today, with the limits in words; with `ext_transfer_check`, first whether a transfer by this person
  would go through now (the window asks before the owner's PIN: a transfer the limits refuse asks for no PIN).
- X114 return due: every pending transfer whose return time has come goes back to its owner's account (the
  centre also does this by itself before any wallet transaction and any settlement that touches the people
  concerned); what a scheduler at the return time sends.
- X121 regional rules: the mutual-aid rules in force for an insured area, each with the region that says it,
  in Chinese and English.
"""

from __future__ import annotations

from pydantic import Field

from centre.interface.fields import Admdvs, Amount, Model, PsnNo
from centre.interface.transactions.family import Who


class TransferIn(Model):
    owner_psn_no: PsnNo
    user: Who = Field(description="the relative whose wallet receives it: psn_no, card number or ID number")
    amount: Amount = Field(description="yuan, more than 0 and at most the per-transfer limit")


class InX111(Model):
    data: TransferIn


class TransferRecord(Model):
    transfer_id: int
    owner_psn_no: str
    owner_name: str
    user_psn_no: str
    user_name: str
    amount: Amount
    state: str = Field(description="pending | accepted | returned")
    state_name: str = Field(description="待接收 | 已接收 | 已退回")
    made_at: str
    due_at: str = Field(description="when it goes back to the owner if not accepted")
    closed_at: str | None = Field(default=None, description="when it was accepted or returned")


class Limits(Model):
    transfers_per_day: int
    max_transfer: Amount
    closed_from: str = Field(description="HH:MM: no transfers from here ...")
    closed_until: str = Field(description="... until here (the next day when it is earlier)")
    return_at: str = Field(description="HH:MM the next day: an unaccepted transfer goes back")
    en: str
    zh: str


class OutX111(Model):
    transfer: TransferRecord
    owner_balc: Amount = Field(description="the owner's personal account afterwards")
    owner_prior_balc: Amount = Field(description="of which prior-year balance (历年结余)")
    transfers_left_today: int
    limits: Limits


class AcceptIn(Model):
    user_psn_no: PsnNo
    transfer_id: int = Field(ge=1)


class InX112(Model):
    data: AcceptIn


class OutX112(Model):
    transfer: TransferRecord
    wallet_balc: Amount = Field(description="the relative's wallet afterwards")


class TransferCheck(Model):
    """A transfer the owner (`psn_no`) means to make, checked before the owner's PIN is asked: every limit and
    rule X111 applies, nothing moved; X111 checks them all again when it commits."""

    user: Who = Field(description="the relative whose wallet would receive it: psn_no, card number or ID number")
    amount: Amount = Field(description="yuan, as X111 would take it")


class WalletOf(Model):
    psn_no: PsnNo
    ext_transfer_check: TransferCheck | None = Field(
        default=None, description="check this transfer by `psn_no` as X111 would (read-only): refused with X111's "
                                  "refusal when it cannot go through now; answered as usual when it can")


class InX113(Model):
    data: WalletOf


class OutX113(Model):
    wallet_balc: Amount
    received: list[TransferRecord] = Field(description="transfers to this person: pending ones and the last 30 days'")
    made: list[TransferRecord] = Field(description="transfers by this person: pending ones and the last 30 days'")
    transfers_left_today: int = Field(description="as an owner, today")
    transfer_open_now: bool = Field(description="false in the hours without transfers")
    limits: Limits
    returned_now: list[int] = Field(description="transfers that went back just now (their return time had come)")


class ReturnDue(Model):
    pass


class InX114(Model):
    data: ReturnDue = Field(default_factory=ReturnDue)


class OutX114(Model):
    returned: list[TransferRecord]


class AreaIn(Model):
    admdvs: Admdvs


class InX121(Model):
    data: AreaIn


class RuleText(Model):
    rule: str = Field(description="max_users_per_owner | one_owner_per_user | share_prior_year_only | "
                      "account_pays_class_c | cross_province_since")
    value: str | int | bool
    region_admdvs: str | None = Field(description="the area, city or province that says it; null: the national default")
    region_name: str
    en: str
    zh: str


class OutX121(Model):
    admdvs: str
    area_name: str
    cross_province_open: bool = Field(description="whether the pooling area takes part in cross-province mutual aid")
    cross_province_model: str = Field(description="wallet | quota")
    rules: list[RuleText]
    wallet: Limits
