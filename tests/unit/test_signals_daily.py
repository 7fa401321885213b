"""compute_day_metrics over simulated patient-days, missing and broken input, serialization."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.signals.daily import DayMetrics, compute_day_metrics
from monitor.signals.zones import karvonen
from simulators.wearable_signals import (
    PatientProfile,
    SimulatedDay,
    simulate_patient_day,
    simulate_ppg,
)

T0 = 1_795_000_000_000
DAY0 = T0 - T0 % 86_400_000
BOUNDS = (DAY0, DAY0 + 86_400_000)
ZONE = karvonen(62, 172, 0.3, 0.5)


@pytest.fixture(scope="module")
def day() -> SimulatedDay:
    return simulate_patient_day(41, day_start_ms=DAY0, profile=PatientProfile(falls=1))


@pytest.fixture(scope="module")
def metrics(day: SimulatedDay) -> DayMetrics:
    return compute_day_metrics(
        day.series, zone=ZONE, resting_hr_baseline=60.0, spo2_baseline=None, day_bounds_ms=BOUNDS
    )


def test_day_metrics_match_ground_truth(day: SimulatedDay, metrics: DayMetrics) -> None:
    truth = day.truth
    assert metrics.day_start_ms == DAY0
    assert metrics.hr_source == "heart_rate"
    assert metrics.resting_hr is not None
    assert abs(metrics.resting_hr - truth.resting_hr) < 2.5
    assert metrics.resting_hr_delta == pytest.approx(metrics.resting_hr - 60.0)
    assert metrics.mean_hr is not None
    assert 60 < metrics.mean_hr < 90
    assert metrics.rmssd_ms is not None
    assert abs(metrics.rmssd_ms - truth.rmssd_ms) / truth.rmssd_ms < 0.05
    assert metrics.sdnn_ms is not None
    assert abs(metrics.sdnn_ms - truth.sdnn_ms) / truth.sdnn_ms < 0.05
    assert metrics.steps is not None
    assert abs(metrics.steps - truth.steps) / truth.steps < 0.03
    assert metrics.cadence_spm is not None
    assert truth.cadence_spm is not None
    assert abs(metrics.cadence_spm - truth.cadence_spm) < 3
    assert metrics.active_minutes is not None
    assert metrics.walking_minutes is not None
    assert metrics.active_minutes >= 0.8 * metrics.walking_minutes
    assert len(metrics.desaturations) == len(truth.desaturations)
    assert metrics.minutes_below_90 is not None
    assert abs(metrics.minutes_below_90 - truth.minutes_below_90) < 1.0
    assert [f.at_ms for f in metrics.falls] == pytest.approx(list(truth.falls_ms), abs=1000)
    assert abs(metrics.wear_hours - truth.wear_hours) < 0.05
    assert len(metrics.nonwear_gaps) == len(truth.wear_gaps)
    assert metrics.max_hr_sustained is not None
    assert truth.max_hr_sustained is not None
    assert abs(metrics.max_hr_sustained - truth.max_hr_sustained) < 3
    assert metrics.hr_zone == pytest.approx(tuple(ZONE))
    assert metrics.spo2_median == pytest.approx(day.profile.spo2_baseline, abs=1)
    assert metrics.spo2_baseline == metrics.spo2_median  # none passed: the day's own median
    assert metrics.hr_zone_minutes is not None
    assert metrics.hr_zone_minutes > 10


def test_day_sessions_and_recovery(day: SimulatedDay, metrics: DayMetrics) -> None:
    assert len(metrics.exercise_sessions) == len(day.truth.sessions)
    assert len(metrics.hr_recovery) == len(metrics.exercise_sessions)
    for found, real, heart in zip(metrics.exercise_sessions, day.truth.sessions, metrics.hr_recovery, strict=True):
        assert [s.reps for s in found.sets] == [s.reps for s in real.sets]
        assert abs(found.mean_rom_deg - float(np.mean(real.rom_deg))) < 3
        assert heart.recovery_bpm is not None
        assert abs(heart.recovery_bpm - real.hr_recovery_bpm) < 3
    assert metrics.session_reps == sum(s.reps for s in day.truth.sessions)
    assert metrics.mean_rom_deg is not None


def test_to_dict_is_json_and_round_trips(metrics: DayMetrics) -> None:
    text = json.dumps(metrics.to_dict())
    back = DayMetrics.from_dict(json.loads(text))
    assert back == metrics
    assert DayMetrics.from_dict({**metrics.to_dict(), "a_future_field": 1}) == metrics


def test_heart_rate_falls_back_to_rr_then_ppg(day: SimulatedDay) -> None:
    without_hr = {k: v for k, v in day.series.items() if k != "heart_rate"}
    m = compute_day_metrics(without_hr, zone=None, resting_hr_baseline=None, spo2_baseline=None)
    assert m.hr_source == "rr_interval"
    assert m.resting_hr is not None
    assert abs(m.resting_hr - day.truth.resting_hr) < 2.5
    assert m.hr_zone_minutes is None
    curve = np.full(600, 75.0)
    t, ppg = simulate_ppg(1, start_ms=DAY0 + 3_600_000, hr_bpm=curve)
    only_ppg = compute_day_metrics({"ppg": (t, ppg)}, zone=None, resting_hr_baseline=None, spo2_baseline=None)
    assert only_ppg.hr_source == "ppg"
    assert only_ppg.mean_hr == pytest.approx(75.0, abs=1.0)
    assert only_ppg.wear_hours == pytest.approx(10 / 60, abs=0.02)


def test_device_steps_are_used_when_sent() -> None:
    day = simulate_patient_day(42, day_start_ms=DAY0, profile=PatientProfile(device_steps=True, exercise_sessions=0))
    m = compute_day_metrics(day.series, zone=None, resting_hr_baseline=None, spo2_baseline=97.0)
    assert m.steps == day.truth.steps
    assert m.spo2_baseline == 97.0


def _assert_empty(m: DayMetrics) -> None:
    assert m.resting_hr is None
    assert m.mean_hr is None
    assert m.rmssd_ms is None
    assert m.sdnn_ms is None
    assert m.steps is None
    assert m.cadence_spm is None
    assert m.active_minutes is None
    assert m.minutes_below_90 is None
    assert m.max_hr_sustained is None
    assert m.hr_zone_minutes is None
    assert m.desaturations == ()
    assert m.falls == ()
    assert m.exercise_sessions == ()
    assert m.hr_recovery == ()
    assert m.wear_hours == 0.0
    json.dumps(m.to_dict())


def test_missing_input_gives_empty_metrics() -> None:
    _assert_empty(compute_day_metrics({}, zone=ZONE, resting_hr_baseline=60.0, spo2_baseline=97.0))
    empty = {
        name: (np.zeros(0, dtype=np.int64), np.zeros((0, 3)) if name in ("accel", "gyro") else np.zeros(0))
        for name in ("heart_rate", "rr_interval", "spo2", "accel", "gyro", "joint_angle", "ppg")
    }
    _assert_empty(compute_day_metrics(empty, zone=ZONE, resting_hr_baseline=None, spo2_baseline=None))


def test_nan_and_broken_input_never_raises() -> None:
    t = DAY0 + np.arange(100) * 1000
    series = {
        "heart_rate": (t, np.full(100, np.nan)),
        "rr_interval": (t, np.full(100, np.nan)),
        "spo2": (t, np.full(100, np.nan)),
        "accel": (t, np.full((100, 3), np.nan)),
        "joint_angle": (t[:10], np.zeros(5)),  # mismatched lengths: ignored, logged
        "gyro": (t, np.zeros(100)),  # wrong shape: no sessions
    }
    m = compute_day_metrics(series, zone=ZONE, resting_hr_baseline=None, spo2_baseline=None)
    assert m.resting_hr is None
    assert m.exercise_sessions == ()
    assert m.falls == ()


def test_single_samples() -> None:
    t = np.array([DAY0 + 5000])
    series = {"heart_rate": (t, np.array([70.0])), "spo2": (t, np.array([96.0])), "accel": (t, np.array([[0, 0, 1.0]]))}
    m = compute_day_metrics(series, zone=ZONE, resting_hr_baseline=None, spo2_baseline=None)
    assert m.mean_hr == 70.0
    assert m.resting_hr == 70.0
    assert m.desaturations == ()
    assert m.steps == 0
    assert m.wear_hours == pytest.approx(1 / 60)


_values = st.lists(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.just(float("nan"))), max_size=40
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hr=_values, spo2=_values, rr=_values, angle=_values, step=st.integers(1, 2000))
def test_arbitrary_values_never_raise(
    hr: list[float], spo2: list[float], rr: list[float], angle: list[float], step: int
) -> None:
    def series(values: list[float]) -> tuple[np.ndarray, np.ndarray]:
        return DAY0 + np.arange(len(values), dtype=np.int64) * step, np.array(values, dtype=np.float64)

    accel = np.array(hr + hr + hr, dtype=np.float64).reshape(-1, 3) if hr else np.zeros((0, 3))
    m = compute_day_metrics(
        {
            "heart_rate": series(hr),
            "spo2": series(spo2),
            "rr_interval": series(rr),
            "joint_angle": series(angle),
            "accel": (DAY0 + np.arange(accel.shape[0], dtype=np.int64) * step, accel),
        },
        zone=(100.0, 120.0),
        resting_hr_baseline=None,
        spo2_baseline=None,
    )
    json.dumps(m.to_dict(), allow_nan=True)
