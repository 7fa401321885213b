"""Shop recommendations, scorecards and spot checks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RecommendationPublic(BaseModel):
    shop_id: str
    name: str
    score: float
    distance_km: float
    reasons: list[str]


class ScorePoint(BaseModel):
    at_ms: int
    score: float


class ShopScorePublic(BaseModel):
    shop_id: str
    score: float | None
    at_ms: int | None
    components: dict[str, Any]
    reasons: list[Any]
    counts: dict[str, Any]
    history: list[ScorePoint]


class SpotCheckPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    job_id: str
    shop_id: str
    stage: str
    photo_id: str
    probability: float
    draw: float
    flagged: bool
    shop_score: float
    state: str
    inspector: str | None
    note: str | None
    decided_ms: int | None
    created_ms: int


class SpotCheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passed: bool
    note: str | None = Field(None, max_length=2000)
