"""Repair tables beyond jobs and photos: spot checks and the shops' scores over time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.state.schema import Base


class SpotCheck(Base):
    """A checkpoint photo sampled for an inspector's review, with why and how it was drawn (auditable)."""

    __tablename__ = "spot_checks"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    shop_id: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    photo_id: Mapped[str] = mapped_column(String(40), unique=True)
    probability: Mapped[float] = mapped_column(Float)
    draw: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean)
    shop_score: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(20), index=True)  # pending | passed | failed
    inspector: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    decided_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class ShopScoreRow(Base):
    """A shop's score as computed at one time; the newest row is the current score."""

    __tablename__ = "shop_scores"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    shop_id: Mapped[str] = mapped_column(String(64), index=True)
    at_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    score: Mapped[float] = mapped_column(Float)
    components: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
