"""Post-claim cases: the case as opened, its plan, notifications, recovery file, feedback and reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from api.schemas.common import Lat, Lon, Name, ResourceId, Severity
from api.schemas.repair import Vehicle
from devices.timestamps import to_aware_datetime

Line = Literal["motor", "health", "property"]
Language = Literal["en", "zh"]
Mobility = Literal["normal", "reduced"]
Channel = Literal["app", "sms", "email"]
PaymentMethod = Literal["bank_transfer", "instant", "cheque"]
CaseState = Literal["open", "closed"]
Milestone = Literal["repair", "rehab", "risk_review", "closure"]
SubrogationStage = Literal["investigation", "evidence", "demand", "negotiation", "settlement", "litigation",
                           "recovered", "closed"]
ItemKey = Literal["repair", "courtesy_car", "extended_warranty", "pickup_delivery", "rehab", "wearable_kit",
                  "home_visits", "risk_review"]
Money = Annotated[float, Field(ge=0, le=1e11, allow_inf_nan=False)]
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


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


class Claimant(_In):
    name: Name
    age: int = Field(ge=0, le=130)
    language: Language
    lat: Lat
    lon: Lon
    mobility: Mobility = "normal"
    channel: Channel = "app"
    email: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)


class PaymentComponent(_In):
    item: Name
    amount: Money
    note: str | None = Field(None, max_length=500, description="why this part was paid, shown in the notice")


class Payment(_In):
    amount: Money
    currency: Currency
    components: list[PaymentComponent] = Field(min_length=1, max_length=100)
    method: PaymentMethod
    paid_at: PastTime
    deductible: Money = Field(0.0, description="the excess the claimant bore (refunded pro rata on recovery)")

    @field_validator("components")
    @classmethod
    def _adds_up(cls, value: list[PaymentComponent], info: ValidationInfo) -> list[PaymentComponent]:
        amount = info.data.get("amount")
        if amount is not None:
            total = sum(round(c.amount * 100) for c in value)
            if total != round(amount * 100):
                raise ValueError(f"components add up to {total / 100:.2f}, not the amount {amount:.2f}")
        return value

    @field_validator("paid_at")
    @classmethod
    def _paid_in_past(cls, value: datetime) -> datetime:
        return _not_future(value)


class Injury(_In):
    description: Text
    body_part: str | None = Field(None, max_length=100)


class Loss(_In):
    cause: Annotated[str, Field(min_length=1, max_length=100)]
    severity: Severity
    third_party_liable: bool = False
    occurred_at: PastTime | None = Field(None, description="when the loss happened (default: the payment time)")
    vehicle: Vehicle | None = None
    repair_type: Literal["body", "mechanical", "paint", "glass", "structural"] | None = Field(
        None, description="the kind of repair the vehicle needs (sets the warranty term; default body)")
    injury: Injury | None = None
    prior_claims_same_cause: int = Field(0, ge=0, le=1000,
                                         description="earlier claims of this claimant for the same cause")

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


class CaseCreate(_In):
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


class CaseLinks(_In):
    job_id: ResourceId | None = None
    patient_id: ResourceId | None = None

    @model_validator(mode="after")
    def _something(self) -> CaseLinks:
        if self.job_id is None and self.patient_id is None:
            raise ValueError("give job_id, patient_id or both")
        return self


class CasePublic(BaseModel):
    id: str
    claim_id: str
    line: str
    state: str
    claimant: dict[str, Any]
    payment: dict[str, Any]
    loss: dict[str, Any]
    job_id: str | None
    patient_id: str | None
    plan_version: int
    services: dict[str, Any]
    milestones: list[str]
    figures: dict[str, Any] = Field(description="days to keys, rehab adherence, amount recovered, feedback")
    opened_by: str
    opened_ms: int
    updated_ms: int
    closed_ms: int | None


class PlanItem(BaseModel):
    key: str
    title: str
    reason: str
    rule: str = Field(description="the rule that put the item in the plan")
    channel: str
    details: dict[str, Any] = {}
    part_of: str | None = Field(None, description="done together with this item")
    milestone: str | None = Field(None, description="a feedback request is sent when it is done")
    status: str = "pending"


class PlanOmission(BaseModel):
    key: str
    reason: str


class PlanDiff(BaseModel):
    key: str
    change: Literal["added", "removed", "changed"]
    reason: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class PlanPublic(BaseModel):
    case_id: str
    version: int
    items: list[PlanItem]
    omitted: list[PlanOmission]
    preferences: dict[str, Any]
    changes: list[PlanDiff] = Field(description="what changed from the previous version, and why")
    reason: str
    created_by: str
    created_ms: int


class PlanChange(_In):
    """A change request: each field set is a preference kept for every later version."""

    courtesy_car: bool | None = Field(None, description="false declines the courtesy car; true asks it back")
    shop_rank: int | None = Field(None, ge=1, le=3, description="choose the n-th offered shop")
    shop_id: ResourceId | None = Field(None, description="choose an offered shop by id")
    pickup_delivery: bool | None = Field(None, description="true asks for pick-up and delivery of the car")
    home_visits: bool | None = Field(None, description="true asks for home rehab visits")
    extended_warranty: bool | None = Field(None, description="false declines the extended warranty")
    note: str | None = Field(None, max_length=1000)

    @model_validator(mode="after")
    def _something(self) -> PlanChange:
        if self.shop_rank is not None and self.shop_id is not None:
            raise ValueError("give shop_rank or shop_id, not both")
        if all(getattr(self, f) is None for f in ("courtesy_car", "shop_rank", "shop_id", "pickup_delivery",
                                                   "home_visits", "extended_warranty")):
            raise ValueError("the change request changes nothing")
        return self


class ServiceUpdate(_In):
    status: Literal["active", "done"]
    note: str | None = Field(None, max_length=1000)


class ArrivalPublic(BaseModel):
    method: str
    earliest: str
    latest: str
    text: str


class NoticeComponent(BaseModel):
    item: str
    amount: float
    text: str


class Entitlement(BaseModel):
    key: str
    title: str
    text: str


class NoticePublic(BaseModel):
    case_id: str
    claim_id: str
    language: str
    title: str
    greeting: str
    why: str
    amount: float
    currency: str
    method: str
    paid_at: str
    components: list[NoticeComponent]
    arrival: ArrivalPublic
    entitlements: list[Entitlement]
    text: str = Field(description="the whole notice as the claimant reads it")


class NotificationPublic(BaseModel):
    id: str
    case_id: str
    kind: str
    channel: str
    language: str
    subject: str
    text: str
    state: str
    attempts: int
    next_attempt_ms: int | None
    last_status: int | None
    last_error: str | None
    created_ms: int
    delivered_ms: int | None


class ThirdParty(_In):
    name: Name
    insurer: str | None = Field(None, max_length=200)
    reference: str | None = Field(None, max_length=100)


class SubrogationCreate(_In):
    third_party: ThirdParty
    claimed: Money | None = Field(None, description="principal claimed (default: the amount paid plus the "
                                                    "claimant's deductible)")
    deductible: Money | None = Field(None, description="default: payment.deductible")
    interest_rate: float = Field(0.04, ge=0, le=0.5, description="yearly simple interest on the principal")
    limitation_years: int = Field(3, ge=1, le=30, description="limitation period counted from the loss")
    note: str | None = Field(None, max_length=2000)


class SubrogationEventCreate(_In):
    stage: SubrogationStage | None = None
    claimed: Money | None = Field(None, description="a new principal claimed (e.g. in the demand)")
    recovered: Money | None = Field(None, description="an amount received in this step")
    note: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _something(self) -> SubrogationEventCreate:
        if self.stage is None and self.claimed is None and self.recovered is None:
            raise ValueError("give a stage, an amount claimed or an amount recovered")
        return self


class SubrogationStepPublic(BaseModel):
    at_ms: int
    from_stage: str | None
    stage: str
    claimed: float | None
    recovered: float | None
    refund: float | None
    note: str | None
    by: str


class SubrogationPublic(BaseModel):
    case_id: str
    stage: str
    allowed_next: list[str]
    third_party: dict[str, Any]
    currency: str
    claimed: float
    interest_rate: float
    interest: float = Field(description="interest accrued on the principal to the recovery or to now")
    total_due: float
    recovered: float
    outstanding: float
    deductible: float
    deductible_refund_due: float = Field(description="the claimant's share of what was recovered, pro rata")
    deductible_refunded: float
    deadline_ms: int
    days_to_deadline: int
    last_progress_ms: int
    opened_ms: int
    updated_ms: int
    steps: list[SubrogationStepPublic]


class FeedbackCreate(_In):
    milestone: Milestone
    satisfaction: int = Field(ge=1, le=5)
    would_recommend: int = Field(ge=0, le=10)
    comment: str | None = Field(None, max_length=4000)


class FeedbackPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: str
    milestone: str
    satisfaction: int
    would_recommend: int
    comment: str | None
    line: str
    shop_id: str | None
    manager_id: str | None
    created_ms: int


class NpsRow(BaseModel):
    key: str | None
    answers: int
    satisfaction_mean: float
    promoters: int
    passives: int
    detractors: int
    nps: float = Field(description="% promoters (9-10) minus % detractors (0-6)")


class NpsPublic(BaseModel):
    by: str
    rows: list[NpsRow]


class TimelineItem(BaseModel):
    at_ms: int
    at: str
    source: str
    kind: str
    summary: str
    data: dict[str, Any] = {}


class TimelinePublic(BaseModel):
    case_id: str
    entries: list[TimelineItem]
