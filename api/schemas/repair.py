"""Repair jobs, their timeline and photos."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from devices.fields import Lat, Lon, ResourceId, Severity, Vehicle
from devices.messages import Stage


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Lat
    lon: Lon
    name: str | None = Field(None, max_length=200)


class RepairJobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: ResourceId | None = None
    claim_id: ResourceId
    shop_id: ResourceId
    vehicle: Vehicle
    severity: Severity
    required_stages: list[Stage] | None = Field(None, max_length=13)
    customer: Customer | None = None
    promised_at: int | str | None = Field(None, description="when the insurer promised the car back (RFC 3339 or ms)")
    repair_type: Literal["body", "mechanical", "paint", "glass", "structural"] | None = None

    @field_validator("required_stages")
    @classmethod
    def _unique(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("required_stages lists a stage twice")
        return v


class TimelineEntry(BaseModel):
    at_ms: int
    event: str
    stage: str | None = None
    progress: float | None = None
    note: str | None = None
    reason: str | None = None


class PhotoPublic(BaseModel):
    id: str
    job_id: str
    stage: str
    taken_ms: int
    content_type: str
    size: int
    checked: bool
    flags: list[str]
    checks: dict[str, Any] | None
    url: str


class AlertBrief(BaseModel):
    id: str
    kind: str
    state: str
    severity: str
    message: str
    opened_ms: int


class RepairJobPublic(BaseModel):
    id: str
    claim_id: str
    shop_id: str
    vehicle: dict[str, Any]
    severity: str
    required_stages: list[str]
    customer: dict[str, Any] | None
    promised_ms: int | None
    current_stage: str | None
    progress: float
    on_hold: bool
    hold_reason: str | None
    predicted_ms: int | None
    delivered_ms: int | None
    state: dict[str, Any]
    created_ms: int
    timeline: list[TimelineEntry] = []
    photos: list[PhotoPublic] = []
    alerts: list[AlertBrief] = []
