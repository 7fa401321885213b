"""Fall detection: every simulated fall found; walking, hard sit-downs, lying down, stumbles not."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.signals.falls import detect_falls
from simulators.wearable_signals import PatientProfile, simulate_patient_day, simulate_walk

T0 = 1_795_000_000_000
DAY0 = T0 - T0 % 86_400_000


@pytest.mark.parametrize("seed", range(5))
def test_every_fall_found_and_at_most_one_false_alarm_per_day(seed: int) -> None:
    profile = PatientProfile(falls=2, hard_sitdowns=6, lie_downs=3, stumbles_per_bout=1.0)
    day = simulate_patient_day(300 + seed, day_start_ms=DAY0, profile=profile)
    assert len(day.truth.falls_ms) == 2
    assert len(day.truth.hard_sitdowns_ms) == 6
    found = detect_falls(*day.series["accel"])
    times = np.array([f.at_ms for f in found], dtype=np.int64)
    for fall_ms in day.truth.falls_ms:
        assert np.any(np.abs(times - fall_ms) <= 1000), f"fall at {fall_ms} missed"
    false = [f for f in found if min(abs(f.at_ms - x) for x in day.truth.falls_ms) > 1000]
    assert len(false) <= 1
    for fall in found:
        assert fall.peak_g > 2.5
        assert fall.orientation_change_deg is not None
        assert fall.orientation_change_deg >= 30


@pytest.mark.parametrize("seed", range(2))
def test_ordinary_day_has_no_falls(seed: int) -> None:
    profile = PatientProfile(falls=0, hard_sitdowns=8, lie_downs=3, stumbles_per_bout=1.5)
    day = simulate_patient_day(400 + seed, day_start_ms=DAY0, profile=profile)
    assert len(detect_falls(*day.series["accel"])) <= 1


def test_hard_impact_while_walking_on_is_not_a_fall() -> None:
    t, accel, _ = simulate_walk(1, start_ms=T0, seconds=30, cadence_spm=100)
    accel = accel.copy()
    accel[700] *= 4.0  # a 4 g stomp, then walking goes on
    assert detect_falls(t, accel) == ()


def test_impact_then_stillness_without_posture_change() -> None:
    n = 1500
    t = T0 + np.arange(n) * 20
    rng = np.random.default_rng(2)
    accel = np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0, 0.005, (n, 3))
    accel[500] = [0.0, 0.0, 3.5]  # a bump on the device, the patient stays as he was
    assert detect_falls(t, accel) == ()
    assert len(detect_falls(t, accel, min_orientation_change_deg=None)) == 1
    lying = accel.copy()
    lying[501:] = np.array([1.0, 0.0, 0.0]) + rng.normal(0, 0.005, (n - 501, 3))
    falls = detect_falls(t, lying)
    assert len(falls) == 1
    assert falls[0].at_ms == t[500]
    assert falls[0].orientation_change_deg == pytest.approx(90.0, abs=2.0)


@pytest.mark.parametrize(
    ("t", "a"),
    [
        (np.zeros(0, dtype=np.int64), np.zeros((0, 3))),
        (np.array([T0]), np.array([[0.0, 0.0, 5.0]])),
        (T0 + np.arange(500) * 20, np.full((500, 3), np.nan)),
        (T0 + np.arange(500) * 20, np.tile([0.0, 0.0, 1.0], (500, 1))),
    ],
    ids=["empty", "single", "nan", "constant"],
)
def test_edge_cases(t: np.ndarray, a: np.ndarray) -> None:
    assert detect_falls(t, a) == ()
