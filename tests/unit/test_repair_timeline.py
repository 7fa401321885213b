"""Replaying beacon events into a job's state and its sequence violations."""

from __future__ import annotations

import pytest

from monitor.repair.stages import Stage, default_required_stages
from monitor.repair.timeline import BeaconEvent, replay

T0 = 1_795_500_000_000
H = 3_600_000
MODERATE = default_required_stages("moderate")
MINOR = default_required_stages("minor")


def stage(name: str, hours: float, progress: float | None = None) -> BeaconEvent:
    return BeaconEvent("stage", T0 + round(hours * H), stage=name, progress=progress)


def test_normal_run_through_the_first_stages() -> None:
    events = [
        stage("intake", 0),
        stage("estimate", 1),
        stage("parts_ordered", 3),
        BeaconEvent("progress", T0 + 5 * H, progress=0.5),
    ]
    state = replay(MODERATE, events, severity="moderate")
    assert state.current_stage is Stage.PARTS_ORDERED
    assert state.stage_entered_at_ms == T0 + 3 * H
    assert state.stage_progress == 0.5
    assert state.completed_stages == (Stage.INTAKE, Stage.ESTIMATE)
    assert state.violations == ()
    # Hours-weighted: intake 0.5 + estimate 2 + half of parts 16 = 10.5 of the 61 h required.
    assert state.progress == pytest.approx(10.5 / 61.0)
    assert [v.stage for v in state.visits] == [Stage.INTAKE, Stage.ESTIMATE, Stage.PARTS_ORDERED]
    assert state.visits[1].active_ms() == 2 * H
    assert state.last_activity_at_ms == T0 + 5 * H


def test_events_are_applied_in_time_order() -> None:
    events = [stage("estimate", 1), stage("intake", 0)]
    state = replay(MODERATE, events)
    assert state.current_stage is Stage.ESTIMATE
    assert state.violations == ()


def test_skipping_a_required_stage_is_a_violation() -> None:
    events = [
        stage("intake", 0),
        stage("estimate", 1),
        stage("parts_ordered", 2),
        stage("disassembly", 3),
        stage("paint", 5),
    ]
    state = replay(MODERATE, events)
    (violation,) = state.violations
    assert violation.kind == "stage_skipped"
    assert violation.from_stage is Stage.DISASSEMBLY
    assert violation.to_stage is Stage.PAINT
    assert violation.skipped == (Stage.BODY,)  # structural is not required for moderate
    assert "skipping required 1 stage(s): body" in violation.message


def test_skipping_a_stage_the_order_does_not_require_is_fine() -> None:
    events = [stage(s, i) for i, s in enumerate(MINOR)]
    state = replay(MINOR, events, severity="minor")
    assert state.violations == ()
    assert state.current_stage is Stage.DELIVERED
    assert state.delivered_at_ms == T0 + (len(MINOR) - 1) * H
    assert state.progress == 1.0


def test_first_stage_seen_late_reports_the_missing_ones() -> None:
    state = replay(MODERATE, [stage("parts_ordered", 0)])
    assert [v.skipped for v in state.violations] == [(Stage.INTAKE, Stage.ESTIMATE)]


def test_going_back_without_hold_is_a_violation_and_undoes_completion() -> None:
    events = [
        stage("intake", 0),
        stage("estimate", 1),
        stage("parts_ordered", 2),
        stage("disassembly", 3),
        stage("body", 4),
        stage("paint", 6),
        stage("body", 8),
    ]
    state = replay(MODERATE, events)
    (violation,) = state.violations
    assert violation.kind == "stage_backwards"
    assert (violation.from_stage, violation.to_stage) == (Stage.PAINT, Stage.BODY)
    assert state.current_stage is Stage.BODY
    assert Stage.PAINT not in state.completed_stages
    assert Stage.BODY not in state.completed_stages


def test_going_back_while_on_hold_is_allowed() -> None:
    events = [
        stage("intake", 0),
        stage("estimate", 1),
        stage("parts_ordered", 2),
        stage("disassembly", 3),
        stage("body", 4),
        BeaconEvent("hold", T0 + 5 * H, reason="hidden damage found"),
        stage("disassembly", 6),
        BeaconEvent("resume", T0 + 7 * H, reason="parts in"),
    ]
    state = replay(MODERATE, events)
    assert state.violations == ()
    assert state.current_stage is Stage.DISASSEMBLY
    assert not state.on_hold
    # The hold carried over into the new stage: 1 h of it is charged there.
    assert state.held_ms_in_stage == 1 * H
    assert state.visits[-2].stage is Stage.BODY
    assert state.visits[-2].held_ms == 1 * H


def test_hold_and_resume_track_time_and_reason() -> None:
    events = [
        stage("intake", 0),
        stage("estimate", 1),
        stage("parts_ordered", 2),
        BeaconEvent("hold", T0 + 3 * H, reason="waiting for parts"),
        BeaconEvent("resume", T0 + 7 * H),
        BeaconEvent("hold", T0 + 8 * H, reason="insurer approval"),
    ]
    state = replay(MODERATE, events)
    assert state.on_hold
    assert state.hold_reason == "insurer approval"
    assert state.hold_started_at_ms == T0 + 8 * H
    assert state.held_ms_in_stage == 4 * H
    # 10 h after entering: 4 h closed hold + 4 h open hold leave 2 h of work.
    assert state.active_ms_in_stage(T0 + 12 * H) == 2 * H
    assert state.hold_ms(T0 + 12 * H) == 4 * H
    # From 6 h on: 1 h of the first hold and the open 4 h leave 1 h of work.
    assert state.active_ms_in_stage(T0 + 12 * H, since_ms=T0 + 6 * H) == 1 * H


def test_stage_event_for_the_current_stage_updates_progress_only() -> None:
    events = [stage("intake", 0), stage("intake", 0.2, progress=0.8)]
    state = replay(MODERATE, events)
    assert state.stage_entered_at_ms == T0
    assert state.stage_progress == 0.8
    assert len(state.visits) == 1


def test_progress_naming_another_stage_enters_it() -> None:
    events = [stage("intake", 0), BeaconEvent("progress", T0 + H, stage="estimate", progress=0.3)]
    state = replay(MODERATE, events)
    assert state.current_stage is Stage.ESTIMATE
    assert state.stage_progress == 0.3


def test_progress_is_clipped_and_heartbeats_ignored() -> None:
    events = [stage("intake", 0, progress=1.7), BeaconEvent("heartbeat", T0 + H)]
    state = replay(MODERATE, events)
    assert state.stage_progress == 1.0
    assert state.last_event_at_ms == T0 + H
    assert state.last_activity_at_ms == T0


def test_no_events_means_no_stage() -> None:
    state = replay(MODERATE, [])
    assert state.current_stage is None
    assert state.progress == 0.0
    assert state.active_ms_in_stage(T0) == 0


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        replay(MODERATE, [BeaconEvent("stage", T0, stage="teleport")])
