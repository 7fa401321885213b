"""Rehab plans, adherence, safety rules and plan adjustments: pure logic, no storage.

* :class:`RehabPlanContent` is the plan a rehab manager approves (a pydantic model, stored as
  JSON): the medical part (exercises, walking, steps, heart-rate zone and cap), the
  psychological part (check-ins) and daily life (milestones), and how long the wearable may be
  off. :func:`default_plan` gives a conservative starting plan.
* :func:`adherence` compares what the days' metrics (:class:`monitor.signals.daily.DayMetrics`)
  show with what the plan prescribes.
* :func:`safety_alerts` turns the days' metrics into :class:`AlertCandidate` objects
  (heart rate over the cap, desaturation, fall, resting HR rising, HRV low, not worn); the
  alert lifecycle elsewhere deduplicates them by (kind, subject, at_ms).
* :func:`propose_adjustment` proposes a progression or a regression of the plan, with the
  changes and a rationale in numbers, for a rehab manager to accept or reject.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.signals.daily import DayMetrics
from monitor.signals.heart import sustained_above
from monitor.signals.trend import theil_sen_trend
from monitor.signals.zones import HrZone, karvonen

__all__ = [
    "ALERT_KINDS",
    "SAFETY_KINDS",
    "Adherence",
    "AlertCandidate",
    "CheckIn",
    "DailyLifePlan",
    "ExercisePrescription",
    "HrZone",
    "HrZoneIntensity",
    "MedicalPlan",
    "Milestone",
    "PlanChange",
    "Proposal",
    "PsychologicalPlan",
    "RehabPlanContent",
    "SafetyThresholds",
    "Tolerance",
    "adherence",
    "default_plan",
    "desaturation_alerts",
    "fall_alerts",
    "hr_over_cap_alerts",
    "hrv_low_alert",
    "karvonen",
    "not_worn_alerts",
    "propose_adjustment",
    "resting_hr_rising_alert",
    "safety_alerts",
    "tolerance",
]

logger = logging.getLogger(__name__)

MS_PER_DAY = 86_400_000
SAFETY_KINDS = frozenset({"hr_over_cap", "desaturation", "fall", "resting_hr_rising", "hrv_low"})
ALERT_KINDS = SAFETY_KINDS | {"not_worn"}
Severity = Literal["info", "warning", "critical"]


# --------------------------------------------------------------------------- the plan


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExercisePrescription(_Frozen):
    """One prescribed exercise, e.g. ``knee_flexion`` 3 x 12 twice a day to 90 degrees."""

    name: str = Field(min_length=1, max_length=64)
    sets: int = Field(ge=1, le=10)
    reps: int = Field(ge=1, le=50)
    target_rom_deg: float = Field(ge=0, le=160)
    sessions_per_day: int = Field(ge=0, le=10)


class HrZoneIntensity(_Frozen):
    """The target heart-rate zone as Karvonen intensities (fractions of the HR reserve)."""

    lo: float = Field(ge=0, le=1)
    hi: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> HrZoneIntensity:
        if self.lo > self.hi:
            raise ValueError(f"hr_zone.lo must not exceed hr_zone.hi: {self.lo} > {self.hi}")
        return self


class MedicalPlan(_Frozen):
    """What the body should do each day, and the heart-rate limits (bpm)."""

    exercises: tuple[ExercisePrescription, ...] = ()
    walking_minutes_per_day: float = Field(ge=0, le=600)
    daily_step_target: int = Field(ge=0, le=50_000)
    hr_zone: HrZoneIntensity
    hr_cap_bpm: float = Field(gt=0, le=250)
    resting_hr_bpm: float = Field(gt=20, le=150)
    max_hr_bpm: float = Field(gt=40, le=250)

    @model_validator(mode="after")
    def _hr_order(self) -> MedicalPlan:
        if self.max_hr_bpm <= self.resting_hr_bpm:
            raise ValueError(f"max_hr_bpm must exceed resting_hr_bpm: {self.max_hr_bpm} <= {self.resting_hr_bpm}")
        return self


class CheckIn(_Frozen):
    """A recurring psychological check-in."""

    every_days: int = Field(ge=1, le=365)
    next_date: date


class PsychologicalPlan(_Frozen):
    check_ins: CheckIn


class Milestone(_Frozen):
    """A daily-life goal, e.g. climbing stairs without help by a date."""

    name: str = Field(min_length=1, max_length=200)
    target_date: date
    done: bool = False


class DailyLifePlan(_Frozen):
    milestones: tuple[Milestone, ...] = ()


class RehabPlanContent(_Frozen):
    """A rehab plan's content, stored as JSON (``model_dump(mode="json")``)."""

    schema_version: int = 1
    medical: MedicalPlan
    psychological: PsychologicalPlan
    daily_life: DailyLifePlan
    max_nonwear_hours: float = Field(default=4.0, gt=0, le=72)

    def zone_bpm(self) -> HrZone:
        """The target zone in bpm (Karvonen from the plan's resting and maximum HR)."""
        m = self.medical
        return karvonen(m.resting_hr_bpm, m.max_hr_bpm, m.hr_zone.lo, m.hr_zone.hi)


