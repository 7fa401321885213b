"""Repair alert rules: stall, long hold, sequence, missing photo, SLA, shop offline."""

from __future__ import annotations

import pytest

from monitor.repair.prediction import HOUR_MS, predict_completion
from monitor.repair.rules import (
    MINUTE_MS,
    RepairAlertCandidate,
    RepairRuleConfig,
    check_long_hold,
    check_missing_photos,
    check_shop_offline,
    check_sla,
    check_stall,
    drop_inhibited,
    evaluate_job,
    is_inhibited,
    sequence_alerts,
    stall_cleared,
)
from monitor.repair.stages import Stage, default_required_stages
from monitor.repair.timeline import BeaconEvent, JobState, replay

T0 = 1_795_500_000_000
H = HOUR_MS
MODERATE = default_required_stages("moderate")
PREFIX = ["intake", "estimate", "parts_ordered", "disassembly"]


def _job(*extra: BeaconEvent) -> JobState:
    """Through disassembly (entered at 3 h), then into body (10 h expected) at 4 h."""
    events = [BeaconEvent("stage", T0 + i * H, stage=n) for i, n in enumerate(PREFIX)]
    events.append(BeaconEvent("stage", T0 + 4 * H, stage="body"))
    return replay(MODERATE, [*events, *extra])


def test_stall_after_one_and_a_half_times_the_expected_hours() -> None:
    state = _job()
    assert check_stall("J1", state, now_ms=T0 + 18 * H, severity="moderate") is None  # 14 h
    alert = check_stall("J1", state, now_ms=T0 + 20 * H, severity="moderate")  # 16 h
    assert alert is not None
    assert (alert.kind, alert.subject, alert.stage) == ("stall", "J1", Stage.BODY)
    assert alert.at_ms == T0 + 19 * H  # 4 h + 1.5 x 10 h
    assert alert.message == (
        "body has taken 16.0 h of work (holds excluded), more than 1.5 x the expected 10 h = 15.0 h"
    )
    assert alert.key == "stall:J1:body"


def test_hold_time_is_excluded_from_the_stall_clock() -> None:
    state = _job(BeaconEvent("hold", T0 + 6 * H, reason="parts"), BeaconEvent("resume", T0 + 12 * H))
    assert check_stall("J1", state, now_ms=T0 + 24 * H, severity="moderate") is None  # 14 h
    alert = check_stall("J1", state, now_ms=T0 + 26 * H, severity="moderate")
    assert alert is not None
    assert alert.at_ms == T0 + 25 * H  # the crossing moment skips the 6 h hold


def test_stall_is_cleared_only_by_progress_or_stage_change() -> None:
    stalled = _job(BeaconEvent("hold", T0 + 20 * H), BeaconEvent("resume", T0 + 21 * H))
    alert = check_stall("J1", stalled, now_ms=T0 + 22 * H, severity="moderate")
    assert alert is not None
    assert not stall_cleared(alert.at_ms, stalled)  # a resume does not clear it
    progressed = _job(BeaconEvent("progress", T0 + 23 * H, progress=0.7))
    assert stall_cleared(alert.at_ms, progressed)
    assert progressed.last_activity_at_ms is not None
    # After clearing, the clock restarts at the progress report.
    since = progressed.last_activity_at_ms
    assert check_stall("J1", progressed, now_ms=T0 + 30 * H, severity="moderate", since_ms=since) is None
    assert check_stall("J1", progressed, now_ms=T0 + 39 * H, severity="moderate", since_ms=since) is not None


def test_delivered_and_empty_jobs_never_stall() -> None:
    delivered = replay(MODERATE, [BeaconEvent("stage", T0 + i * H, stage=s) for i, s in enumerate(MODERATE)])
    assert check_stall("J", delivered, now_ms=T0 + 900 * H, severity="moderate") is None
    assert check_stall("J", replay(MODERATE, []), now_ms=T0, severity="moderate") is None


def test_long_hold() -> None:
    state = _job(BeaconEvent("hold", T0 + 5 * H, reason="waiting for parts"))
    assert check_long_hold("J1", state, now_ms=T0 + 50 * H) is None
    alert = check_long_hold("J1", state, now_ms=T0 + 60 * H)
    assert alert is not None
    assert alert.at_ms == T0 + 53 * H
    assert alert.message == "on hold for 55.0 h (waiting for parts), longer than 48 h"
    short = RepairRuleConfig(long_hold_hours=4)
    assert check_long_hold("J1", state, now_ms=T0 + 10 * H, config=short) is not None


def test_sequence_violations_become_alerts() -> None:
    state = _job(BeaconEvent("stage", T0 + 6 * H, stage="reassembly"), BeaconEvent("stage", T0 + 7 * H, stage="body"))
    alerts = sequence_alerts("J1", state)
    assert [(a.kind, a.stage) for a in alerts] == [("stage_skipped", Stage.REASSEMBLY), ("stage_backwards", Stage.BODY)]
    assert "skipping required 1 stage(s): paint" in alerts[0].message


