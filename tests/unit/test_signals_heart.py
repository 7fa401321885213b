"""Heart rate from RR and PPG, resting HR, zones, recovery and sustained HR against simulated truth."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from numpy.typing import NDArray

from monitor.signals.heart import (
    hr_from_rr,
    hr_recovery,
    max_sustained_hr,
    resting_hr,
    session_heart_rate,
    sustained_above,
)
from monitor.signals.ppg import hr_from_ppg, ppg_beats
from monitor.signals.zones import karvonen, time_in_zone_minutes
from simulators.wearable_signals import SimulatedDay, simulate_patient_day, simulate_ppg, simulate_rr

T0 = 1_795_000_000_000
DAY0 = T0 - T0 % 86_400_000


def _exercise_curve(seconds: int = 900) -> NDArray[np.float64]:
    """Rest 65 bpm, exercise at 125, recovery to 80, with a 30 s first-order response."""
    target = np.full(seconds, 65.0)
    target[200:500] = 125.0
    target[650:] = 80.0
    alpha = np.exp(-1 / 30)
    y, _ = scipy.signal.lfilter([1 - alpha], [1, -alpha], target, zi=[alpha * target[0]])
    return np.asarray(y, dtype=np.float64)


def _truth_at(t_ms: NDArray[np.int64], curve: NDArray[np.float64], start_ms: int = T0) -> NDArray[np.float64]:
    return np.asarray(np.interp((t_ms - start_ms) / 1000.0, np.arange(curve.shape[0]) + 0.5, curve), dtype=np.float64)


@pytest.fixture(scope="module")
def day() -> SimulatedDay:
    return simulate_patient_day(11, day_start_ms=DAY0)


@pytest.mark.parametrize("seed", range(4))
def test_hr_from_rr_within_1_bpm_with_ectopics(seed: int) -> None:
    curve = _exercise_curve()
    sim = simulate_rr(seed, start_ms=T0, hr_bpm=curve, rmssd_ms=40, ectopic_fraction=0.01, missed_fraction=0.005)
    t, bpm = hr_from_rr(sim.t_ms, sim.rr_ms)
    assert t.shape[0] > 850  # one value a second, nearly all seconds
    assert np.all(np.diff(t) == 1000)
    mae = float(np.mean(np.abs(bpm - _truth_at(t, curve))))
    assert mae < 1.0


def test_hr_from_rr_whole_day_with_gap(day: SimulatedDay) -> None:
    t, bpm = hr_from_rr(*day.series["rr_interval"])
    truth = np.interp(t, day.truth.hr_t_ms, day.truth.hr_bpm)
    assert float(np.mean(np.abs(bpm - truth))) < 1.0
    gap_start, gap_end = day.truth.wear_gaps[0]
    inside = (t > gap_start + 10_000) & (t < gap_end - 10_000)
    assert not np.any(inside)  # no heart rate invented while the device was off


@pytest.mark.parametrize("seed", range(4))
def test_hr_from_ppg_within_1_bpm(seed: int) -> None:
    curve = _exercise_curve()
    t, ppg = simulate_ppg(seed, start_ms=T0, hr_bpm=curve, fs_hz=25.0, noise=0.1)
    ht, bpm = hr_from_ppg(t, ppg)
    assert ht.shape[0] > 850
    assert float(np.mean(np.abs(bpm - _truth_at(ht, curve)))) < 1.0


def test_ppg_beats_count_matches_heartbeats_and_ignores_dicrotic_wave() -> None:
    curve = np.full(300, 72.0)
    t, ppg = simulate_ppg(3, start_ms=T0, hr_bpm=curve, fs_hz=25.0, noise=0.05)
    beats, ibi = ppg_beats(t, ppg)
    assert abs(beats.shape[0] - 360) <= 3  # 72 bpm for 5 minutes
    assert abs(float(np.median(ibi)) - 60000 / 72) < 5


def test_ppg_gap_is_not_an_interval() -> None:
    curve = np.full(120, 60.0)
    t, ppg = simulate_ppg(4, start_ms=T0, hr_bpm=curve)
    keep = (t < T0 + 50_000) | (t > T0 + 70_000)
    _, ibi = ppg_beats(t[keep], ppg[keep])
    assert ibi.max() < 1100


def test_resting_hr_close_to_profile(day: SimulatedDay) -> None:
    t, v = day.series["heart_rate"]
    rest = resting_hr(t, v)
    assert rest is not None
    assert abs(rest - day.truth.resting_hr) < 2.5


def test_resting_hr_ignores_active_minutes() -> None:
    t = T0 + np.arange(3600) * 1000
    v = np.full(3600, 60.0)
    v[:1800] = 120.0  # the first half hour was active
    assert resting_hr(t, v, active_minutes=(t[:1800] // 60_000)) == pytest.approx(60.0)
    low = np.full(3600, 120.0)
    assert resting_hr(t, low, active_minutes=np.unique(t // 60_000)) is None


def test_karvonen_zone() -> None:
    zone = karvonen(60, 180, 0.5, 0.7)
    assert zone == pytest.approx((120.0, 144.0))
    assert zone.lo_bpm == pytest.approx(120.0)
    with pytest.raises(ValueError, match="intensities"):
        karvonen(60, 180, 0.8, 0.5)
    with pytest.raises(ValueError, match="max_hr"):
        karvonen(60, 50, 0.5, 0.6)


def test_time_in_zone_counts_only_covered_time() -> None:
    t = T0 + np.concatenate((np.arange(600), 3600 + np.arange(600))) * 1000
    v = np.concatenate((np.full(600, 100.0), np.full(600, 130.0)))
    assert time_in_zone_minutes(t, v, (90, 110)) == pytest.approx(10.0)
    assert time_in_zone_minutes(t, v, (90, 140)) == pytest.approx(20.0)  # the hour gap does not count


def test_hr_recovery_matches_truth(day: SimulatedDay) -> None:
    t, v = day.series["heart_rate"]
    assert day.truth.sessions
    for session in day.truth.sessions:
        drop = hr_recovery(t, v, session.end_ms)
        assert drop is not None
        assert abs(drop - session.hr_recovery_bpm) < 3.0
        info = session_heart_rate(t, v, session.start_ms, session.end_ms)
        assert info.max_bpm is not None
        assert info.mean_bpm is not None
        assert info.max_bpm > day.truth.resting_hr + 10


def test_max_sustained_hr_matches_truth(day: SimulatedDay) -> None:
    found = max_sustained_hr(*day.series["heart_rate"])
    assert found is not None
    assert day.truth.max_hr_sustained is not None
    assert abs(found.bpm - day.truth.max_hr_sustained) < 3.0


def test_sustained_above_episodes() -> None:
    t = T0 + np.arange(600) * 1000
    v = np.full(600, 100.0)
    v[100:250] = 150.0  # 150 s above
    v[170:173] = 130.0  # a 3 s dip does not split it
    v[400:430] = 150.0  # 30 s: too short
    episodes = sustained_above(t, v, 140.0, min_duration_s=60)
    assert len(episodes) == 1
    assert episodes[0].start_ms == T0 + 100_000
    assert episodes[0].duration_s == pytest.approx(150.0)
    assert episodes[0].peak_bpm == 150.0


def test_max_sustained_hr_does_not_bridge_gaps() -> None:
    t = T0 + np.concatenate((np.arange(40), np.arange(100, 140))) * 1000
    v = np.full(80, 150.0)
    assert max_sustained_hr(t, v, min_duration_s=60) is None
    assert max_sustained_hr(t, v, min_duration_s=30) is not None


@pytest.mark.parametrize(
    ("t", "v"),
    [
        (np.zeros(0, dtype=np.int64), np.zeros(0)),
        (np.array([T0]), np.array([70.0])),
        (T0 + np.arange(5) * 1000, np.full(5, np.nan)),
    ],
    ids=["empty", "single", "nan"],
)
def test_edge_cases_return_nothing(t: np.ndarray, v: np.ndarray) -> None:
    rt, rv = hr_from_rr(t, v)
    assert rt.shape[0] == 0
    assert rv.shape[0] == 0
    assert max_sustained_hr(t, v) is None
    assert sustained_above(t, v, 100.0) == ()
    assert hr_recovery(t, v, T0 + 10_000) is None
    pt, _ = hr_from_ppg(t, v)
    assert pt.shape[0] == 0
    if np.all(np.isnan(v)) or v.shape[0] == 0:
        assert resting_hr(t, v) is None
        assert time_in_zone_minutes(t, v, (60, 80)) == 0.0


def test_constant_heart_rate() -> None:
    t = T0 + np.arange(900) * 1000
    v = np.full(900, 70.0)
    assert resting_hr(t, v) == pytest.approx(70.0)
    found = max_sustained_hr(t, v)
    assert found is not None
    assert found.bpm == 70.0
    rr_t = T0 + np.arange(1, 600) * 1000
    ht, hv = hr_from_rr(rr_t, np.full(599, 1000.0))
    assert np.allclose(hv, 60.0)
    assert ht.shape[0] > 590
