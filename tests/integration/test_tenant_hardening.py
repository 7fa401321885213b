"""Issue 15, findings 2, 3, 6, 7 and 8: what a shop, a manager and a claimant token can do and learn.

Each test drives the real API over a real state store (SQLite and PostgreSQL); the reuse test runs the real
repair monitor over photos that went through the ingestion pipeline.
"""

from __future__ import annotations

import json
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
from ingest.pipeline import IngestPipeline
from monitor.repair_monitor import RepairMonitor
from simulators.photos import ReuseKind, reuse
from store.state.schema import Alert
from store.state.schema_repair import SpotCheck
from store.stores import Stores
from tests.integration.test_repair_monitor import CHECKPOINTS, HOUR, Shop, clean

pytestmark = pytest.mark.integration
ADMIN = "hardening-admin-token-0123456789abcdef"
World = tuple[Stores, TestClient, dict[str, str]]


@pytest.fixture
def world(tmp_path: Path, state_url: str) -> Iterator[World]:
    stores = open_stores(Settings(data_dir=tmp_path, state_url=state_url))
    client = TestClient(create_app(AppContext(stores=stores, admin_token=ADMIN)))
    client.headers["Authorization"] = f"Bearer {ADMIN}"
    shops = {sid: Shop(stores, client, sid) for sid in ("S-a", "S-b")}
    shops["S-a"].job("J-a")
    shops["S-b"].job("J-b")
    for pid, mgr in (("P1", "M1"), ("P2", "M2")):
        answer = client.post("/api/v1/patients", json={"id": pid, "name": pid, "manager_id": mgr})
        assert answer.status_code == 201, answer.text
    tokens = {"admin": ADMIN}
    for name, body in (
        ("claims", {"role": "claims_handler"}),
        ("mgr1", {"role": "rehab_manager", "manager_id": "M1"}),
        ("shop_a", {"role": "shop", "shop_id": "S-a"}),
        ("shop_b", {"role": "shop", "shop_id": "S-b"}),
    ):
        answer = client.post("/api/v1/tokens", json=body)
        assert answer.status_code == 201, answer.text
        tokens[name] = answer.json()["token"]
    yield stores, client, tokens
    stores.close()


