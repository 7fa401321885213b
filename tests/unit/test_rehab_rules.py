"""Rehab plan model, adherence, safety rules and plan adjustment proposals."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from monitor.rehab.adherence import adherence
from monitor.rehab.adjustment import propose_adjustment
from monitor.rehab.plan import RehabPlanContent, default_plan
from monitor.rehab.safety import (
    ALERT_KINDS,
    SafetyThresholds,
    hr_over_cap_alerts,
    hrv_low_alert,
    resting_hr_rising_alert,
    safety_alerts,
)
from monitor.signals.daily import DayMetrics, compute_day_metrics
from monitor.signals.exercise import ExerciseSession, ExerciseSet
from monitor.signals.falls import Fall
from monitor.signals.heart import SessionHeartRate
from monitor.signals.spo2 import Desaturation
from monitor.signals.wear import Gap
from monitor.signals.zones import karvonen
from simulators.wearable_signals import PatientProfile, simulate_patient_day

DAY0 = 1_795_000_000_000 - 1_795_000_000_000 % 86_400_000
START = date(2026, 11, 24)


def _plan() -> RehabPlanContent:
    return default_plan(60.0, 180.0, start=START)  # zone 96-120 bpm, cap 144 bpm


def _session(start_ms: int, reps: int, rom: float) -> ExerciseSession:
    roms = tuple([rom] * reps)
    s = ExerciseSet(start_ms, start_ms + reps * 4000, reps, roms, rom, tuple(range(reps)))
    return ExerciseSession(start_ms, start_ms + reps * 4000, reps, roms, rom, (s,), "joint_angle")


def _day(
    i: int,
    *,
    reps: int = 30,
    sessions: int = 2,
    rom: float = 85.0,
    steps: int = 4500,
    walking: float = 25.0,
    session_hr: float = 105.0,
    recovery: float = 18.0,
    resting: float = 60.0,
    rmssd: float | None = 40.0,
    max_sustained: float = 125.0,
    **extra: Any,
) -> DayMetrics:
    start = DAY0 + i * 86_400_000
    ex = tuple(_session(start + (8 + 8 * k) * 3_600_000, reps, rom) for k in range(sessions))
    hr = tuple(
        SessionHeartRate(
            s.start_ms, s.end_ms, session_hr, session_hr + 8, session_hr + 5, session_hr + 5 - recovery, recovery
        )
        for s in ex
    )
    day = DayMetrics(
        day_start_ms=start,
        hr_source="heart_rate",
        resting_hr=resting,
        mean_hr=72.0,
        hr_recovery=hr,
        max_hr_sustained=max_sustained,
        max_hr_sustained_at_ms=start + 9 * 3_600_000,
        rmssd_ms=rmssd,
        sdnn_ms=80.0,
        steps=steps,
        walking_minutes=walking,
        exercise_sessions=ex,
        wear_hours=23.0,
    )
    return dataclasses.replace(day, **extra)


# --------------------------------------------------------------------------- plan


def test_default_plan_is_valid_json_round_trip() -> None:
    plan = _plan()
    text = plan.model_dump_json()
    assert RehabPlanContent.model_validate_json(text) == plan
    data = json.loads(text)
    assert data["medical"]["exercises"][0]["name"] == "knee_flexion"
    assert data["psychological"]["check_ins"]["next_date"] == "2026-12-01"
    assert plan.medical.hr_cap_bpm == 144
    assert tuple(plan.zone_bpm()) == pytest.approx(tuple(karvonen(60, 180, 0.3, 0.5)))
    assert plan.daily_life.milestones[0].target_date == date(2026, 12, 22)


def test_invalid_plans_rejected() -> None:
    data = _plan().model_dump(mode="json")
    bad_zone = json.loads(json.dumps(data))
    bad_zone["medical"]["hr_zone"] = {"lo": 0.6, "hi": 0.4}
    with pytest.raises(ValidationError, match="hr_zone"):
        RehabPlanContent.model_validate(bad_zone)
    bad_hr = json.loads(json.dumps(data))
    bad_hr["medical"]["max_hr_bpm"] = 50
    with pytest.raises(ValidationError, match="max_hr_bpm"):
        RehabPlanContent.model_validate(bad_hr)
    typo = json.loads(json.dumps(data))
    typo["medical"]["exercises"][0]["repz"] = 3
    with pytest.raises(ValidationError, match="repz"):
        RehabPlanContent.model_validate(typo)


# --------------------------------------------------------------------------- adherence


def test_adherence_full_partial_and_capped() -> None:
    plan = _plan()  # 2 sessions of 3 x 10 a day, 20 min walking, 4000 steps
    full = adherence(plan, [_day(i) for i in range(7)])
    assert full.days == 7
    assert full.sessions == pytest.approx(1.0)
    assert full.reps == pytest.approx(1.0)  # 2 x 30 done, 60 prescribed
    assert full.walking_minutes == pytest.approx(1.0)  # 25 min done, capped at 20
    assert full.steps == pytest.approx(1.0)
    assert full.overall == pytest.approx(1.0)
    assert json.loads(json.dumps(full.to_dict()))["days"] == 7
    half = adherence(plan, [_day(i, sessions=1, steps=2000, walking=10) for i in range(4)])
    assert half.sessions == pytest.approx(0.5)
    assert half.reps == pytest.approx(0.5)
    assert half.steps == pytest.approx(0.5)
    assert half.overall == pytest.approx(0.5)


def test_adherence_missing_data_counts_as_not_done() -> None:
    days = [_day(0), DayMetrics(day_start_ms=DAY0 + 86_400_000)]
    a = adherence(_plan(), days)
    assert a.steps == pytest.approx(0.5)
    assert a.sessions == pytest.approx(0.5)
    empty = adherence(_plan(), [])
    assert empty.overall is None
    assert empty.days == 0


# --------------------------------------------------------------------------- safety


def test_hr_over_cap_from_series_and_from_days() -> None:
    plan = _plan()
    t = DAY0 + np.arange(600) * 1000
    hr = np.full(600, 100.0)
    hr[100:190] = 150.0  # 90 s over the 144 cap
    hr[300:330] = 150.0  # 30 s
    alerts = hr_over_cap_alerts(plan, [], subject="p1", hr_series=(t, hr))
    assert [a.at_ms for a in alerts] == [DAY0 + 100_000]
    assert alerts[0].value == 150.0
    short = hr_over_cap_alerts(plan, [], subject="p1", hr_series=(t, hr), min_duration_s=20)
    assert len(short) == 2
    from_days = hr_over_cap_alerts(plan, [_day(0, max_sustained=150.0), _day(1)], subject="p1")
    assert len(from_days) == 1
    assert from_days[0].kind == "hr_over_cap"


def test_event_alerts_desaturation_fall_not_worn() -> None:
    desats = (
        Desaturation(DAY0 + 1000, DAY0 + 31_000, 88.0, DAY0 + 15_000, 97.0),
        Desaturation(DAY0 + 90_000, DAY0 + 120_000, 82.0, DAY0 + 100_000, 97.0),
    )
    falls = (Fall(DAY0 + 50_000, 4.2, 85.0, DAY0 + 51_000),)
    gaps = (Gap(DAY0 + 200_000, DAY0 + 200_000 + 5 * 3_600_000, 5.0), Gap(DAY0, DAY0 + 3_600_000, 1.0))
    day = _day(0, desaturations=desats, falls=falls, nonwear_gaps=gaps)
    alerts = safety_alerts(_plan(), [day], subject="patient-7")
    kinds = [(a.kind, a.severity) for a in alerts]
    assert kinds == [
        ("desaturation", "warning"),
        ("fall", "critical"),
        ("desaturation", "critical"),
        ("not_worn", "warning"),
    ]
    assert all(a.subject == "patient-7" and a.kind in ALERT_KINDS for a in alerts)
    assert "88 %" in alerts[0].message
    assert "4.2 g" in alerts[1].message
    assert alerts[3].value == 5.0


def test_resting_hr_rising_needs_a_confident_slope() -> None:
    rng = np.random.default_rng(0)
    rising = [_day(i, resting=60 + 1.5 * i + float(rng.normal(0, 0.5))) for i in range(7)]
    alert = resting_hr_rising_alert(rising, subject="p")
    assert alert is not None
    assert alert.value is not None
    assert alert.value == pytest.approx(1.5, abs=0.3)
    assert "bpm/day" in alert.message
    flat = [_day(i, resting=60 + float(rng.normal(0, 1.5))) for i in range(7)]
    assert resting_hr_rising_alert(flat, subject="p") is None
    assert resting_hr_rising_alert(rising[:3], subject="p") is None  # too few days


def test_hrv_low_against_own_or_given_baseline() -> None:
    days = [_day(i, rmssd=40.0) for i in range(5)] + [_day(5, rmssd=25.0)]
    alert = hrv_low_alert(days, subject="p")
    assert alert is not None
    assert alert.value == 25.0
    assert "62 %" in alert.message
    assert hrv_low_alert(days, subject="p", baseline_rmssd_ms=30.0) is None
    assert hrv_low_alert(days[-2:], subject="p") is None  # no baseline yet
    assert hrv_low_alert([_day(0, rmssd=None)], subject="p", baseline_rmssd_ms=40.0) is None


def test_safety_alerts_on_a_simulated_day() -> None:
    sim = simulate_patient_day(51, day_start_ms=DAY0, profile=PatientProfile(falls=1))
    plan = _plan()
    day = compute_day_metrics(
        sim.series,
        zone=plan.zone_bpm(),
        resting_hr_baseline=None,
        spo2_baseline=None,
        day_bounds_ms=(DAY0, DAY0 + 86_400_000),
    )
    alerts = safety_alerts(plan, [day], subject="p", thresholds=SafetyThresholds())
    kinds = [a.kind for a in alerts]
    assert kinds.count("fall") == 1
    assert kinds.count("desaturation") == len(sim.truth.desaturations)
    assert "not_worn" not in kinds  # the simulated gap is under 4 h
    assert [a.at_ms for a in alerts] == sorted(a.at_ms for a in alerts)


# --------------------------------------------------------------------------- proposals


def test_progression_after_a_good_week() -> None:
    plan = _plan()
    days = [_day(i, rom=80.0 + 1.5 * i, steps=4500, walking=25) for i in range(7)]
    proposal = propose_adjustment(plan, days, open_alert_kinds=set())
    assert proposal is not None
    assert proposal.direction == "progression"
    changes = {c.path: (c.old, c.new) for c in proposal.changes}
    assert changes["medical.exercises[0].reps"] == (10, 12)
    assert changes["medical.daily_step_target"] == (4000, 4400)
    assert changes["medical.walking_minutes_per_day"] == (20.0, 25.0)
    assert changes["medical.exercises[0].target_rom_deg"] == (90.0, 95.0)  # ROM 88 reached 90 - 5
    assert proposal.new_plan.medical.exercises[0].reps == 12
    assert proposal.new_plan.medical.daily_step_target == 4400
    assert proposal.rationale.startswith("adherence 100 % over 7 days, all sessions in zone, ROM +")
    assert "knee_flexion reps 10 -> 12" in proposal.rationale
    assert plan.medical.exercises[0].reps == 10  # the original plan is untouched


def test_not_enough_data_no_proposal() -> None:
    assert propose_adjustment(_plan(), [_day(i) for i in range(5)], open_alert_kinds=()) is None
    no_wear = [_day(i) for i in range(4)] + [DayMetrics(day_start_ms=DAY0 + i * 86_400_000) for i in range(4, 7)]
    assert propose_adjustment(_plan(), no_wear, open_alert_kinds=()) is None


def test_low_adherence_alone_changes_nothing() -> None:
    days = [_day(i, sessions=0, steps=800, walking=2) for i in range(7)]
    assert propose_adjustment(_plan(), days, open_alert_kinds=()) is None


def test_regression_on_open_safety_alert_even_with_little_data() -> None:
    plan = _plan()
    proposal = propose_adjustment(plan, [_day(0), _day(1)], open_alert_kinds={"fall", "not_worn"})
    assert proposal is not None
    assert proposal.direction == "regression"
    changes = {c.path: (c.old, c.new) for c in proposal.changes}
    assert changes["medical.exercises[0].reps"] == (10, 8)
    assert changes["medical.daily_step_target"] == (4000, 3600)
    assert changes["medical.walking_minutes_per_day"] == (20.0, 16.0)
    assert "medical.hr_zone.hi" not in changes  # a fall is not a heart-rate problem
    assert proposal.rationale.startswith("open alerts: fall: ")


def test_regression_on_poor_tolerance() -> None:
    plan = _plan()  # zone top 120 bpm, cap 144
    days = [_day(i, session_hr=135.0, recovery=8.0) for i in range(7)]
    proposal = propose_adjustment(plan, days, open_alert_kinds=())
    assert proposal is not None
    assert proposal.direction == "regression"
    changes = {c.path: (c.old, c.new) for c in proposal.changes}
    assert changes["medical.hr_zone.hi"] == (0.5, 0.45)
    assert "14 of 14 sessions above the 120 bpm zone top" in proposal.rationale
    assert "HR recovery 8 bpm/min" in proposal.rationale
    assert proposal.new_plan.zone_bpm().hi_bpm == pytest.approx(114.0)


def test_no_proposal_when_everything_is_at_its_limit() -> None:
    data = _plan().model_dump(mode="json")
    data["medical"]["exercises"][0].update(reps=20, sets=5, target_rom_deg=140.0)
    data["medical"]["walking_minutes_per_day"] = 120.0
    data["medical"]["daily_step_target"] = 15_000
    plan = RehabPlanContent.model_validate(data)
    days = [_day(i, reps=100, steps=20_000, walking=150, rom=140.0) for i in range(7)]
    assert propose_adjustment(plan, days, open_alert_kinds=()) is None
