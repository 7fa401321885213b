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


class SpotCheckShopPublic(BaseModel):
    """A spot check as its shop sees it: which checkpoint is to be inspected and the verdict, never how it was
    drawn (the draw and probability would let the shop learn which of its photos are likely to be checked)."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    job_id: str
    shop_id: str
    stage: str
    photo_id: str
    state: str
    inspector: str | None
    note: str | None
    decided_ms: int | None
    created_ms: int


class SpotCheckPublic(SpotCheckShopPublic):
    """A spot check as staff see it: with the draw that selected it, so the sampling can be audited."""

    probability: float
    draw: float
    flagged: bool
    shop_score: float


class SpotCheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passed: bool
    note: str | None = Field(None, max_length=2000)
