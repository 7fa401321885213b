"""Predicted completion of a repair job, scaled by how fast the shop usually works.

Durations are plain elapsed hours: the expected-hours table is read as hours on the clock, not
working hours, so nights and weekends are not modelled (the table's figures already include
typical waiting, e.g. for parts). Good enough to rank jobs and to warn before a promised date;
a calendar of opening hours could replace ``HOUR_MS`` arithmetic later without changing callers.

Method: remaining = (what is left of the current stage + the expected hours of every required
stage after it) x the shop's history factor. What is left of the current stage is
``expected x factor x (1 - progress)`` when the shop reported progress, otherwise the shop's
expected duration minus the working (not held) time already spent, but at least 10 % of it,
so an overrunning stage is never predicted to be finished already. The history factor is the
median of actual/expected over the shop's completed stages, clipped to [0.5, 3]; with fewer
than ``min_samples`` stages it is 1.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.repair.stages import (
    EXPECTED_HOURS,
    STAGE_INDEX,
    Severity,
    Stage,
    as_severity,
)
from monitor.repair.timeline import JobState, StageVisit

HOUR_MS = 3_600_000
FACTOR_MIN = 0.5
FACTOR_MAX = 3.0
MIN_REMAINING_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class StageSample:
    """A completed stage of a past job: its working hours against the expected hours."""

    stage: Stage
    actual_hours: float
    expected_hours: float


@dataclass(frozen=True, slots=True)
class Prediction:
    """Predicted completion (epoch ms) and how it was reached (hours)."""

    completion_at_ms: int
    remaining_hours: float
    current_stage_remaining_hours: float
    following_hours: float
    history_factor: float


def samples_from_visits(
    visits: Iterable[StageVisit],
    severity: str,
    table: Mapping[Severity, Mapping[Stage, float]] = EXPECTED_HOURS,
) -> list[StageSample]:
    """Stage samples from the finished visits of a job (hold time excluded).

    Stages with no expected duration (``delivered``) and ``ready`` (waiting for the customer,
    not the shop's work) are left out.
    """
    hours = table[as_severity(severity)]
    samples = []
    for visit in visits:
        if visit.left_at_ms is None or visit.stage in (Stage.READY, Stage.DELIVERED):
            continue
        expected = hours[visit.stage]
        if expected <= 0:
            continue
        samples.append(StageSample(visit.stage, visit.active_ms() / HOUR_MS, expected))
    return samples


def history_factor(samples: Iterable[StageSample], *, min_samples: int = 3) -> float:
    """Median of actual/expected hours over ``samples``, clipped to [0.5, 3]; 1 if too few."""
    ratios = [s.actual_hours / s.expected_hours for s in samples if s.expected_hours > 0]
    if len(ratios) < min_samples:
        return 1.0
    return min(FACTOR_MAX, max(FACTOR_MIN, statistics.median(ratios)))


def predict_completion(
    state: JobState,
    *,
    now_ms: int,
    severity: str,
    factor: float = 1.0,
    table: Mapping[Severity, Mapping[Stage, float]] = EXPECTED_HOURS,
) -> Prediction:
    """Predict when the job will be delivered (see the module doc for the method).

    A delivered job's prediction is its delivery time. A job with no stage yet is predicted
    from all its required stages. A job on hold is predicted as if it resumed now.
    """
    factor = min(FACTOR_MAX, max(FACTOR_MIN, factor))
    if state.delivered_at_ms is not None and state.current_stage is Stage.DELIVERED:
        return Prediction(state.delivered_at_ms, 0.0, 0.0, 0.0, factor)
    hours = table[as_severity(severity)]
    current = state.current_stage
    current_remaining = 0.0
    if current is not None:
        shop_expected = hours[current] * factor
        if state.stage_progress > 0.0:
            current_remaining = shop_expected * (1.0 - state.stage_progress)
        else:
            spent = state.active_ms_in_stage(now_ms) / HOUR_MS
            current_remaining = max(shop_expected - spent, MIN_REMAINING_SHARE * shop_expected)
    after = -1 if current is None else STAGE_INDEX[current]
    following = factor * sum(hours[s] for s in state.required_stages if STAGE_INDEX[s] > after)
    remaining = current_remaining + following
    return Prediction(
        completion_at_ms=now_ms + round(remaining * HOUR_MS),
        remaining_hours=remaining,
        current_stage_remaining_hours=current_remaining,
        following_hours=following,
        history_factor=factor,
    )
