"""Repair and rehab events of linked jobs and patients reach the claimant's outbox, once each."""

# The Chinese texts use full-width punctuation on purpose.
# ruff: noqa: RUF001
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.feeds import notify_from_events
from cases.monitor import CURSOR
from store.state.events import publish
from store.state.schema import EventRow, MonitorCursor
from tests.integration.test_cases_api import World, case_body, health_body, open_world

pytestmark = pytest.mark.integration
JOB = {
    "claim_id": "CL-1",
    "shop_id": "S1",
    "severity": "moderate",
    "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": False},
}


@pytest.fixture
def world(tmp_path: Path, state_url: str) -> Iterator[World]:
    yield from open_world(tmp_path, state_url)


def kinds(world: World, case_id: str, *skip: str) -> list[str]:
    return [n["kind"] for n in world.notifications(case_id) if n["kind"] not in ("payment_notice", "plan_ready", *skip)]


def test_events_of_linked_jobs_and_patients_become_notifications_once(world: World) -> None:
    world.post("/cases", case_body(**{"claimant.language": "zh"}))
    world.post("/cases", health_body("K2", "CL-2"))
    world.post("/repair-jobs", {"id": "J1", **JOB})
    world.post("/repair-jobs", {"id": "J2", **JOB, "claim_id": "CL-other"})
    world.post("/cases/K1/links", {"job_id": "J1"}, expect=200)
    world.post("/cases/K2/links", {"patient_id": "P1"}, expect=200)
    world.post("/patients/P1/plans", {"reason": "initial plan"})  # the rehab half publishes plan_version
    with world.stores.state.session() as s:
        publish(s, "stage_change", {"job_id": "J1", "stage": "body"}, job_id="J1", shop_id="S1")
        publish(s, "stage_change", {"job_id": "J2", "stage": "body"}, job_id="J2", shop_id="S1")  # not a case's
        publish(s, "alert", {"kind": "stall", "details": {"stage": "body"}, "alert_id": "A-1"}, job_id="J1")
        publish(s, "alert", {"kind": "missing_photo", "alert_id": "A-2"}, job_id="J1")  # not claimant-relevant
        publish(s, "stage_change", {"job_id": "J1", "stage": "ready"}, job_id="J1", shop_id="S1")
        publish(s, "warranty_issued", {"job_id": "J1", "months": 36, "expires_at_ms": 1830297600000}, job_id="J1")
        publish(s, "metrics_updated", {"patient_id": "P1"}, patient_id="P1")
    world.post("/patients/P1/plans", {"reason": "more walking"})
    with world.stores.state.session() as s:
        newest = s.execute(select(EventRow.id).order_by(EventRow.id.desc()).limit(1)).scalar_one()
        assert notify_from_events(s, 0) == newest
    assert kinds(world, "K1") == ["repair_stage", "repair_late", "car_ready", "warranty"]
    assert kinds(world, "K2") == ["rehab_plan_ready", "rehab_plan_changed"]
    assert world.notifications("K1")[-1]["text"] == "您的维修享有36个月保修，有效期至2028年1月1日（星期六）。"
    k1 = [n for n in world.notifications("K1") if n["kind"] in ("repair_stage", "repair_late", "car_ready")]
    assert k1[0]["subject"] == "维修进度：钣金"
    assert "钣金" in k1[1]["text"]
    k2 = world.notifications("K2")
    assert k2[-1]["text"] == "Your rehab plan was updated to version 2: more walking"
    with world.stores.state.session() as s:
        assert notify_from_events(s, 0) == newest  # read again: nothing sent twice
        assert notify_from_events(s, newest) == newest
    assert kinds(world, "K1") == ["repair_stage", "repair_late", "car_ready", "warranty"]
    assert len(kinds(world, "K2")) == 2


def test_the_cases_monitor_keeps_its_cursor(world: World) -> None:
    world.post("/cases", case_body())
    world.post("/repair-jobs", {"id": "J1", **JOB})
    world.monitor_pass()  # links J1 by claim id
    with world.stores.state.session() as s:
        publish(s, "stage_change", {"job_id": "J1", "stage": "paint"}, job_id="J1")
    world.monitor_pass()
    assert kinds(world, "K1") == ["repair_stage"]
    with world.stores.state.session() as s:
        cursor = s.get(MonitorCursor, CURSOR)
        assert cursor is not None
        first = cursor.value_ms
        publish(s, "stage_change", {"job_id": "J1", "stage": "quality_check"}, job_id="J1")
    world.monitor_pass()
    world.monitor_pass()
    assert kinds(world, "K1") == ["repair_stage", "repair_stage"]
    with world.stores.state.session() as s:
        cursor = s.get(MonitorCursor, CURSOR)
        assert cursor is not None
        assert cursor.value_ms > first
