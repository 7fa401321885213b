"""What a case is opened and driven with: the domain's own input models (the API's request bodies reuse them).

Amounts are `Money` (`cases.money`): exact Decimals in cents, so a payment's components add up to its
amount exactly or the payment is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from cases.money import ZERO, Money, money_text, total
from devices.fields import Lat, Lon, Name, ResourceId, Severity, Vehicle
from devices.timestamps import to_aware_datetime

Line = Literal["motor", "health", "property"]
Language = Literal["en", "zh"]
Mobility = Literal["normal", "reduced"]
Channel = Literal["app", "sms", "email"]
PaymentMethod = Literal["bank_transfer", "instant", "cheque"]
Milestone = Literal["repair", "rehab", "risk_review", "closure"]
SubrogationStage = Literal[
    "investigation", "evidence", "demand", "negotiation", "settlement", "litigation", "recovered", "closed"
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY, EUR")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]

#: how far ahead of our clock a past time (payment, loss) may be, for clock skew
FUTURE_SLACK = timedelta(minutes=5)
EARLIEST_YEAR = 1990


PastTime = Annotated[datetime, BeforeValidator(to_aware_datetime)]


def _not_future(value: datetime) -> datetime:
    if value > datetime.now(tz=UTC) + FUTURE_SLACK:
        raise ValueError(f"{value.isoformat()} is in the future")
    if value.year < EARLIEST_YEAR:
        raise ValueError(f"{value.isoformat()} is before {EARLIEST_YEAR}")
    return value


class CaseInput(BaseModel):
    """An input: unknown fields are refused, and no text may carry a NUL character."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


class Claimant(CaseInput):
    name: Name
    age: int = Field(ge=0, le=130)
    language: Language
    lat: Lat
    lon: Lon
    mobility: Mobility = "normal"
    channel: Channel = "app"
    email: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)


class PaymentComponent(CaseInput):
    item: Name
    amount: Money
    note: str | None = Field(None, max_length=500, description="why this part was paid, shown in the notice")


class Payment(CaseInput):
    amount: Money
    currency: Currency
    components: list[PaymentComponent] = Field(min_length=1, max_length=100)
    method: PaymentMethod
    paid_at: PastTime
    deductible: Money = Field(ZERO, description="the excess the claimant bore (refunded pro rata on recovery)")

    @field_validator("components")
    @classmethod
    def _adds_up(cls, value: list[PaymentComponent], info: ValidationInfo) -> list[PaymentComponent]:
        amount: Decimal | None = info.data.get("amount")
        if amount is not None:
            parts = total([c.amount for c in value])
            if parts != amount:
                raise ValueError(f"components add up to {parts:.2f}, not the amount {amount:.2f}")
        return value

    @field_validator("paid_at")
    @classmethod
    def _paid_in_past(cls, value: datetime) -> datetime:
        return _not_future(value)

    def document(self) -> dict[str, Any]:
        """The payment as stored with the case: amounts as decimal strings, `paid_at` in RFC 3339."""
        doc = self.model_dump(mode="json")
        doc["amount"], doc["deductible"] = money_text(self.amount), money_text(self.deductible)
        doc["components"] = [
            {**d, "amount": money_text(c.amount)} for d, c in zip(doc["components"], self.components, strict=True)
        ]
        doc["paid_at"] = self.paid_at.isoformat()
        return doc


class Injury(CaseInput):
    description: Text
    body_part: str | None = Field(None, max_length=100)


class Loss(CaseInput):
    cause: Annotated[str, Field(min_length=1, max_length=100)]
    severity: Severity
    third_party_liable: bool = False
    occurred_at: PastTime | None = Field(None, description="when the loss happened (default: the payment time)")
    vehicle: Vehicle | None = None
    repair_type: Literal["body", "mechanical", "paint", "glass", "structural"] | None = Field(
        None, description="the kind of repair the vehicle needs (sets the warranty term; default body)"
    )
    injury: Injury | None = None
    prior_claims_same_cause: int = Field(
        0, ge=0, le=1000, description="earlier claims of this claimant for the same cause"
    )

    @field_validator("cause")
    @classmethod
    def _normalise_cause(cls, value: str) -> str:
        cleaned = " ".join(value.strip().lower().split())
        if not cleaned:
            raise ValueError("cause is empty")
        return cleaned

    @field_validator("occurred_at")
    @classmethod
    def _occurred_in_past(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _not_future(value)


class CaseCreate(CaseInput):
    id: ResourceId | None = None
    claim_id: ResourceId
    line: Line
    claimant: Claimant
    payment: Payment
    loss: Loss

    @model_validator(mode="after")
    def _order(self) -> CaseCreate:
        if self.loss.occurred_at is not None and self.loss.occurred_at > self.payment.paid_at:
            raise ValueError("loss.occurred_at: the loss happened after payment.paid_at")
        return self


class ThirdParty(CaseInput):
    name: Name
    insurer: str | None = Field(None, max_length=200)
    reference: str | None = Field(None, max_length=100)


class SubrogationCreate(CaseInput):
    third_party: ThirdParty
    claimed: Money | None = Field(
        None, description="principal claimed (default: the amount paid plus the claimant's deductible)"
    )
    deductible: Money | None = Field(None, description="default: payment.deductible")
    interest_rate: float = Field(0.04, ge=0, le=0.5, description="yearly simple interest on the principal")
    limitation_years: int = Field(3, ge=1, le=30, description="limitation period counted from the loss")
    note: str | None = Field(None, max_length=2000)


class SubrogationEventCreate(CaseInput):
    stage: SubrogationStage | None = None
    claimed: Money | None = Field(None, description="a new principal claimed (e.g. in the demand)")
    recovered: Money | None = Field(None, description="an amount received in this step")
    note: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _something(self) -> SubrogationEventCreate:
        if self.stage is None and self.claimed is None and self.recovered is None:
            raise ValueError("give a stage, an amount claimed or an amount recovered")
        return self


class FeedbackCreate(CaseInput):
    milestone: Milestone
    satisfaction: int = Field(ge=1, le=5)
    would_recommend: int = Field(ge=0, le=10)
    comment: str | None = Field(None, max_length=4000)
