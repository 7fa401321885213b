"""The recovery file: validated stages, amounts with interest, the deductible refund, deadline alert, progress."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.subrogation import DAY_MS
from store.state.schema import Alert
from tests.integration.test_cases_api import World, case_body, health_body, open_world

pytestmark = pytest.mark.integration
PAID_MS = 1735869600000  # 2025-01-03T10:00:00+08:00
DEADLINE_MS = 1829262600000  # 2027-12-20T00:30:00Z: three years after the loss


@pytest.fixture
def world(tmp_path: Path, state_url: str) -> Iterator[World]:
    yield from open_world(tmp_path, state_url)


def progress(world: World, case_id: str = "K1") -> list[dict[str, object]]:
    return [n for n in world.notifications(case_id) if n["kind"] == "subrogation_progress"]


def test_recovery_file_from_investigation_to_recovered(world: World) -> None:
    world.post("/cases", case_body())
    file = world.post("/cases/K1/subrogation", {"third_party": {"name": "Zhang San", "insurer": "Other Mutual"}})
    assert (file["stage"], file["claimed"], file["deductible"], file["currency"]) == (
        "investigation",
        5000.0,
        500.0,
        "CNY",
    )
    assert file["allowed_next"] == ["evidence", "closed"]
    assert file["deadline_ms"] == DEADLINE_MS
    assert world.post("/cases/K1/subrogation", {"third_party": {"name": "X"}}, expect=409)["detail"].endswith(
        "already has a recovery file"
    )
    refused = world.post("/cases/K1/subrogation/events", {"stage": "demand"}, expect=409)["detail"]
    assert refused == "stage: a recovery file cannot go from investigation to demand (allowed: evidence, closed)"
    world.post("/cases/K1/subrogation/events", {"stage": "evidence", "note": "dashcam footage"})
    world.post("/cases/K1/subrogation/events", {"stage": "demand", "claimed": 5000})
    world.post("/cases/K1/subrogation/events", {"stage": "negotiation"})
    assert world.post("/cases/K1/subrogation/events", {"stage": "recovered"}, expect=409)["detail"].startswith(
        "stage: a recovery file cannot go from negotiation to recovered"
    )
    half = world.post("/cases/K1/subrogation/events", {"stage": "settlement", "recovered": 2500})
    assert (half["recovered"], half["deductible_refund_due"], half["deductible_refunded"]) == (2500.0, 250.0, 250.0)
    world.post("/cases/K1/subrogation/events", {"stage": "recovered"}, expect=201)
    done = world.get("/cases/K1/subrogation")
    assert done["stage"] == "recovered"
    assert done["allowed_next"] == ["closed"]
    world.post("/cases/K1/subrogation/events", {"recovered": 2500, "note": "balance"})
    done = world.get("/cases/K1/subrogation")
    assert (done["recovered"], done["deductible_refunded"], done["deductible_refund_due"]) == (5000.0, 500.0, 500.0)
    last = done["steps"][-1]
    assert (last["recovered"], last["refund"]) == (2500.0, 250.0)
    days = (last["at_ms"] - PAID_MS) / DAY_MS
    assert done["interest"] == round(5000 * 0.04 * days / 365, 2)
    assert done["total_due"] == round(5000 + done["interest"], 2)
    assert done["outstanding"] == done["interest"]
    assert [s["stage"] for s in done["steps"]] == [
        "investigation",
        "evidence",
        "demand",
        "negotiation",
        "settlement",
        "recovered",
        "recovered",
    ]
    world.post("/cases/K1/subrogation/events", {"stage": "closed"})
    assert world.post("/cases/K1/subrogation/events", {"recovered": 10}, expect=409)["detail"].endswith("is closed")
    notes = progress(world)
    assert len(notes) == 8  # the opening and every step
    assert "Zhang San" in str(notes[0]["text"])
    assert "Refund of your deductible so far: 500.00 CNY" in str(notes[-1]["text"])
    assert world.get("/cases/K1")["figures"]["amount_recovered"] == 5000.0
    claimant = world.token(role="claimant", case_id="K1")
    assert world.get("/cases/K1/subrogation", token=claimant)["stage"] == "closed"
    world.post("/cases/K1/subrogation/events", {"stage": "closed"}, token=claimant, expect=403)
    steps = [e for e in world.get("/cases/K1/timeline", token=claimant)["entries"] if e["source"] == "subrogation"]
    assert len(steps) == 8


def test_no_recovery_without_a_liable_third_party(world: World) -> None:
    world.post("/cases", health_body("K2", "CL-2"))
    detail = world.post("/cases/K2/subrogation", {"third_party": {"name": "X"}}, expect=409)["detail"]
    assert "no liable third party" in detail
    world.get("/cases/K2/subrogation", expect=404)
    world.post("/cases/K2/subrogation/events", {"stage": "evidence"}, expect=404)
    world.post("/cases", case_body())
    world.post("/cases/K1/subrogation", {"third_party": {"name": "X"}})
    bad = world.post("/cases/K1/subrogation/events", {}, expect=422)["detail"][0]["msg"]
    assert bad.endswith("give a stage, an amount claimed or an amount recovered")
    assert world.post("/cases/K1/subrogation/events", {"recovered": -5}, expect=422)["detail"][0]["loc"] == [
        "body",
        "recovered",
    ]


def alerts(world: World) -> list[Alert]:
    with world.stores.state.session() as s:
        return list(s.execute(select(Alert).where(Alert.kind == "subrogation_deadline")).scalars())


def test_deadline_alert_well_before_the_limitation_deadline(world: World) -> None:
    world.post("/cases", case_body())
    world.post("/cases/K1/subrogation", {"third_party": {"name": "Zhang San"}})
    world.monitor_pass(DEADLINE_MS - 91 * DAY_MS)
    assert alerts(world) == []
    world.monitor_pass(DEADLINE_MS - 89 * DAY_MS)
    (alert,) = alerts(world)
    assert (alert.subject, alert.subject_type, alert.severity, alert.state) == ("K1", "case", "warning", "open")
    assert "2027-12-20" in alert.message
    assert "89 days left" in alert.message
    world.monitor_pass(DEADLINE_MS - 88 * DAY_MS)
    assert [a.occurrences for a in alerts(world)] == [1]  # not re-raised every pass
    world.monitor_pass(DEADLINE_MS - 20 * DAY_MS)
    (alert,) = alerts(world)
    assert alert.severity == "critical"
    staff = world.get("/cases/K1/timeline")["entries"]
    assert any(e["kind"] == "subrogation_deadline" for e in staff)
    claimant = world.token(role="claimant", case_id="K1")
    assert not any(
        e["kind"] == "subrogation_deadline" for e in world.get("/cases/K1/timeline", token=claimant)["entries"]
    )
    world.post("/cases/K1/subrogation/events", {"stage": "closed", "note": "third party insolvent"})
    (alert,) = alerts(world)
    assert alert.state == "resolved"


def test_an_old_loss_alerts_as_soon_as_the_file_opens(world: World) -> None:
    world.post("/cases", case_body(**{"loss.occurred_at": "2022-03-01T00:00:00Z"}))
    world.post("/cases/K1/subrogation", {"third_party": {"name": "Zhang San"}})
    (alert,) = alerts(world)
    assert alert.severity == "critical"
    assert "overdue" in alert.message


def test_progress_notice_at_least_every_30_days(world: World) -> None:
    world.post("/cases", case_body())
    opened = world.post("/cases/K1/subrogation", {"third_party": {"name": "Zhang San"}})
    start = opened["last_progress_ms"]
    assert len(progress(world)) == 1
    world.monitor_pass(start + 29 * DAY_MS)
    assert len(progress(world)) == 1
    world.monitor_pass(start + 30 * DAY_MS)
    world.monitor_pass(start + 30 * DAY_MS)
    notes = progress(world)
    assert len(notes) == 2
    assert str(notes[1]["text"]).startswith("No change this month")
    world.monitor_pass(start + 45 * DAY_MS)
    assert len(progress(world)) == 2
    world.monitor_pass(start + 60 * DAY_MS)
    assert len(progress(world)) == 3
