"""Reading the rehab monitor's daily metrics (`daily_metrics.metrics`) the way the case needs them.

The monitor stores each day's `DayMetrics.to_dict()` plus ``adherence`` (a dict whose ``overall``
is the share of the plan done, 0..1). Events such as ``falls`` and ``desaturations`` are lists of
the detected events. Older or hand-written rows may hold plain numbers instead (a count, a share
or a percentage); both shapes are read.
"""

from __future__ import annotations

import math
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.state.schema import DailyMetrics


def number(value: object) -> float | None:
    """A finite number, or None (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def adherence_of(metrics: dict[str, Any]) -> float | None:
    """The day's adherence as a share 0..1 (``overall`` of the dict, or a number; percentages scaled)."""
    value = metrics.get("adherence")
    if isinstance(value, dict):
        value = value.get("overall")
    share = number(value)
    if share is None:
        return None
    return share / 100.0 if share > 1.5 else share


def count_of(value: object) -> int:
    """How many events: the length of a list of detected events, or a count."""
    if isinstance(value, list | tuple):
        return len(value)
    n = number(value)
    return int(n) if n is not None and n > 0 else 0


def daily_rows(session: Session, patient_id: str) -> list[DailyMetrics]:
    return list(
        session.execute(
            select(DailyMetrics).where(DailyMetrics.patient_id == patient_id).order_by(DailyMetrics.day)
        ).scalars()
    )


def mean_adherence(session: Session, patient_id: str) -> float | None:
    """The mean daily adherence of the patient, None without data."""
    values = [a for r in daily_rows(session, patient_id) if (a := adherence_of(r.metrics or {})) is not None]
    return round(fmean(values), 3) if values else None