def default_plan(resting_hr: float, max_hr: float, *, start: date | None = None) -> RehabPlanContent:
    """A conservative starting plan after a knee injury.

    Knee flexion 3 x 10 twice a day towards 90 degrees, 20 minutes of walking and 4000 steps a
    day, a zone of 30-50 % of the heart-rate reserve, a cap at 70 % of it, weekly check-ins and
    milestones at 4, 6 and 12 weeks.
    """
    day0 = start or datetime.now(UTC).date()
    cap = resting_hr + 0.7 * (max_hr - resting_hr)
    return RehabPlanContent(
        medical=MedicalPlan(
            exercises=(
                ExercisePrescription(
                    name="knee_flexion", sets=3, reps=10, target_rom_deg=90.0, sessions_per_day=2
                ),
            ),
            walking_minutes_per_day=20.0,
            daily_step_target=4000,
            hr_zone=HrZoneIntensity(lo=0.3, hi=0.5),
            hr_cap_bpm=round(cap),
            resting_hr_bpm=resting_hr,
            max_hr_bpm=max_hr,
        ),
        psychological=PsychologicalPlan(check_ins=CheckIn(every_days=7, next_date=day0 + timedelta(days=7))),
        daily_life=DailyLifePlan(
            milestones=(
                Milestone(name="walk without crutches", target_date=day0 + timedelta(weeks=4)),
                Milestone(name="climb stairs without help", target_date=day0 + timedelta(weeks=6)),
                Milestone(name="return to work", target_date=day0 + timedelta(weeks=12)),
            )
        ),
        max_nonwear_hours=4.0,
    )


# --------------------------------------------------------------------------- adherence


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


# --------------------------------------------------------------------------- safety


@dataclass(frozen=True, slots=True)
class AlertCandidate:
    """A condition that may need an alert: ``kind`` (see ``ALERT_KINDS``), the patient or
    device it is about, ``severity``, a message in numbers, when (epoch ms) and the value."""

    kind: str
    subject: str
    severity: Severity
    message: str
    at_ms: int
    value: float | None


@dataclass(frozen=True, slots=True)
class SafetyThresholds:
    """Tunable limits of the safety rules."""

    hr_over_cap_min_s: float = 60.0
    resting_hr_trend_days: int = 7
    resting_hr_min_days: int = 5
    resting_hr_slope_bpm_per_day: float = 0.5
    hrv_low_fraction: float = 0.7
    hrv_baseline_days: int = 14
    hrv_baseline_min_days: int = 3
    desaturation_critical_pct: float = 85.0


