"""Predicted completion from expected hours, progress and the shop's pace."""

from __future__ import annotations

import pytest

from monitor.repair.prediction import (
    HOUR_MS,
    StageSample,
    history_factor,
    predict_completion,
    samples_from_visits,
)
from monitor.repair.stages import Stage, default_required_stages
from monitor.repair.timeline import BeaconEvent, JobState, replay

T0 = 1_795_500_000_000
H = HOUR_MS
MODERATE = default_required_stages("moderate")


def _at_paint(progress: float | None = None, extra: list[BeaconEvent] | None = None) -> JobState:
    names = ["intake", "estimate", "parts_ordered", "disassembly", "body", "paint"]
    events = [BeaconEvent("stage", T0 + i * H, stage=n) for i, n in enumerate(names)]
    if progress is not None:
        events.append(BeaconEvent("progress", T0 + 6 * H, progress=progress))
    return replay(MODERATE, events + (extra or []), severity="moderate")


# Moderate, after paint: reassembly 6 + adas 2 + quality 1 + detail 1.5 + ready 8 = 18.5 h.
FOLLOWING = 18.5


def test_reported_progress_gives_the_remaining_share() -> None:
    state = _at_paint(progress=0.4)
    prediction = predict_completion(state, now_ms=T0 + 8 * H, severity="moderate")
    assert prediction.current_stage_remaining_hours == pytest.approx(6.0)  # 60 % of 10 h
    assert prediction.following_hours == pytest.approx(FOLLOWING)
    assert prediction.completion_at_ms == T0 + 8 * H + round((6.0 + FOLLOWING) * H)


def test_without_progress_the_time_spent_is_subtracted() -> None:
    state = _at_paint()  # paint entered at 5 h
    prediction = predict_completion(state, now_ms=T0 + 8 * H, severity="moderate")
    assert prediction.current_stage_remaining_hours == pytest.approx(7.0)


def test_an_overrunning_stage_keeps_a_tenth_of_its_time() -> None:
    prediction = predict_completion(_at_paint(), now_ms=T0 + 40 * H, severity="moderate")
    assert prediction.current_stage_remaining_hours == pytest.approx(1.0)


def test_hold_time_does_not_count_as_work() -> None:
    hold = [BeaconEvent("hold", T0 + 6 * H, reason="booth broken"), BeaconEvent("resume", T0 + 10 * H)]
    prediction = predict_completion(_at_paint(extra=hold), now_ms=T0 + 12 * H, severity="moderate")
    assert prediction.current_stage_remaining_hours == pytest.approx(10.0 - 3.0)


def test_slow_shop_factor_scales_everything() -> None:
    state = _at_paint(progress=0.5)
    normal = predict_completion(state, now_ms=T0 + 6 * H, severity="moderate")
    slow = predict_completion(state, now_ms=T0 + 6 * H, severity="moderate", factor=2.0)
    assert slow.remaining_hours == pytest.approx(2 * normal.remaining_hours)
    clipped = predict_completion(state, now_ms=T0 + 6 * H, severity="moderate", factor=10.0)
    assert clipped.history_factor == 3.0


def test_job_without_events_needs_all_required_stages() -> None:
    state = replay(MODERATE, [])
    prediction = predict_completion(state, now_ms=T0, severity="moderate")
    assert prediction.remaining_hours == pytest.approx(61.0)


def test_delivered_job_is_complete_at_delivery() -> None:
    events = [BeaconEvent("stage", T0 + i * H, stage=s) for i, s in enumerate(MODERATE)]
    state = replay(MODERATE, events)
    prediction = predict_completion(state, now_ms=T0 + 100 * H, severity="moderate")
    assert prediction.completion_at_ms == state.delivered_at_ms
    assert prediction.remaining_hours == 0.0


def test_history_factor_is_the_clipped_median_ratio() -> None:
    samples = [StageSample(Stage.BODY, a, 10.0) for a in (12.0, 15.0, 30.0)]
    assert history_factor(samples) == pytest.approx(1.5)
    assert history_factor([StageSample(Stage.BODY, 100.0, 10.0)] * 3) == 3.0
    assert history_factor([StageSample(Stage.BODY, 1.0, 10.0)] * 3) == 0.5
    assert history_factor(samples[:2]) == 1.0  # too few to judge
    assert history_factor(samples[:2], min_samples=2) == pytest.approx(1.35)


def test_samples_come_from_finished_visits_without_hold_time() -> None:
    events = [
        BeaconEvent("stage", T0, stage="disassembly"),
        BeaconEvent("hold", T0 + 1 * H),
        BeaconEvent("resume", T0 + 3 * H),
        BeaconEvent("stage", T0 + 8 * H, stage="body"),
        BeaconEvent("stage", T0 + 20 * H, stage="paint"),
    ]
    state = replay(MODERATE, events)
    samples = samples_from_visits(state.visits, "moderate")
    assert [(s.stage, s.actual_hours, s.expected_hours) for s in samples] == [
        (Stage.DISASSEMBLY, 6.0, 4.0),
        (Stage.BODY, 12.0, 10.0),
    ]  # paint is still open