def as_(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def _alert(stores: Stores, alert_id: str, kind: str, job_id: str, shop_id: str) -> None:
    with stores.state.session() as s:
        s.add(
            Alert(
                id=alert_id,
                kind=kind,
                subject=job_id,
                subject_type="job",
                severity="critical",
                state="open",
                message=f"{kind} on {job_id}",
                details={},
                occurrences=1,
                opened_ms=1,
                updated_ms=1,
                job_id=job_id,
                shop_id=shop_id,
            )
        )


# finding 2 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["photo_reuse", "photo_location", "photo_time", "photo_quality"])
def test_a_shop_acknowledges_but_cannot_close_a_fraud_or_quality_alert_against_itself(world: World, kind: str) -> None:
    stores, client, tokens = world
    _alert(stores, "A-1", kind, "J-a", "S-a")
    shop = as_(tokens, "shop_a")
    shelve = {"reason": "not us", "for_seconds": 3600}
    # the list says what each caller may do, so the dashboards offer only that
    assert client.get("/api/v1/alerts", headers=shop).json()["items"][0]["actions"] == ["ack"]
    staff_view = client.get("/api/v1/alerts", headers=as_(tokens, "claims")).json()["items"][0]
    assert staff_view["actions"] == ["ack", "resolve", "shelve"]
    assert client.post("/api/v1/alerts/A-1/ack", headers=shop).status_code == 200
    refused = client.post("/api/v1/alerts/A-1/resolve", headers=shop)
    assert refused.status_code == 403, refused.text
    assert "claims_handler" in refused.json()["detail"]
    assert client.post("/api/v1/alerts/A-1/shelve", json=shelve, headers=shop).status_code == 403
    after_ack = client.get("/api/v1/alerts", headers=shop).json()["items"][0]
    assert (after_ack["state"], after_ack["actions"]) == ("acknowledged", [])
    shelved = client.post("/api/v1/alerts/A-1/shelve", json=shelve, headers=as_(tokens, "claims"))
    assert shelved.status_code == 200, shelved.text
    assert client.post("/api/v1/alerts/A-1/resolve", headers=as_(tokens, "admin")).status_code == 200


def test_a_shop_still_shelves_a_delay_of_its_own_job(world: World) -> None:
    stores, client, tokens = world
    _alert(stores, "A-2", "stall", "J-a", "S-a")
    assert client.get("/api/v1/alerts", headers=as_(tokens, "shop_a")).json()["items"][0]["actions"] == [
        "ack",
        "resolve",
        "shelve",
    ]
    answer = client.post(
        "/api/v1/alerts/A-2/shelve", json={"reason": "parts", "for_seconds": 3600}, headers=as_(tokens, "shop_a")
    )
    assert answer.status_code == 200, answer.text


# finding 3 (the API half; the settings half is tests/unit/test_settings_secrets.py) -------------------------


def test_a_shop_never_sees_the_draw_or_probability_of_its_spot_checks(world: World) -> None:
    stores, client, tokens = world
    with stores.state.session() as s:
        s.add(
            SpotCheck(
                id="SC-1",
                job_id="J-a",
                shop_id="S-a",
                stage="paint",
                photo_id="PH-1",
                probability=0.25,
                draw=0.125,
                flagged=True,
                shop_score=0.5,
                state="pending",
                created_ms=1,
            )
        )
    seen = client.get("/api/v1/spot-checks", headers=as_(tokens, "shop_a"))
    assert seen.status_code == 200, seen.text
    (item,) = seen.json()["items"]
    assert item["id"] == "SC-1"
    assert not {"draw", "probability", "flagged", "shop_score"} & set(item), item
    (staff,) = client.get("/api/v1/spot-checks", headers=as_(tokens, "claims")).json()["items"]
    assert (staff["draw"], staff["probability"]) == (0.125, 0.25)
    assert client.get("/api/v1/spot-checks", headers=as_(tokens, "shop_b")).json()["items"] == []


# finding 6 ---------------------------------------------------------------------------------------------------


def test_a_shop_sees_only_its_own_side_of_a_reuse_alert(world: World) -> None:
    stores, client, tokens = world
    start = now_ms() - 10 * HOUR
    paint = sorted(CHECKPOINTS).index("paint")
    original = clean(10 + paint, start + 5 * HOUR + 60_000)
    gateway_a = _gateway(stores, client, "S-a")
    gateway_b = _gateway(stores, client, "S-b")
    gateway_a.run("J-a", start, until="paint", seed=10)
    gateway_b.run("J-b", start, until="paint", photos={"paint": reuse(original, ReuseKind.REENCODED)}, seed=60)
    RepairMonitor(stores, spot_base_rate=0.0).run_once(now_ms())

    photos_a = {p["stage"]: p["id"] for p in client.get("/api/v1/repair-jobs/J-a").json()["photos"]}
    staff = client.get("/api/v1/alerts", params={"kind": "photo_reuse"}, headers=as_(tokens, "claims")).json()
    (staff_alert,) = staff["items"]
    assert staff_alert["job_id"] == "J-b"
    assert staff_alert["details"]["reuse"][0]["job_id"] == "J-a"  # staff see both sides
    assert staff_alert["details"]["reuse"][0]["photo_id"] == photos_a["paint"]

    other_side = ("J-a", photos_a["paint"], "S-a")
    seen_by_b = client.get("/api/v1/alerts", params={"kind": "photo_reuse"}, headers=as_(tokens, "shop_b")).json()
    (alert,) = seen_by_b["items"]
    assert alert["details"]["photo_id"] in {p["id"] for p in client.get("/api/v1/repair-jobs/J-b").json()["photos"]}
    text = json.dumps(alert)
    assert not [x for x in other_side if x in text], text
    job_b = json.dumps(client.get("/api/v1/repair-jobs/J-b", headers=as_(tokens, "shop_b")).json())
    assert not [x for x in other_side if x in job_b], job_b
    assert (
        client.get("/api/v1/alerts", params={"kind": "photo_reuse"}, headers=as_(tokens, "shop_a")).json()["items"]
        == []
    )


def _gateway(stores: Stores, client: TestClient, shop_id: str) -> Shop:
    """A gateway of an existing shop (the `Shop` helper also creates the shop)."""
    gateway = Shop.__new__(Shop)
    gateway.pipeline = IngestPipeline(
        timeseries=stores.timeseries, state=stores.state, registry=stores.registry, photos=stores.photos
    )
    gateway.device, gateway.seq, gateway.shop_id, gateway.client = f"G-{shop_id}", 10_000, shop_id, client
    return gateway


# finding 7 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"role": "claimant", "case_id": "K-not-yet"},
        {"role": "claimant", "patient_id": "P-none"},
        {"role": "claimant", "job_id": "J-none"},
        {"role": "shop", "shop_id": "S-none"},
    ],
)
def test_no_token_for_a_subject_that_does_not_exist(world: World, body: dict[str, Any]) -> None:
    _stores, client, _tokens = world
    answer = client.post("/api/v1/tokens", json=body)
    assert answer.status_code == 404, answer.text
    assert "does not exist" in answer.json()["detail"]


# finding 8 ---------------------------------------------------------------------------------------------------


def test_a_manager_learns_only_that_a_patient_id_is_taken(world: World) -> None:
    _stores, client, tokens = world
    mgr = as_(tokens, "mgr1")
    own = client.post("/api/v1/patients", json={"id": "P1", "name": "again"}, headers=mgr)
    others = client.post("/api/v1/patients", json={"id": "P2", "name": "probe"}, headers=mgr)
    assert own.status_code == others.status_code == 409
    assert own.json() == others.json()
    assert "P2" not in others.text
    assert "M2" not in others.text
    # reading: another manager's patient and a patient that does not exist answer alike
    hidden, missing = client.get("/api/v1/patients/P2", headers=mgr), client.get("/api/v1/patients/P-none", headers=mgr)
    assert hidden.status_code == missing.status_code == 403
    assert hidden.json()["detail"].replace("P2", "X") == missing.json()["detail"].replace("P-none", "X")