def hr_over_cap_alerts(
    plan: RehabPlanContent,
    days: Sequence[DayMetrics],
    *,
    subject: str,
    hr_series: tuple[ArrayLike, ArrayLike] | None = None,
    min_duration_s: float = 60.0,
) -> list[AlertCandidate]:
    """Heart rate above ``plan.medical.hr_cap_bpm`` for at least ``min_duration_s``.

    With the raw heart-rate series every episode is found; without it, a day whose
    ``max_hr_sustained`` (held 60 s) exceeds the cap raises one alert, which is only exact for
    ``min_duration_s <= 60``.
    """
    cap = plan.medical.hr_cap_bpm
    alerts: list[AlertCandidate] = []
    if hr_series is not None:
        for ep in sustained_above(*hr_series, cap, min_duration_s=min_duration_s):
            alerts.append(
                AlertCandidate(
                    kind="hr_over_cap",
                    subject=subject,
                    severity="warning",
                    message=f"heart rate above the {cap:.0f} bpm cap for {ep.duration_s:.0f} s "
                    f"(peak {ep.peak_bpm:.0f} bpm)",
                    at_ms=ep.start_ms,
                    value=ep.peak_bpm,
                )
            )
        return alerts
    if min_duration_s > 60:
        logger.warning("hr_over_cap for %s s needs the heart-rate series; day metrics hold 60 s", min_duration_s)
    for d in days:
        if d.max_hr_sustained is not None and d.max_hr_sustained > cap and d.max_hr_sustained_at_ms is not None:
            alerts.append(
                AlertCandidate(
                    kind="hr_over_cap",
                    subject=subject,
                    severity="warning",
                    message=f"heart rate held {d.max_hr_sustained:.0f} bpm for 60 s, above the {cap:.0f} bpm cap",
                    at_ms=d.max_hr_sustained_at_ms,
                    value=d.max_hr_sustained,
                )
            )
    return alerts


def desaturation_alerts(
    days: Sequence[DayMetrics], *, subject: str, critical_pct: float = 85.0
) -> list[AlertCandidate]:
    """One alert per desaturation event; critical when the nadir is below ``critical_pct``."""
    return [
        AlertCandidate(
            kind="desaturation",
            subject=subject,
            severity="critical" if e.nadir_pct < critical_pct else "warning",
            message=f"SpO2 down to {e.nadir_pct:.0f} % for {e.duration_s:.0f} s "
            f"(baseline {e.baseline_pct:.0f} %)",
            at_ms=e.start_ms,
            value=e.nadir_pct,
        )
        for d in days
        for e in d.desaturations
    ]


def fall_alerts(days: Sequence[DayMetrics], *, subject: str) -> list[AlertCandidate]:
    """One critical alert per detected fall."""
    alerts = []
    for d in days:
        for f in d.falls:
            posture = (
                f", posture changed {f.orientation_change_deg:.0f} deg"
                if f.orientation_change_deg is not None
                else ""
            )
            alerts.append(
                AlertCandidate(
                    kind="fall",
                    subject=subject,
                    severity="critical",
                    message=f"fall detected: impact {f.peak_g:.1f} g, then lying still{posture}",
                    at_ms=f.at_ms,
                    value=f.peak_g,
                )
            )
    return alerts


def _day_x(days: Sequence[DayMetrics]) -> list[float]:
    """Day positions for trends: the day start in days, or the index when unknown."""
    return [d.day_start_ms / MS_PER_DAY if d.day_start_ms is not None else float(i) for i, d in enumerate(days)]


def resting_hr_rising_alert(
    days: Sequence[DayMetrics],
    *,
    subject: str,
    window_days: int = 7,
    min_days: int = 5,
    slope_bpm_per_day: float = 0.5,
) -> AlertCandidate | None:
    """Resting HR rising over the last ``window_days``: the lower bound of the 95 % confidence
    interval of the Theil-Sen slope exceeds ``slope_bpm_per_day`` (so the rise is not noise)."""
    recent = list(days)[-window_days:]
    pts = [(x, d.resting_hr) for x, d in zip(_day_x(recent), recent, strict=True) if d.resting_hr is not None]
    if len(pts) < min_days:
        return None
    trend = theil_sen_trend([p[0] for p in pts], [p[1] for p in pts])
    if trend is None or trend.slope_lo <= slope_bpm_per_day:
        return None
    last = recent[-1]
    return AlertCandidate(
        kind="resting_hr_rising",
        subject=subject,
        severity="warning",
        message=f"resting heart rate rising {trend.slope:+.1f} bpm/day over {len(pts)} days "
        f"(95 % CI {trend.slope_lo:+.1f} to {trend.slope_hi:+.1f})",
        at_ms=last.day_start_ms or 0,
        value=trend.slope,
    )


