"""Rehab tables beyond the plan itself: psychological check-ins with their recorded outcomes."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.state.schema import Base


class CheckIn(Base):
    __tablename__ = "checkins"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    held_ms: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(20))  # good | concern | referred | missed
    mood: Mapped[int | None] = mapped_column(Integer)  # 1..5, as the patient rated it
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
