"""Desaturation events and time below 90 % against simulated SpO2 with known events."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.signals.spo2 import desaturations, minutes_below
from simulators.wearable_signals import PatientProfile, simulate_patient_day

T0 = 1_795_000_000_000
DAY0 = T0 - T0 % 86_400_000


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def test_desaturation_f1_over_seeds() -> None:
    profile = PatientProfile(desaturations=5, shallow_dips=3, short_dips=2, walking_bouts=0, exercise_sessions=0)
    tp = fp = fn = 0
    below_errors = []
    for seed in range(6):
        day = simulate_patient_day(200 + seed, day_start_ms=DAY0, profile=profile)
        t, v = day.series["spo2"]
        found = desaturations(t, v)
        truth = day.truth.desaturations
        assert len(truth) >= 4
        matched = set()
        for e in found:
            hits = [i for i, g in enumerate(truth) if _overlaps(e.start_ms, e.end_ms, g.start_ms, g.end_ms)]
            if hits:
                tp += 1
                matched.update(hits)
                g = truth[hits[0]]
                assert abs(e.start_ms - g.start_ms) <= 3000
                assert abs(e.nadir_pct - g.nadir_pct) <= 2.0
            else:
                fp += 1
        fn += len(truth) - len(matched)
        below_errors.append(abs(minutes_below(t, v) - day.truth.minutes_below_90))
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.95
    assert max(below_errors) < 1.0  # minutes; device values are whole percents, so near 90 % a second can go either way


def test_single_sample_dips_are_noise() -> None:
    t = T0 + np.arange(600) * 1000
    v = np.full(600, 97.0)
    v[[50, 200, 201, 400]] = [82.0, 85.0, 86.0, 80.0]  # one- and two-sample dropouts
    assert desaturations(t, v) == ()
    assert minutes_below(t, v) == 0.0


def test_event_rule_threshold_and_drop() -> None:
    t = T0 + np.arange(600) * 1000
    v = np.full(600, 97.0)
    v[100:115] = 92.0  # 5 points below baseline for 15 s: an event
    v[300:306] = 85.0  # below 90 but only 6 s: not an event
    v[400:430] = 94.0  # 3 points below for 30 s: not an event
    events = desaturations(t, v)
    assert len(events) == 1
    assert events[0].start_ms == T0 + 100_000
    assert events[0].duration_s == pytest.approx(15.0)
    assert events[0].nadir_pct == 92.0
    assert events[0].baseline_pct == 97.0


def test_passed_in_baseline_is_used() -> None:
    t = T0 + np.arange(300) * 1000
    v = np.full(300, 94.0)  # a low day: against its own median a drop to 91 is only 3 points
    v[100:130] = 91.0
    assert desaturations(t, v) == ()
    events = desaturations(t, v, baseline_pct=96.0)  # 5 points below the patient's baseline
    assert len(events) == 1
    assert events[0].duration_s == pytest.approx(30.0)
    assert events[0].baseline_pct == 96.0


def test_gap_splits_events() -> None:
    t = T0 + np.concatenate((np.arange(8), np.arange(60, 68))) * 1000
    v = np.full(16, 85.0)
    assert desaturations(t, v) == ()  # two 8 s runs either side of a gap are not one event
    assert minutes_below(t, v) == pytest.approx(16 / 60)


@pytest.mark.parametrize(
    ("t", "v"),
    [
        (np.zeros(0, dtype=np.int64), np.zeros(0)),
        (np.array([T0]), np.array([80.0])),
        (T0 + np.arange(30) * 1000, np.full(30, np.nan)),
        (T0 + np.arange(30) * 1000, np.full(30, 97.0)),
    ],
    ids=["empty", "single", "nan", "constant"],
)
def test_edge_cases(t: np.ndarray, v: np.ndarray) -> None:
    assert desaturations(t, v) == ()
    assert minutes_below(t, v) == pytest.approx(1 / 60 if v.shape[0] == 1 else 0.0)
