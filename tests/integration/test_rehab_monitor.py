"""Rehab monitoring end to end: simulated days in the store -> monitor -> alerts, metrics, proposals via the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from devices.timestamps import now_ms
from monitor.rehab_monitor import DAY_MS, RehabMonitor, day_of, day_start
from simulators.wearable_signals import PatientProfile, simulate_patient_day
from store.stores import Stores
from tests.support.telemetry import write_series

pytestmark = pytest.mark.integration
ADMIN = "rehab-admin-token-0123456789abcdef"
GOOD = PatientProfile(
    exercise_sessions=2,
    sets_per_session=3,
    reps_per_set=12,
    walking_bouts=8,
    walking_minutes=(6.0, 12.0),
    desaturations=0,
    falls=0,
)


@pytest.fixture
def rehab(tmp_path: Path, state_url: str) -> Iterator[tuple[Stores, TestClient]]:
    stores = open_stores(Settings(data_dir=tmp_path, state_url=state_url))
    client = TestClient(create_app(AppContext(stores=stores, admin_token=ADMIN)))
    client.headers["Authorization"] = f"Bearer {ADMIN}"
    for pid in ("P-good", "P-events"):
        assert (
            client.post(
                "/api/v1/patients", json={"id": pid, "name": pid, "manager_id": "M1", "resting_hr": 62, "max_hr": 172}
            ).status_code
            == 201
        )
        assert client.post(f"/api/v1/patients/{pid}/plans", json={}).status_code == 201
        assert (
            client.post(
                "/api/v1/devices", json={"device_id": f"W-{pid}", "kind": "wearable", "patient_id": pid}
            ).status_code
            == 201
        )
    yield stores, client
    stores.close()


def test_injected_desaturation_and_fall_become_alerts_and_metrics_match_truth(rehab: tuple[Stores, TestClient]) -> None:
    stores, client = rehab
    today = day_start(now_ms())
    start = today - DAY_MS
    profile = PatientProfile(falls=1, desaturations=2, exercise_sessions=2, sets_per_session=3, reps_per_set=10)
    day = simulate_patient_day(7, day_start_ms=start, profile=profile)
    write_series(stores.timeseries, stores.state, subject="P-events", device_id="W-P-events", series=day.series)
    monitor = RehabMonitor(stores)
    monitor.run_once(now_ms())

    alerts = client.get("/api/v1/alerts", params={"subject": "P-events"}).json()["items"]
    kinds = {a["kind"]: a for a in alerts}
    assert "fall" in kinds, alerts
    assert "desaturation" in kinds, alerts
    assert kinds["desaturation"]["occurrences"] == len(day.truth.desaturations) == 2
    assert kinds["fall"]["severity"] == "critical"

    metrics = client.get("/api/v1/patients/P-events/metrics").json()["days"]
    got = next(d["metrics"] for d in metrics if d["day"] == day_of(start))
    truth = day.truth
    assert abs(got["steps"] - truth.steps) <= 0.03 * truth.steps
    reps = [s["reps"] for s in got["exercise_sessions"]]
    assert len(reps) == len(truth.sessions)
    for session, true_session in zip(got["exercise_sessions"], truth.sessions, strict=True):
        assert abs(session["reps"] - sum(s.reps for s in true_session.sets)) <= len(true_session.sets)
    assert len(got["desaturations"]) == 2
    assert len(got["falls"]) == 1
    assert abs(got["resting_hr"] - truth.resting_hr) < 3
    # a second pass over the same data raises nothing new
    monitor.run_once(now_ms())
    again = client.get("/api/v1/alerts", params={"subject": "P-events"}).json()["items"]
    assert {a["id"]: a["occurrences"] for a in again} == {a["id"]: a["occurrences"] for a in alerts}


def _week(stores: Stores, pid: str, days: int = 7) -> list[Any]:
    today = day_start(now_ms())
    seq = 0
    sims = []
    for i in range(days, 0, -1):
        sim = simulate_patient_day(100 + i, day_start_ms=today - i * DAY_MS, profile=GOOD)
        seq = write_series(
            stores.timeseries, stores.state, subject=pid, device_id=f"W-{pid}", series=sim.series, seq_start=seq
        )
        sims.append(sim)
    return sims


def test_a_good_week_proposes_progression_that_changes_the_plan_only_when_approved(
    rehab: tuple[Stores, TestClient],
) -> None:
    stores, client = rehab
    _week(stores, "P-good")
    RehabMonitor(stores).run_once(now_ms())
    proposed = client.get("/api/v1/patients/P-good/plan-adjustments", params={"state": "proposed"}).json()
    assert len(proposed) == 1, proposed
    adj = proposed[0]
    assert adj["direction"] == "progression"
    assert "adherence" in adj["rationale"]
    assert adj["changes"]
    before = client.get("/api/v1/patients/P-good/plans/current").json()
    assert before["version"] == 1
    # the monitor runs again: still one proposal, and the plan has not changed
    RehabMonitor(stores).run_once(now_ms())
    assert client.get("/api/v1/patients/P-good/plans/current").json()["version"] == 1

    manager = client.post("/api/v1/tokens", json={"role": "rehab_manager", "manager_id": "M1"}).json()["token"]
    approved = client.post(
        f"/api/v1/plan-adjustments/{adj['id']}/approve",
        json={"note": "looks right"},
        headers={"Authorization": f"Bearer {manager}"},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    after = client.get("/api/v1/patients/P-good/plans/current").json()
    assert after["version"] == 2
    assert after["content"] == adj["new_content"]
    assert after["created_by"] == "rehab_manager:M1"
    assert client.post(f"/api/v1/plan-adjustments/{adj['id']}/approve").status_code == 409


def test_checkins_and_milestones_make_plan_versions(rehab: tuple[Stores, TestClient]) -> None:
    _, client = rehab
    plan = client.get("/api/v1/patients/P-good/plans/current").json()
    next_date = plan["content"]["psychological"]["check_ins"]["next_date"]
    held = client.post(
        "/api/v1/patients/P-good/checkins",
        json={
            "held_at": next_date + "T10:00:00Z",
            "outcome": "concern",
            "mood": 2,
            "note": "worried about returning to work",
        },
    )
    assert held.status_code == 201, held.text
    after = client.get("/api/v1/patients/P-good/plans/current").json()
    assert after["version"] == plan["version"] + 1
    assert after["content"]["psychological"]["check_ins"]["next_date"] > next_date
    assert "concern" in after["reason"]
    assert client.get("/api/v1/patients/P-good/checkins").json()[0]["outcome"] == "concern"
    done = client.post("/api/v1/patients/P-good/milestones/0", json={"done": True, "note": "walked 2 km"})
    assert done.status_code == 200, done.text
    assert done.json()["content"]["daily_life"]["milestones"][0]["done"] is True
    assert done.json()["version"] == after["version"] + 1
    assert "walk without crutches" in done.json()["reason"]
    assert client.post("/api/v1/patients/P-good/milestones/99", json={"done": True}).status_code == 404


def test_not_worn_is_raised_once_and_cleared_only_after_ten_minutes_of_wear(rehab: tuple[Stores, TestClient]) -> None:
    import numpy as np

    stores, client = rehab
    now = now_ms()

    def wear(start: int, minutes: int, seq: int) -> int:
        t = np.arange(start, start + minutes * 60_000, 1000, dtype=np.int64)
        return write_series(
            stores.timeseries,
            stores.state,
            subject="P-good",
            device_id="W-P-good",
            series={"heart_rate": (t, np.full(t.shape, 70.0))},
            seq_start=seq,
        )

    def state() -> list[tuple[str, int]]:
        items = client.get("/api/v1/alerts", params={"subject": "P-good", "kind": "not_worn"}).json()["items"]
        return [(a["state"], a["occurrences"]) for a in items]

    seq = wear(now - 7 * 3_600_000, 60, 0)  # worn for an hour, then off for six (the plan allows four)
    monitor = RehabMonitor(stores)
    monitor.run_once(now)
    monitor.run_once(now + 5000)
    assert state() == [("open", 1)]
    seq = wear(now, 2, seq)  # on again for two minutes: not enough to clear
    monitor.run_once(now + 120_000)
    assert state() == [("open", 1)]
    wear(now + 120_000, 10, seq)  # twelve minutes in all
    monitor.run_once(now + 720_000)
    assert state() == [("resolved", 1)]
