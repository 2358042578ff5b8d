"""Family mutual aid at the insurance office: the project's own transactions, NOT on the national interface.

Patients bind relatives in the national app or at the insurance office (医保经办窗口); the national
interface a hospital calls has no such transaction. The simulator offers these on the same envelope so
a window can play the insurance office too. Their numbers begin with `X` so they can never be mistaken
for a national `infno`.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator

from centre.interface.fields import Amount, DateText, Model, PsnNo, Str


class Family(Model):
    psn_no: PsnNo
    ext_on_date: DateText | None = Field(default=None, description="the day to look at (default: today)")


class InX101(Model):
    data: Family


class OwnAccount(Model):
    has_account: bool
    balc: Amount
    prior_balc: Amount = Field(default=Decimal("0.00"), description="of which prior-year balance (历年结余)")
    wallet_balc: Amount = Field(default=Decimal("0.00"), description="the insurance wallet (医保钱包): pays after the own account")


class Relative(Model):
    binding_id: int
    owner_psn_no: str
    owner_name: str
    relation: str = Field(description="GB/T 4761: what the patient is to the owner (30: the owner's daughter)")
    relation_name: str
    scope: str = Field(description="local | cross_province")
    available: Amount = Field(description="what this binding can pay now (the owner's balance, or the quota)")
    begin_date: str
    pays_by: str = Field(default="balance", description=(
        "balance: the owner's account pays directly; prior_year: only the owner's prior-year balance (the owner's "
        "area shares only 历年结余); quota: the quota set aside; wallet: nothing directly, the owner transfers into "
        "the patient's wallet"))


class OutX101(Model):
    own: OwnAccount
    relatives: list[Relative] = Field(description="every account that may pay, in the order it was registered")


class Who(Model):
    """A person named at the office window: one of psn_no, card number or ID number."""

    psn_no: PsnNo | None = None
    card_no: Str | None = Field(default=None, max_length=20)
    certno: Str | None = Field(default=None, max_length=18)

    @model_validator(mode="after")
    def _one(self) -> "Who":
        given = [v for v in (self.psn_no, self.card_no, self.certno) if v]
        if len(given) != 1:
            raise ValueError("name the person by exactly one of psn_no, card_no, certno")
        return self


class InX105(Model):
    data: Who


class Bind(Model):
    owner_psn_no: PsnNo
    user: Who
    relation: str = Field(pattern=r"^[0-9]{2}$", description="GB/T 4761 code: what the user is to the owner")
    scope: str = Field(default="local", pattern=r"^(local|cross_province)$")
    quota: Amount = Field(default=Decimal(0), description=(
        "cross-province earmark moved out of the owner's balance (yuan), only with cross_province_model = "
        "\"quota\"; under the wallet model (the default) a cross-province binding has none"))


class InX102(Model):
    data: Bind


class BindingRecord(Model):
    binding_id: int
    owner_psn_no: str
    owner_name: str
    user_psn_no: str
    user_name: str
    user_card_no: str | None
    relation: str
    relation_name: str
    scope: str
    quota: Amount
    begin_date: str
    end_date: str | None
    status: str


class OutBinding(Model):
    binding: BindingRecord
    owner_balc: Amount | None = Field(default=None, description="the owner's balance afterwards")
    returned: Amount = Field(default=Decimal(0), description="quota returned to the owner's balance (unbinding)")


class Unbind(Model):
    owner_psn_no: PsnNo
    user: Who


class InX103(Model):
    data: Unbind


class Owner(Model):
    owner_psn_no: PsnNo


class InX104(Model):
    data: Owner


class OutX104(Model):
    bindings: list[BindingRecord]


