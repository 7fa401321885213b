"""Rehab plans (versioned), check-ins, daily metrics and proposed adjustments."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.rehab.plan import RehabPlanContent


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: RehabPlanContent | None = Field(None, description="omit to start from the default plan")
    reason: str = Field("initial plan", min_length=1, max_length=2000)


class PlanPublic(BaseModel):
    patient_id: str
    version: int
    content: dict[str, Any]
    created_by: str
    reason: str
    created_ms: int
    hr_zone_bpm: list[float] | None = Field(
        None, min_length=2, max_length=2, description="[low, high] Karvonen zone in bpm from the plan's HR figures"
    )


class CheckInCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_at: int | str
    outcome: Literal["good", "concern", "referred", "missed"]
    mood: int | None = Field(None, ge=1, le=5)
    note: str | None = Field(None, max_length=4000)


class MilestoneUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done: bool = True
    note: str | None = Field(None, max_length=2000)


class CheckInPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    patient_id: str
    held_ms: int
    outcome: str
    mood: int | None
    note: str | None
    recorded_by: str


class DayMetricsPublic(BaseModel):
    day: str
    metrics: dict[str, Any]
    computed_ms: int


class MetricsPublic(BaseModel):
    patient_id: str
    days: list[DayMetricsPublic]


class AdjustmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    patient_id: str
    base_version: int
    direction: str
    changes: list[Any]
    new_content: dict[str, Any]
    rationale: str
    state: str
    decided_by: str | None
    decision_note: str | None
    decided_ms: int | None
    created_ms: int


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)
