"""Adherence: how much of what the plan prescribes the days' metrics show done."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.rehab.plan import RehabPlanContent
from monitor.signals.daily import DayMetrics

__all__ = ["Adherence", "adherence"]


@dataclass(frozen=True, slots=True)
class Adherence:
    """Share (0..1) of the prescribed sessions, reps, walking minutes and steps that were done
    over ``days`` days (each day capped at its prescription); None when nothing is prescribed
    or no days were given. ``overall`` is the mean of the available shares."""

    days: int
    sessions: float | None
    reps: float | None
    walking_minutes: float | None
    steps: float | None
    overall: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        return dataclasses.asdict(self)


def _share(done: Sequence[float], per_day: float) -> float | None:
    if per_day <= 0 or not done:
        return None
    return float(np.mean(np.minimum(np.asarray(done, dtype=np.float64), per_day)) / per_day)


def adherence(plan: RehabPlanContent, days: Sequence[DayMetrics]) -> Adherence:
    """How much of the plan the days show done (missing data counts as not done)."""
    m = plan.medical
    sessions_per_day = max((e.sessions_per_day for e in m.exercises), default=0)
    reps_per_day = sum(e.sets * e.reps * e.sessions_per_day for e in m.exercises)
    shares = {
        "sessions": _share([len(d.exercise_sessions) for d in days], sessions_per_day),
        "reps": _share([d.session_reps for d in days], reps_per_day),
        "walking_minutes": _share([d.walking_minutes or 0.0 for d in days], m.walking_minutes_per_day),
        "steps": _share([d.steps or 0 for d in days], m.daily_step_target),
    }
    known = [v for v in shares.values() if v is not None]
    return Adherence(days=len(days), overall=float(np.mean(known)) if known else None, **shares)
