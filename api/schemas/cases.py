"""Post-claim cases: the case as opened, its plan, notifications, recovery file, feedback and reports.

The inputs the domain takes (`CaseCreate`, `SubrogationCreate`, `SubrogationEventCreate`, `FeedbackCreate`)
are `cases.inputs`' own models; the request bodies only the API takes and every answer are here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cases.inputs import CaseInput
from cases.money import Money
from devices.fields import ResourceId

CaseState = Literal["open", "closed"]
ItemKey = Literal[
    "repair",
    "courtesy_car",
    "extended_warranty",
    "pickup_delivery",
    "rehab",
    "wearable_kit",
    "home_visits",
    "risk_review",
]


class CaseLinks(CaseInput):
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


class PlanChange(CaseInput):
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
        if all(
            getattr(self, f) is None
            for f in ("courtesy_car", "shop_rank", "shop_id", "pickup_delivery", "home_visits", "extended_warranty")
        ):
            raise ValueError("the change request changes nothing")
        return self


class ServiceUpdate(CaseInput):
    status: Literal["active", "done"]
    note: str | None = Field(None, max_length=1000)


class ArrivalPublic(BaseModel):
    method: str
    earliest: str
    latest: str
    text: str


class NoticeComponent(BaseModel):
    item: str
    amount: Money
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
    amount: Money
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


class SubrogationStepPublic(BaseModel):
    at_ms: int
    from_stage: str | None
    stage: str
    claimed: Money | None
    recovered: Money | None
    refund: Money | None
    note: str | None
    by: str


class SubrogationPublic(BaseModel):
    case_id: str
    stage: str
    allowed_next: list[str]
    third_party: dict[str, Any]
    currency: str
    claimed: Money
    interest_rate: float
    interest: Money = Field(description="interest accrued on the principal to the recovery or to now")
    total_due: Money
    recovered: Money
    outstanding: Money
    deductible: Money
    deductible_refund_due: Money = Field(description="the claimant's share of what was recovered, pro rata")
    deductible_refunded: Money
    deadline_ms: int
    days_to_deadline: int
    last_progress_ms: int
    opened_ms: int
    updated_ms: int
    steps: list[SubrogationStepPublic]


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
