"""RMSSD/SDNN and RR artifact rejection against simulated beats with a known HRV."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.signals.hrv import clean_rr, hrv_summary, rmssd, sdnn
from simulators.wearable_signals import simulate_patient_day, simulate_rr

T0 = 1_795_000_000_000
DAY0 = T0 - T0 % 86_400_000


def _resting_curve(seconds: int = 1200, hr: float = 62.0) -> np.ndarray:
    return hr + 2.0 * np.sin(np.arange(seconds) * 2 * np.pi / 300)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("target", [20.0, 40.0, 70.0])
def test_rmssd_within_5_percent_with_ectopics_and_missed_beats(seed: int, target: float) -> None:
    sim = simulate_rr(
        seed,
        start_ms=T0,
        hr_bpm=_resting_curve(),
        rmssd_ms=target,
        ectopic_fraction=0.01,
        missed_fraction=0.005,
    )
    truth = sim.rmssd_ms
    assert abs(truth - target) / target < 0.1  # the simulator does what it says
    got = rmssd(sim.t_ms, sim.rr_ms)
    assert got is not None
    assert abs(got - truth) / truth < 0.05
    raw = float(np.sqrt(np.mean(np.diff(sim.rr_ms) ** 2)))
    assert abs(raw - truth) / truth > 0.2  # without cleaning the ectopics would dominate


def test_sdnn_close_to_clean_series() -> None:
    sim = simulate_rr(7, start_ms=T0, hr_bpm=_resting_curve(), rmssd_ms=40, ectopic_fraction=0.01)
    got = sdnn(sim.t_ms, sim.rr_ms)
    assert got is not None
    assert abs(got - sim.sdnn_ms) / sim.sdnn_ms < 0.05


def test_ectopic_beats_and_compensatory_pauses_rejected() -> None:
    sim = simulate_rr(8, start_ms=T0, hr_bpm=_resting_curve(), rmssd_ms=30, ectopic_fraction=0.02)
    clean = clean_rr(sim.t_ms, sim.rr_ms)
    rejected = set(clean.t_ms[~clean.accepted].tolist())
    ectopic = sim.ectopic_times_ms.tolist()
    assert ectopic
    assert all(t in rejected for t in ectopic)
    # few normal beats lost: each ectopic costs itself and the pause after it
    assert clean.n_rejected <= 2 * len(ectopic) + 3


def test_whole_day_rmssd_with_non_wear_gap() -> None:
    day = simulate_patient_day(5, day_start_ms=DAY0)
    summary = hrv_summary(*day.series["rr_interval"])
    assert summary.rmssd_ms is not None
    assert summary.sdnn_ms is not None
    assert abs(summary.rmssd_ms - day.truth.rmssd_ms) / day.truth.rmssd_ms < 0.05
    assert abs(summary.sdnn_ms - day.truth.sdnn_ms) / day.truth.sdnn_ms < 0.05


def test_gap_is_not_differenced() -> None:
    # 200 beats at 1000 ms, a 10-minute gap, 200 beats at 600 ms: no variability at all
    t1 = T0 + np.arange(1, 201) * 1000
    t2 = t1[-1] + 600_000 + np.arange(1, 201) * 600
    t = np.concatenate((t1, t2))
    rr = np.concatenate((np.full(200, 1000.0), np.full(200, 600.0)))
    assert rmssd(t, rr) == pytest.approx(0.0)
    clean = clean_rr(t, rr)
    assert not clean.pair_valid[200]  # the first beat after the gap pairs with nothing


def test_out_of_range_rejected() -> None:
    t = T0 + np.cumsum(np.full(50, 800))
    rr = np.full(50, 800.0)
    rr[10] = 250.0
    rr[20] = 2500.0
    clean = clean_rr(t, rr)
    assert not clean.accepted[10]
    assert not clean.accepted[20]
    assert clean.n_rejected == 2


@pytest.mark.parametrize(
    ("t", "rr"),
    [
        (np.zeros(0, dtype=np.int64), np.zeros(0)),
        (np.array([T0]), np.array([800.0])),
        (T0 + np.arange(10) * 800, np.full(10, np.nan)),
        (T0 + np.arange(10) * 100, np.full(10, 100.0)),  # all out of range
    ],
    ids=["empty", "single", "nan", "out-of-range"],
)
def test_edge_cases(t: np.ndarray, rr: np.ndarray) -> None:
    summary = hrv_summary(t, rr)
    assert summary.rmssd_ms is None
    assert summary.sdnn_ms is None
    assert summary.n_beats == 0 or summary.n_beats == 1


def test_constant_rr_has_zero_variability() -> None:
    t = T0 + np.arange(1, 101) * 900
    summary = hrv_summary(t, np.full(100, 900.0))
    assert summary.rmssd_ms == pytest.approx(0.0)
    assert summary.sdnn_ms == pytest.approx(0.0)
    assert summary.n_rejected == 0


def test_nan_values_dropped_not_fatal() -> None:
    sim = simulate_rr(9, start_ms=T0, hr_bpm=_resting_curve(600), rmssd_ms=40)
    rr = sim.rr_ms.copy()
    rr[::50] = np.nan
    got = rmssd(sim.t_ms, rr)
    assert got is not None
    assert abs(got - sim.rmssd_ms) / sim.rmssd_ms < 0.05


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="length"):
        clean_rr(np.arange(3), np.arange(4.0))
