"""Alerts and their lifecycle."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    subject: str
    subject_type: str
    severity: str
    state: str
    message: str
    value: float | None
    patient_id: str | None
    shop_id: str | None
    job_id: str | None
    details: dict[str, Any]
    occurrences: int
    opened_ms: int
    updated_ms: int
    acked_by: str | None
    resolved_ms: int | None
    shelved_until_ms: int | None
    shelve_reason: str | None
    actions: list[str] = Field(
        default_factory=list,
        description="the lifecycle actions the caller may take on this alert now (ack, resolve, shelve): a shop "
        "acknowledges but never closes an alert about its own quality or fraud; claimants read only",
    )


class AlertAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)


class ShelveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)
    until: int | str | None = Field(None, description="RFC 3339 or epoch ms; or give for_seconds")
    for_seconds: int | None = Field(None, ge=60, le=90 * 86_400)


AlertStateQ = Literal["open", "acknowledged", "shelved", "resolved", "active"]
