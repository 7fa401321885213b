"""The wearable simulator: seeded, within the device contract, truths consistent, stream usable."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.signals.falls import detect_falls
from monitor.signals.spo2 import desaturations
from simulators.wearable_signals import (
    Faults,
    PatientProfile,
    StreamChunk,
    simulate_patient_day,
    simulate_stream,
)

T0 = 1_795_000_000_000
DAY0 = T0 - T0 % 86_400_000
# valid ranges of the device contract (shared/contract/mqtt.md)
RANGES = {
    "heart_rate": (20, 250),
    "rr_interval": (200, 2000),
    "spo2": (50, 100),
    "steps": (0, 1000),
    "accel": (-16, 16),
    "gyro": (-2000, 2000),
    "joint_angle": (-30, 180),
}


def test_same_seed_same_day_and_other_seed_other_day() -> None:
    light = PatientProfile(walking_bouts=1, exercise_sessions=1)
    a = simulate_patient_day(1, day_start_ms=DAY0, profile=light)
    b = simulate_patient_day(1, day_start_ms=DAY0, profile=light)
    c = simulate_patient_day(2, day_start_ms=DAY0, profile=light)
    for metric, (t, v) in a.series.items():
        assert np.array_equal(t, b.series[metric][0])
        assert np.array_equal(v, b.series[metric][1], equal_nan=True)
    assert not np.array_equal(a.series["heart_rate"][1][:1000], c.series["heart_rate"][1][:1000])


@pytest.mark.parametrize("has_brace", [True, False])
def test_day_within_contract_and_truth_consistent(has_brace: bool) -> None:
    profile = PatientProfile(falls=1, device_steps=True, has_brace=has_brace)
    day = simulate_patient_day(3, day_start_ms=DAY0, profile=profile)
    for metric, (t, v) in day.series.items():
        assert t.dtype == np.int64
        assert v.dtype == np.float64
        assert np.all(np.diff(t) > 0), metric
        assert t[0] >= DAY0
        assert t[-1] < DAY0 + 86_400_000
        lo, hi = RANGES[metric]
        assert np.all((v >= lo) & (v <= hi)), metric
    assert day.series["accel"][1].shape[1] == 3
    assert ("joint_angle" in day.series) == has_brace
    assert ("gyro" in day.series) != has_brace
    truth = day.truth
    assert truth.steps == sum(b.steps for b in truth.walking_bouts)
    assert truth.steps == int(day.series["steps"][1].sum())
    assert all(d.end_ms - d.start_ms >= 10_000 for d in truth.desaturations)
    assert len(truth.falls_ms) == 1
    assert all(s.reps == 36 for s in truth.sessions)
    # nothing at all is sent while the device is off
    for start, end in truth.wear_gaps:
        for t, _ in day.series.values():
            assert not np.any((t >= start + 1000) & (t < end - 1000))
    assert 20 < truth.wear_hours < 24


def test_heart_rate_truth_rises_with_exercise() -> None:
    day = simulate_patient_day(4, day_start_ms=DAY0)
    for session in day.truth.sessions:
        inside = (day.truth.hr_t_ms >= session.start_ms) & (day.truth.hr_t_ms <= session.end_ms)
        assert day.truth.hr_bpm[inside].max() > day.truth.resting_hr + 15
        assert session.hr_recovery_bpm > 5


def test_faults_nan_and_duplicates() -> None:
    faults = Faults(nan_fraction=0.01, duplicate_fraction=0.01)
    day = simulate_patient_day(5, day_start_ms=DAY0, faults=faults)
    t, v = day.series["heart_rate"]
    assert np.isnan(v).sum() > 100
    assert np.sum(np.diff(t) == 0) > 100


def _collect(chunks: list[StreamChunk], metric: str) -> tuple[np.ndarray, np.ndarray]:
    ts, vs = [], []
    for c in chunks:
        if c.metric != metric:
            continue
        assert c.fs is not None
        ts.append(c.t0_ms + np.round(np.arange(c.values.shape[0]) * 1000 / c.fs).astype(np.int64))
        vs.append(c.values)
    return np.concatenate(ts), np.concatenate(vs)


def test_stream_chunks_are_publishable_and_events_detectable() -> None:
    chunks = list(simulate_stream(6, T0, 1800, chunk_s=5.0, event_every_s=120.0))
    metrics = {c.metric for c in chunks}
    assert metrics == {"heart_rate", "spo2", "accel", "rr_interval"}
    for c in chunks:
        assert c.values.shape[0] * (3 if c.metric == "accel" else 1) <= 10_000
        payload = c.as_series_payload()
        assert payload["metric"] == c.metric
        if c.metric == "rr_interval":
            assert c.t_ms is not None
            assert "t" in payload
        else:
            assert c.fs in (1.0, 50.0)
            assert c.values.shape[0] == 5 * c.fs
    accel_t, accel = _collect(chunks, "accel")
    assert accel_t.shape[0] == 1800 * 50
    events = [e for c in chunks for e in c.events]
    falls = [e for e in events if e.kind == "fall"]
    desats = [e for e in events if e.kind == "desaturation"]
    assert falls
    assert desats
    found_falls = detect_falls(accel_t, accel)
    for fall in falls:
        assert any(abs(f.at_ms - fall.start_ms) <= 1000 for f in found_falls)
    assert len(found_falls) <= len(falls) + 1
    spo2_t, spo2 = _collect(chunks, "spo2")
    found = desaturations(spo2_t, spo2)
    for desat in desats:
        assert any(e.start_ms < desat.end_ms and desat.start_ms < e.end_ms for e in found)
    assert len(found) == len(desats)


def test_stream_length_and_order() -> None:
    chunks = list(simulate_stream(7, T0, 12, chunk_s=5.0))
    hr = [c for c in chunks if c.metric == "heart_rate"]
    assert [c.t0_ms for c in hr] == [T0, T0 + 5000, T0 + 10_000]
    rr_t = np.concatenate([c.t_ms for c in chunks if c.metric == "rr_interval" and c.t_ms is not None])
    assert np.all(np.diff(rr_t) > 0)
