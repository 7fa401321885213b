"""The rehab plan a rehab manager approves: a pydantic model, stored as JSON.

:class:`RehabPlanContent` holds the medical part (exercises, walking, steps, heart-rate zone and
cap), the psychological part (check-ins) and daily life (milestones), and how long the wearable
may be off. :func:`default_plan` gives a conservative starting plan.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.signals.zones import HrZone, karvonen

__all__ = [
    "CheckIn",
    "DailyLifePlan",
    "ExercisePrescription",
    "HrZoneIntensity",
    "MedicalPlan",
    "Milestone",
    "PsychologicalPlan",
    "RehabPlanContent",
    "default_plan",
]


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
                ExercisePrescription(name="knee_flexion", sets=3, reps=10, target_rom_deg=90.0, sessions_per_day=2),
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
