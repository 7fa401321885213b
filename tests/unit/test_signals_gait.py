"""Steps, cadence, walking bouts and active minutes against simulated walking."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.signals.activity import active_minutes, enmo_per_minute
from monitor.signals.gait import detect_steps, steps_from_device
from simulators.wearable_signals import simulate_knee_exercise, simulate_patient_day, simulate_walk

T0 = 1_795_000_000_000
DAY0 = T0 - T0 % 86_400_000


@pytest.mark.parametrize(("seed", "cadence"), [(1, 80.0), (2, 95.0), (3, 110.0), (4, 125.0)])
def test_steps_and_cadence_of_a_walk(seed: int, cadence: float) -> None:
    t, accel, steps = simulate_walk(seed, start_ms=T0, seconds=180, cadence_spm=cadence, amp_g=0.3)
    gait = detect_steps(t, accel)
    assert abs(gait.steps - steps) / steps < 0.03
    assert gait.cadence_spm is not None
    assert abs(gait.cadence_spm - cadence) / cadence < 0.03
    assert len(gait.bouts) == 1
    assert gait.walking_minutes == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_steps_over_a_day(seed: int) -> None:
    day = simulate_patient_day(seed, day_start_ms=DAY0)
    gait = detect_steps(*day.series["accel"])
    assert day.truth.steps > 1000
    assert abs(gait.steps - day.truth.steps) / day.truth.steps < 0.03
    assert gait.cadence_spm is not None
    assert day.truth.cadence_spm is not None
    assert abs(gait.cadence_spm - day.truth.cadence_spm) / day.truth.cadence_spm < 0.03
    # the steps are found where the simulated steps were
    truth = day.truth.step_times_ms
    found = gait.step_times_ms
    after = np.clip(np.searchsorted(truth, found), 0, truth.shape[0] - 1)
    before = np.clip(after - 1, 0, truth.shape[0] - 1)
    distance = np.minimum(np.abs(truth[after] - found), np.abs(truth[before] - found))
    assert np.mean(distance < 200) > 0.97


def test_no_steps_while_still_or_exercising() -> None:
    t = T0 + np.arange(3000) * 20
    rng = np.random.default_rng(0)
    still = np.tile([0.1, -0.2, 0.97], (3000, 1)) + rng.normal(0, 0.01, (3000, 3))
    assert detect_steps(t, still).steps == 0
    # knee exercise seen by the trunk sensor: slow small sway
    et, angle, _ = simulate_knee_exercise(1, start_ms=T0)
    sway = np.stack((0.02 * np.sin(np.radians(angle)), np.zeros_like(angle), np.ones_like(angle)), axis=1)
    assert detect_steps(et, sway + rng.normal(0, 0.01, sway.shape)).steps == 0


def test_a_few_steps_are_not_a_walking_bout() -> None:
    t, accel, steps = simulate_walk(5, start_ms=T0, seconds=3.0, cadence_spm=100)
    assert steps <= 6
    assert detect_steps(t, accel).steps == 0


def test_gap_splits_bouts() -> None:
    t1, a1, s1 = simulate_walk(6, start_ms=T0, seconds=60, cadence_spm=100)
    t2, a2, s2 = simulate_walk(7, start_ms=T0 + 600_000, seconds=60, cadence_spm=110)
    gait = detect_steps(np.concatenate((t1, t2)), np.concatenate((a1, a2)))
    assert len(gait.bouts) == 2
    assert abs(gait.steps - (s1 + s2)) <= 4
    assert abs(gait.bouts[1].cadence_spm - 110) < 3


def test_device_steps_and_active_minutes() -> None:
    t = T0 - T0 % 60_000 + np.arange(10) * 60_000
    counts = np.array([0, 5, 80, 100, 30, 0, 0, 120, np.nan, -3])
    assert steps_from_device(t, counts) == 335
    minutes = active_minutes(device_steps=(t, counts))
    assert minutes.tolist() == (t[[2, 3, 7]] // 60_000).tolist()


def test_active_minutes_from_walking_accel() -> None:
    start = T0 - T0 % 60_000
    t, accel, _ = simulate_walk(8, start_ms=start, seconds=300, cadence_spm=105, amp_g=0.35)
    gait = detect_steps(t, accel)
    by_steps = active_minutes(step_times_ms=gait.step_times_ms)
    assert by_steps.shape[0] >= 4  # 5 walking minutes, the first and last partly ramping
    minutes, enmo = enmo_per_minute(t, accel)
    assert minutes.shape[0] == 5
    assert np.all(enmo > 0.05)


@pytest.mark.parametrize(
    ("t", "a"),
    [
        (np.zeros(0, dtype=np.int64), np.zeros((0, 3))),
        (np.array([T0]), np.array([[0.0, 0.0, 1.0]])),
        (T0 + np.arange(500) * 20, np.full((500, 3), np.nan)),
        (T0 + np.arange(500) * 20, np.tile([0.0, 0.0, 1.0], (500, 1))),
        (T0 + np.arange(500) * 1000, np.tile([0.0, 0.0, 1.0], (500, 1))),  # 1 Hz rest samples
    ],
    ids=["empty", "single", "nan", "constant", "low-rate"],
)
def test_edge_cases(t: np.ndarray, a: np.ndarray) -> None:
    gait = detect_steps(t, a)
    assert gait.steps == 0
    assert gait.cadence_spm is None
    assert gait.bouts == ()
    assert active_minutes(step_times_ms=gait.step_times_ms, accel=(t, a)).shape[0] == 0
