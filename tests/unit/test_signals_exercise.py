"""Exercise sessions, repetitions and range of motion from a brace angle and from a gyroscope."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.signals.exercise import detect_sessions, detect_sessions_from_gyro
from monitor.signals.gyro_angle import sagittal_angle_from_gyro
from simulators.wearable_signals import PatientProfile, simulate_knee_exercise, simulate_patient_day

T0 = 1_795_000_000_000
DAY0 = T0 - T0 % 86_400_000


@pytest.mark.parametrize("gyro", [False, True], ids=["brace", "gyro"])
@pytest.mark.parametrize(("seed", "rom"), [(1, 35.0), (2, 60.0), (3, 85.0), (4, 110.0)])
def test_reps_exact_and_rom_within_3_degrees(seed: int, rom: float, gyro: bool) -> None:
    t, values, truth = simulate_knee_exercise(seed, start_ms=T0, sets=3, reps=10, rom_deg=rom, gyro=gyro)
    sessions = detect_sessions_from_gyro(t, values) if gyro else detect_sessions(t, values)
    assert len(sessions) == 1
    session = sessions[0]
    assert session.source == ("gyro" if gyro else "joint_angle")
    assert len(session.sets) == len(truth)
    for found, real in zip(session.sets, truth, strict=True):
        assert found.reps == real.reps
        errors = np.abs(np.array(found.rom_deg) - np.array(real.rom_deg))
        assert errors.max() < 3.0
        assert abs(found.start_ms - real.start_ms) < 1500
        assert abs(found.end_ms - real.end_ms) < 1500
    assert session.reps == 30
    assert abs(session.mean_rom_deg - np.mean([r for s in truth for r in s.rom_deg])) < 1.5


@pytest.mark.parametrize("has_brace", [True, False])
def test_sessions_over_a_day(has_brace: bool) -> None:
    day = simulate_patient_day(31, day_start_ms=DAY0, profile=PatientProfile(has_brace=has_brace))
    metric = "joint_angle" if has_brace else "gyro"
    assert metric in day.series
    sessions = detect_sessions(*day.series[metric]) if has_brace else detect_sessions_from_gyro(*day.series[metric])
    assert len(sessions) == len(day.truth.sessions) == 2
    for found, real in zip(sessions, day.truth.sessions, strict=True):
        assert [s.reps for s in found.sets] == [s.reps for s in real.sets]
        assert abs(found.mean_rom_deg - float(np.mean(real.rom_deg))) < 3.0
        assert abs(found.end_ms - real.end_ms) < 2000


def test_small_wiggles_are_not_reps() -> None:
    t = T0 + np.arange(3000) * 20
    rng = np.random.default_rng(1)
    angle = 10 + 3 * np.sin(np.arange(3000) / 50 * 2 * np.pi / 3) + rng.normal(0, 1, 3000)
    assert detect_sessions(t, angle) == ()


def test_fewer_than_min_reps_is_not_a_set() -> None:
    t, angle, _ = simulate_knee_exercise(5, start_ms=T0, sets=1, reps=2)
    assert detect_sessions(t, angle) == ()
    assert len(detect_sessions(t, angle, min_reps=2)) == 1


def test_sessions_split_by_long_pause() -> None:
    t1, a1, _ = simulate_knee_exercise(6, start_ms=T0, sets=1, reps=8)
    t2, a2, _ = simulate_knee_exercise(7, start_ms=T0 + 3_600_000, sets=1, reps=8)
    sessions = detect_sessions(np.concatenate((t1, t2)), np.concatenate((a1, a2)))
    assert [s.reps for s in sessions] == [8, 8]


def test_gyro_angle_recovers_flexion_sign_and_size() -> None:
    t, gyro, _ = simulate_knee_exercise(8, start_ms=T0, sets=1, reps=6, rom_deg=70.0, gyro=True)
    at, angle = sagittal_angle_from_gyro(t, gyro)
    assert at.shape[0] == t.shape[0]
    assert np.percentile(angle, 99) > 60  # flexion is positive
    assert np.percentile(angle, 1) > -5


@pytest.mark.parametrize(
    ("t", "v"),
    [
        (np.zeros(0, dtype=np.int64), np.zeros(0)),
        (np.array([T0]), np.array([30.0])),
        (T0 + np.arange(500) * 20, np.full(500, np.nan)),
        (T0 + np.arange(500) * 20, np.full(500, 12.0)),
    ],
    ids=["empty", "single", "nan", "constant"],
)
def test_edge_cases(t: np.ndarray, v: np.ndarray) -> None:
    assert detect_sessions(t, v) == ()
    gyro = np.zeros((t.shape[0], 3)) + v[:, None]
    assert detect_sessions_from_gyro(t, gyro) == ()
