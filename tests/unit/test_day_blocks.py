"""Day metrics merged from 5-minute blocks equal the whole-day computation, on the simulator's days.

Each day is fed to the blocks the way the monitor feeds them: as the data arrives, in pieces, the blocks
the new piece touched (`blocks_touched`) are computed again from what has arrived so far. Three orders:
all at once, in ten-minute uploads in time order, and with a late backlog (the afternoon first, the
morning hours later). The merged day is compared with `compute_day_metrics` over the whole day's series:
equal (to float rounding) except steps, walking time, cadence and repetitions, whose detectors adapt
their thresholds to the signal around them; those stay within the bounds asserted here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from monitor.signals.daily import DayMetrics, compute_day_metrics
from monitor.signals.day_blocks import blocks_touched, update_day
from monitor.signals.heart import SessionHeartRate, hr_from_rr, session_heart_rate
from monitor.signals.ppg import hr_from_ppg
from monitor.signals.series import TimesMs, Values
from simulators.wearable_signals import PatientProfile, SimulatedDay, simulate_patient_day

DAY = 86_400_000
START = 1_780_000_000_000 // DAY * DAY
ZONE = (95.0, 130.0)

PROFILES = {
    "brace, falls and desaturations": (3, PatientProfile(falls=2, desaturations=3, exercise_sessions=2)),
    "gyro without brace, device steps": (11, PatientProfile(has_brace=False, device_steps=True, falls=1)),
    "low SpO2 baseline, long walks": (
        5,
        PatientProfile(spo2_baseline=91.0, walking_bouts=10, walking_minutes=(8.0, 20.0), desaturations=2),
    ),
}


def _reader(series: dict[str, tuple[TimesMs, Values]], arrived: list[tuple[int, int]]) -> Any:
    """Reads what has arrived so far: samples in any arrived time range."""

    def read(metric: str, start: int, end: int) -> tuple[TimesMs, Values]:
        t, v = series[metric]
        keep = (t >= start) & (t < end)
        got = np.zeros(t.shape[0], dtype=bool)
        for lo, hi in arrived:
            got |= (t >= lo) & (t < hi)
        keep &= got
        return t[keep], v[keep]

    return read


def _session_hr(series: dict[str, tuple[TimesMs, Values]]) -> Any:
    def hr(source: str, start: int, end: int) -> SessionHeartRate:
        if source == "heart_rate":
            t, v = series["heart_rate"]
            ok = (v >= 20) & (v <= 250)
            return session_heart_rate(t[ok], v[ok], start, end)
        t, v = hr_from_rr(*series["rr_interval"]) if source == "rr_interval" else hr_from_ppg(*series["ppg"])
        return session_heart_rate(t, v, start, end)

    return hr


def _pieces(order: str) -> Iterator[tuple[int, int]]:
    if order == "at once":
        yield START, START + DAY
    elif order == "ten-minute uploads":
        for lo in range(START, START + DAY, 600_000):
            yield lo, lo + 600_000
    else:  # the afternoon first, then the morning's backlog in hour uploads
        yield START + DAY // 2, START + DAY
        for lo in range(START, START + DAY // 2, 3_600_000):
            yield lo, lo + 3_600_000


def _incremental(day: SimulatedDay, order: str, spo2_baseline: float | None) -> DayMetrics:
    series = {m: (np.asarray(t, dtype=np.int64), np.asarray(v, dtype=np.float64)) for m, (t, v) in day.series.items()}
    for m, (t, v) in series.items():
        keep = np.isfinite(v).all(axis=1) if v.ndim > 1 else np.isfinite(v)
        order_ = np.argsort(t[keep], kind="stable")
        series[m] = (t[keep][order_], v[keep][order_])
    arrived: list[tuple[int, int]] = []
    partials: dict[int, dict[str, Any]] = {}
    merged: DayMetrics | None = None
    for lo, hi in _pieces(order):
        arrived.append((lo, hi))
        partials, _changed, merged = update_day(
            partials,
            blocks_touched(lo, hi - 1),
            _reader(series, arrived),
            list(series),
            (START, START + DAY),
            zone=ZONE,
            spo2_baseline=spo2_baseline,
            resting_hr_baseline=62.0,
            session_hr=_session_hr(series),
        )
    assert merged is not None
    return merged


@pytest.mark.parametrize("name", sorted(PROFILES))
@pytest.mark.parametrize("order", ["at once", "ten-minute uploads", "late backlog"])
def test_merged_blocks_equal_the_whole_day(name: str, order: str) -> None:
    seed, profile = PROFILES[name]
    day = simulate_patient_day(seed, day_start_ms=START, profile=profile)
    for spo2_baseline in (None, 96.0):
        full = compute_day_metrics(
            day.series,
            zone=ZONE,
            resting_hr_baseline=62.0,
            spo2_baseline=spo2_baseline,
            day_bounds_ms=(START, START + DAY),
        )
        got = _incremental(day, order, spo2_baseline)
        exact = (
            "day_start_ms",
            "hr_source",
            "hr_zone",
            "spo2_baseline",
            "spo2_median",
            "max_hr_sustained",
            "max_hr_sustained_at_ms",
            "desaturations",
            "falls",
            "wear_hours",
            "nonwear_gaps",
            "active_minutes",
        )
        for field in exact:
            assert getattr(got, field) == getattr(full, field), field
        close = ("resting_hr", "resting_hr_delta", "mean_hr", "hr_zone_minutes", "minutes_below_90")
        for field in close:
            assert getattr(got, field) == pytest.approx(getattr(full, field), rel=1e-9, abs=1e-9), field
        # a beat is cleaned against its neighbours: across a gap in the data the whole day reaches beats
        # minutes away, a block its context of three minutes; a few beats next to each gap may differ
        assert abs(got.rr_beats - full.rr_beats) <= 5
        assert abs(got.rr_rejected - full.rr_rejected) <= 5
        assert got.rmssd_ms == pytest.approx(full.rmssd_ms, rel=1e-3)
        assert got.sdnn_ms == pytest.approx(full.sdnn_ms, rel=1e-3)
        assert full.steps is not None
        assert got.steps is not None
        assert abs(got.steps - full.steps) <= max(3, 0.005 * full.steps)
        assert got.walking_minutes == pytest.approx(full.walking_minutes, rel=0.01, abs=0.1)
        assert got.cadence_spm == pytest.approx(full.cadence_spm, rel=0.01)
        assert len(got.exercise_sessions) == len(full.exercise_sessions)
        for g, f in zip(got.exercise_sessions, full.exercise_sessions, strict=True):
            assert abs(g.reps - f.reps) <= 1
            assert abs(g.start_ms - f.start_ms) <= 5_000
        assert got.hr_recovery == full.hr_recovery or len(got.hr_recovery) == len(got.exercise_sessions)