def test_missing_photo_after_leaving_a_checkpoint_stage() -> None:
    state = _job(BeaconEvent("stage", T0 + 8 * H, stage="paint"))
    # disassembly (left at 4 h) and body (left at 8 h) are checkpoints; body has a photo.
    within_grace = check_missing_photos("J1", state, {"body"}, now_ms=T0 + 8 * H + 10 * MINUTE_MS)
    assert [a.stage for a in within_grace] == [Stage.DISASSEMBLY]
    later = check_missing_photos("J1", state, {"body"}, now_ms=T0 + 9 * H)
    assert [a.stage for a in later] == [Stage.DISASSEMBLY]
    assert later[0].at_ms == T0 + 4 * H + 30 * MINUTE_MS
    assert "no photo of it after 300 min (grace 30 min)" in later[0].message
    none_missing = check_missing_photos("J1", state, ["body", "disassembly"], now_ms=T0 + 9 * H)
    assert none_missing == []
    all_missing = check_missing_photos("J1", state, [], now_ms=T0 + 9 * H)
    assert {a.stage for a in all_missing} == {Stage.DISASSEMBLY, Stage.BODY}


def test_stage_not_required_needs_no_photo() -> None:
    events = [
        BeaconEvent("stage", T0, stage="disassembly"),
        BeaconEvent("stage", T0 + H, stage="structural"),
        BeaconEvent("stage", T0 + 2 * H, stage="body"),
    ]
    state = replay(default_required_stages("minor"), events)
    alerts = check_missing_photos("J1", state, {"disassembly"}, now_ms=T0 + 5 * H)
    assert alerts == []


def test_sla_breach_when_predicted_after_promise() -> None:
    state = _job(BeaconEvent("progress", T0 + 5 * H, progress=0.5))
    prediction = predict_completion(state, now_ms=T0 + 5 * H, severity="moderate")
    # 5 h of body + 10 paint + 6 reassembly + 2 adas + 1 quality + 1.5 detail + 8 ready = 33.5 h
    assert prediction.remaining_hours == pytest.approx(33.5)
    on_time = check_sla("J1", prediction, promised_at_ms=T0 + 40 * H, now_ms=T0 + 5 * H)
    assert on_time is None
    late = check_sla("J1", prediction, promised_at_ms=T0 + 30 * H, now_ms=T0 + 5 * H)
    assert late is not None
    assert late.kind == "sla_breach"
    assert " is 8.5 h after the promised " in late.message
    assert check_sla("J1", prediction, promised_at_ms=None, now_ms=T0) is None


def test_shop_offline_after_the_on_delay() -> None:
    last = T0
    assert check_shop_offline("S1", last, now_ms=T0 + 15 * MINUTE_MS) is None
    alert = check_shop_offline("S1", last, now_ms=T0 + 40 * MINUTE_MS)
    assert alert is not None
    assert (alert.kind, alert.subject, alert.at_ms) == ("shop_offline", "S1", T0 + 15 * MINUTE_MS)
    assert alert.message.startswith("no heartbeat for 40 min")
    assert check_shop_offline("S1", None, now_ms=T0) is None


def test_stall_alerts_of_offline_shops_are_inhibited() -> None:
    assert is_inhibited("stall", shop_offline=True)
    assert not is_inhibited("stall", shop_offline=False)
    assert not is_inhibited("missing_photo", shop_offline=True)
    candidates = [
        RepairAlertCandidate("stall", "J1", "m", T0),
        RepairAlertCandidate("stall", "J2", "m", T0),
        RepairAlertCandidate("long_hold", "J1", "m", T0),
        RepairAlertCandidate("shop_offline", "S1", "m", T0),
    ]
    kept = drop_inhibited(candidates, {"J1": "S1", "J2": "S2"}, {"S1"})
    assert [(c.kind, c.subject) for c in kept] == [("stall", "J2"), ("long_hold", "J1"), ("shop_offline", "S1")]


def test_evaluate_job_collects_every_rule() -> None:
    state = _job(
        BeaconEvent("stage", T0 + 6 * H, stage="reassembly"), BeaconEvent("hold", T0 + 7 * H, reason="insurer approval")
    )
    prediction = predict_completion(state, now_ms=T0 + 80 * H, severity="moderate")
    alerts = evaluate_job(
        "J1",
        state,
        now_ms=T0 + 80 * H,
        severity="moderate",
        prediction=prediction,
        promised_at_ms=T0 + 24 * H,
        photo_stages={"disassembly"},
    )
    kinds = sorted(a.kind for a in alerts)
    assert kinds == ["long_hold", "missing_photo", "sla_breach", "stage_skipped"]
    offline = evaluate_job(
        "J1", _job(), now_ms=T0 + 30 * H, severity="moderate", shop_offline=True, photo_stages={"disassembly"}
    )
    assert offline == []
    online = evaluate_job("J1", _job(), now_ms=T0 + 30 * H, severity="moderate", photo_stages={"disassembly"})
    assert [a.kind for a in online] == ["stall"]