def hrv_low_alert(
    days: Sequence[DayMetrics],
    *,
    subject: str,
    baseline_rmssd_ms: float | None = None,
    fraction: float = 0.7,
    baseline_days: int = 14,
    baseline_min_days: int = 3,
) -> AlertCandidate | None:
    """The last day's RMSSD below ``fraction`` of the baseline: the one passed, or the median
    RMSSD of up to ``baseline_days`` earlier days (at least ``baseline_min_days``)."""
    if not days or days[-1].rmssd_ms is None:
        return None
    latest = days[-1].rmssd_ms
    if baseline_rmssd_ms is None:
        earlier = [d.rmssd_ms for d in list(days)[-baseline_days - 1 : -1] if d.rmssd_ms is not None]
        if len(earlier) < baseline_min_days:
            return None
        baseline_rmssd_ms = float(np.median(earlier))
    if latest >= fraction * baseline_rmssd_ms:
        return None
    return AlertCandidate(
        kind="hrv_low",
        subject=subject,
        severity="warning",
        message=f"HRV (RMSSD) {latest:.0f} ms is {100 * latest / baseline_rmssd_ms:.0f} % of the "
        f"{baseline_rmssd_ms:.0f} ms baseline (limit {100 * fraction:.0f} %)",
        at_ms=days[-1].day_start_ms or 0,
        value=latest,
    )


def not_worn_alerts(plan: RehabPlanContent, days: Sequence[DayMetrics], *, subject: str) -> list[AlertCandidate]:
    """Every stretch without data longer than ``plan.max_nonwear_hours``."""
    limit = plan.max_nonwear_hours
    return [
        AlertCandidate(
            kind="not_worn",
            subject=subject,
            severity="warning",
            message=f"no data for {g.hours:.1f} h (limit {limit:g} h)",
            at_ms=g.start_ms,
            value=g.hours,
        )
        for d in days
        for g in d.nonwear_gaps
        if g.hours > limit
    ]


def safety_alerts(
    plan: RehabPlanContent,
    days: Sequence[DayMetrics],
    *,
    subject: str,
    hr_series: tuple[ArrayLike, ArrayLike] | None = None,
    baseline_rmssd_ms: float | None = None,
    thresholds: SafetyThresholds | None = None,
) -> list[AlertCandidate]:
    """All safety rules over ``days`` (oldest first), sorted by time.

    Event rules (HR over cap, desaturation, fall, not worn) report every event of every day
    given; trend rules (resting HR rising, HRV low) judge the last days.
    """
    th = thresholds or SafetyThresholds()
    alerts = [
        *hr_over_cap_alerts(plan, days, subject=subject, hr_series=hr_series, min_duration_s=th.hr_over_cap_min_s),
        *desaturation_alerts(days, subject=subject, critical_pct=th.desaturation_critical_pct),
        *fall_alerts(days, subject=subject),
        *not_worn_alerts(plan, days, subject=subject),
    ]
    rising = resting_hr_rising_alert(
        days,
        subject=subject,
        window_days=th.resting_hr_trend_days,
        min_days=th.resting_hr_min_days,
        slope_bpm_per_day=th.resting_hr_slope_bpm_per_day,
    )
    low = hrv_low_alert(
        days,
        subject=subject,
        baseline_rmssd_ms=baseline_rmssd_ms,
        fraction=th.hrv_low_fraction,
        baseline_days=th.hrv_baseline_days,
        baseline_min_days=th.hrv_baseline_min_days,
    )
    alerts.extend(a for a in (rising, low) if a is not None)
    return sorted(alerts, key=lambda a: (a.at_ms, a.kind))


# --------------------------------------------------------------------------- plan adjustment


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
