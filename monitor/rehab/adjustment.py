"""Plan adjustment: a progression or a regression of the plan, with the changes and a rationale
in numbers, proposed for a rehab manager to accept or reject."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from monitor.rehab.adherence import Adherence, adherence
from monitor.rehab.plan import RehabPlanContent
from monitor.rehab.safety import SAFETY_KINDS
from monitor.signals.daily import DayMetrics

__all__ = ["PlanChange", "Proposal", "Tolerance", "propose_adjustment", "tolerance"]

logger = logging.getLogger(__name__)


class PlanChange(NamedTuple):
    """One changed plan value: its path in the plan JSON, the old and the new value."""

    path: str
    old: float | int
    new: float | int


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed plan adjustment for a rehab manager to accept or reject."""

    direction: Literal["progression", "regression"]
    changes: tuple[PlanChange, ...]
    new_plan: RehabPlanContent
    rationale: str


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How the patient bore the exercise: sessions with HR above the zone or the cap, the
    highest session HR (bpm), mean HR recovery (bpm) and days over the cap for 60 s."""

    sessions: int
    above_zone: int
    above_cap: int
    max_session_hr: float | None
    mean_recovery_bpm: float | None
    days_over_cap: int

    def poor(self, min_recovery_bpm: float) -> bool:
        """Poor when any session or day went over the cap, most sessions went above the zone,
        or heart rate recovered less than ``min_recovery_bpm`` a minute after sessions."""
        return (
            self.above_cap > 0
            or self.days_over_cap > 0
            or (self.sessions > 0 and self.above_zone > self.sessions / 2)
            or (self.mean_recovery_bpm is not None and self.mean_recovery_bpm < min_recovery_bpm)
        )


def tolerance(plan: RehabPlanContent, days: Sequence[DayMetrics], *, min_recoveries: int = 3) -> Tolerance:
    """Heart-rate tolerance of the days' exercise sessions against the plan's zone and cap."""
    cap = plan.medical.hr_cap_bpm
    hi = plan.zone_bpm().hi_bpm
    sessions = [s for d in days for s in d.hr_recovery]
    means = [s.mean_bpm for s in sessions if s.mean_bpm is not None]
    maxima = [s.max_bpm for s in sessions if s.max_bpm is not None]
    recoveries = [s.recovery_bpm for s in sessions if s.recovery_bpm is not None]
    return Tolerance(
        sessions=len(sessions),
        above_zone=sum(1 for m in means if m > hi),
        above_cap=sum(1 for m in maxima if m > cap),
        max_session_hr=max(maxima) if maxima else None,
        mean_recovery_bpm=float(np.mean(recoveries)) if len(recoveries) >= min_recoveries else None,
        days_over_cap=sum(1 for d in days if d.max_hr_sustained is not None and d.max_hr_sustained > cap),
    )


def _rom_change(days: Sequence[DayMetrics]) -> float | None:
    """Mean ROM of the later half of the days with sessions minus the earlier half (degrees)."""
    roms = [d.mean_rom_deg for d in days if d.mean_rom_deg is not None]
    if len(roms) < 2:
        return None
    half = len(roms) // 2
    return float(np.mean(roms[-half:]) - np.mean(roms[:half]))


def _round_to(value: float, step: int) -> int:
    return int(step * round(value / step))


def _with_changes(plan: RehabPlanContent, changes: list[PlanChange]) -> RehabPlanContent:
    """A copy of the plan with the changes applied (paths as produced by this module)."""
    data = plan.model_dump(mode="json")
    for change in changes:
        node: Any = data
        parts = change.path.replace("]", "").replace("[", ".").split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        node[parts[-1]] = change.new
    return RehabPlanContent.model_validate(data)


def _regression(plan: RehabPlanContent, hr_related: bool) -> tuple[list[PlanChange], list[str]]:
    m = plan.medical
    changes: list[PlanChange] = []
    said: list[str] = []
    for i, e in enumerate(m.exercises):
        if e.reps > 5:
            new = max(5, e.reps - 2)
            changes.append(PlanChange(f"medical.exercises[{i}].reps", e.reps, new))
            said.append(f"{e.name} reps {e.reps} -> {new}")
        elif e.sets > 1:
            changes.append(PlanChange(f"medical.exercises[{i}].sets", e.sets, e.sets - 1))
            said.append(f"{e.name} sets {e.sets} -> {e.sets - 1}")
    if m.walking_minutes_per_day > 5:
        new_min = max(5.0, float(round(m.walking_minutes_per_day * 0.8)))
        changes.append(PlanChange("medical.walking_minutes_per_day", m.walking_minutes_per_day, new_min))
        said.append(f"walking {m.walking_minutes_per_day:g} -> {new_min:g} min")
    if m.daily_step_target > 1000:
        new_steps = max(1000, _round_to(m.daily_step_target * 0.9, 100))
        changes.append(PlanChange("medical.daily_step_target", m.daily_step_target, new_steps))
        said.append(f"steps {m.daily_step_target} -> {new_steps}")
    if hr_related and m.hr_zone.hi - 0.05 >= m.hr_zone.lo:
        new_hi = round(m.hr_zone.hi - 0.05, 2)
        changes.append(PlanChange("medical.hr_zone.hi", m.hr_zone.hi, new_hi))
        said.append(f"zone top {100 * m.hr_zone.hi:.0f} -> {100 * new_hi:.0f} % of HR reserve")
    return changes, said


def _progression(
    plan: RehabPlanContent, days: Sequence[DayMetrics], adh: Adherence
) -> tuple[list[PlanChange], list[str]]:
    m = plan.medical
    changes: list[PlanChange] = []
    said: list[str] = []
    if adh.reps is not None and adh.reps >= 0.85:
        for i, e in enumerate(m.exercises):
            if e.reps < 20:
                new = min(20, e.reps + 2)
                changes.append(PlanChange(f"medical.exercises[{i}].reps", e.reps, new))
                said.append(f"{e.name} reps {e.reps} -> {new}")
            elif e.sets < 5:
                changes.append(PlanChange(f"medical.exercises[{i}].sets", e.sets, e.sets + 1))
                said.append(f"{e.name} sets {e.sets} -> {e.sets + 1}")
    roms = [d.mean_rom_deg for d in days[-3:] if d.mean_rom_deg is not None]
    if roms:
        recent_rom = float(np.mean(roms))
        for i, e in enumerate(m.exercises):
            if recent_rom >= e.target_rom_deg - 5 and e.target_rom_deg < 140:
                new_rom = min(140.0, e.target_rom_deg + 5)
                changes.append(PlanChange(f"medical.exercises[{i}].target_rom_deg", e.target_rom_deg, new_rom))
                said.append(f"{e.name} target ROM {e.target_rom_deg:g} -> {new_rom:g} deg (now {recent_rom:.0f})")
    if adh.walking_minutes is not None and adh.walking_minutes >= 0.9 and m.walking_minutes_per_day < 120:
        new_min = min(120.0, m.walking_minutes_per_day + 5)
        changes.append(PlanChange("medical.walking_minutes_per_day", m.walking_minutes_per_day, new_min))
        said.append(f"walking {m.walking_minutes_per_day:g} -> {new_min:g} min")
    if adh.steps is not None and adh.steps >= 0.9 and m.daily_step_target < 15_000:
        new_steps = min(15_000, _round_to(m.daily_step_target * 1.1, 100))
        changes.append(PlanChange("medical.daily_step_target", m.daily_step_target, new_steps))
        said.append(f"steps {m.daily_step_target} -> {new_steps}")
    return changes, said


def propose_adjustment(
    plan: RehabPlanContent,
    days: Sequence[DayMetrics],
    open_alert_kinds: Collection[str],
    *,
    min_days: int = 7,
    min_adherence: float = 0.85,
    min_recovery_bpm: float = 12.0,
) -> Proposal | None:
    """Propose a progression or a regression of the plan from the last ``min_days`` days.

    Regression: any open safety alert (HR over cap, desaturation, fall, resting HR rising, HRV
    low) or poor tolerance (:meth:`Tolerance.poor`): fewer reps, less walking, fewer steps, and
    a lower zone top when heart rate was the problem. Progression: at least ``min_days`` days
    with data, overall adherence at least ``min_adherence`` and good tolerance: more reps, a
    higher ROM target once reached, more walking and steps where those targets were met. None
    when there is not enough data, when adherence is too low to judge the plan, or when nothing
    would change.
    """
    recent = list(days)[-min_days:]
    with_data = [d for d in recent if d.wear_hours > 0]
    safety = sorted(SAFETY_KINDS.intersection(open_alert_kinds))
    tol = tolerance(plan, with_data)
    zone = plan.zone_bpm()
    if safety or (with_data and tol.poor(min_recovery_bpm)):
        reasons: list[str] = []
        if safety:
            reasons.append("open alerts: " + ", ".join(safety))
        if tol.above_cap or tol.days_over_cap:
            reasons.append(
                f"HR over the {plan.medical.hr_cap_bpm:.0f} bpm cap in {tol.above_cap} sessions "
                f"and on {tol.days_over_cap} days"
            )
        if tol.sessions and tol.above_zone > tol.sessions / 2:
            reasons.append(f"{tol.above_zone} of {tol.sessions} sessions above the {zone.hi_bpm:.0f} bpm zone top")
        if tol.mean_recovery_bpm is not None and tol.mean_recovery_bpm < min_recovery_bpm:
            reasons.append(f"HR recovery {tol.mean_recovery_bpm:.0f} bpm/min (< {min_recovery_bpm:.0f})")
        hr_related = bool({"hr_over_cap", "resting_hr_rising"} & set(safety)) or tol.poor(min_recovery_bpm)
        changes, said = _regression(plan, hr_related)
        direction: Literal["progression", "regression"] = "regression"
        rationale = "; ".join(reasons) + ": " + ", ".join(said)
    else:
        if len(with_data) < min_days:
            logger.debug("no proposal: %s of %s days with data", len(with_data), min_days)
            return None
        adh = adherence(plan, with_data)
        if adh.overall is None or adh.overall < min_adherence:
            return None
        changes, said = _progression(plan, with_data, adh)
        head = [f"adherence {100 * adh.overall:.0f} % over {len(with_data)} days"]
        if tol.sessions:
            in_zone = "all sessions in zone" if tol.above_zone == 0 else f"{tol.above_zone} sessions above zone"
            head.append(in_zone)
        rom = _rom_change(with_data)
        if rom is not None:
            head.append(f"ROM {round(rom) + 0:+d} deg")  # + 0 turns -0 into 0
        direction = "progression"
        rationale = ", ".join(head) + ": " + ", ".join(said)
    if not changes:
        return None
    return Proposal(
        direction=direction,
        changes=tuple(changes),
        new_plan=_with_changes(plan, changes),
        rationale=rationale,
    )
