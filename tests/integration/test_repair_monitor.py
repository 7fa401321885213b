"""Repair monitoring: each injected fault becomes the right alert through the API; a clean job raises none.

Beacons and photos go through the real ingestion pipeline (decode, authorize, store) into the state store
on SQLite and PostgreSQL; the monitor runs one pass; the API is asked what it concluded.
"""

from __future__ import annotations

import base64
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
from ingest.inbound import Inbound
from ingest.pipeline import IngestPipeline
from monitor.leases import leases_for
from monitor.repair.stages import default_required_stages
from monitor.repair_monitor import RepairMonitor
from monitor.worker import MonitorWorker
from simulators.photos import PhotoFault, ReuseKind, checkpoint_photo, offset_position, reuse
from store.stores import Stores

pytestmark = pytest.mark.integration
ADMIN = "repair-admin-token-0123456789abcdef"
HOUR = 3_600_000
SHOP_LAT, SHOP_LON = 31.2304, 121.4737
CHECKPOINTS = {"disassembly", "body", "paint", "reassembly", "quality_check"}


class Shop:
    """Sends one gateway's messages through the ingestion pipeline, like MQTT would."""

    def __init__(self, stores: Stores, client: TestClient, shop_id: str) -> None:
        self.pipeline = IngestPipeline(
            timeseries=stores.timeseries, state=stores.state, registry=stores.registry, photos=stores.photos
        )
        self.device = f"G-{shop_id}"
        self.seq = 0
        assert (
            client.post(
                "/api/v1/shops",
                json={
                    "id": shop_id,
                    "name": shop_id,
                    "lat": SHOP_LAT,
                    "lon": SHOP_LON,
                    "makes": ["Toyota"],
                    "capacity": 10,
                    "severities": ["minor", "moderate"],
                },
            ).status_code
            == 201
        )
        assert (
            client.post(
                "/api/v1/devices", json={"device_id": self.device, "kind": "shop_gateway", "shop_id": shop_id}
            ).status_code
            == 201
        )
        self.shop_id = shop_id
        self.client = client

    def job(self, job_id: str, *, drivable: bool = True) -> None:
        answer = self.client.post(
            "/api/v1/repair-jobs",
            json={
                "id": job_id,
                "claim_id": f"C-{job_id}",
                "shop_id": self.shop_id,
                "severity": "minor",
                "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2021, "drivable": drivable},
            },
        )
        assert answer.status_code == 201, answer.text

    def send(self, leaf: str, doc: dict[str, Any]) -> None:
        self.seq += 1
        result = self.pipeline.process(
            [
                Inbound(
                    topic=f"aftercare/v1/shops/{self.device}/{leaf}",
                    payload=json.dumps({"seq": self.seq, **doc}).encode(),
                    mid=self.seq,
                    qos=1,
                    generation=1,
                    received_ms=now_ms(),
                )
            ]
        )
        assert result.dead_letters == 0

    def stage(self, job_id: str, stage: str, at: int) -> None:
        self.send("beacon", {"job_id": job_id, "event": "stage", "stage": stage, "at": at})

    def heartbeat(self, at: int) -> None:
        self.send("beacon", {"event": "heartbeat", "at": at})

    def photo(self, job_id: str, stage: str, at: int, data: bytes) -> None:
        self.send(
            "photo",
            {
                "job_id": job_id,
                "stage": stage,
                "taken_at": at,
                "content_type": "image/jpeg",
                "image_b64": base64.b64encode(data).decode(),
                "lat": SHOP_LAT,
                "lon": SHOP_LON,
            },
        )

    def run(
        self,
        job_id: str,
        start: int,
        *,
        until: str = "delivered",
        skip: str | None = None,
        photos: dict[str, bytes] | None = None,
        seed: int = 0,
    ) -> int:
        """Walk a minor job through its stages an hour apart, with a clean photo at each checkpoint."""
        at = start
        for stage in default_required_stages("minor"):
            if stage == skip:
                continue
            self.stage(job_id, stage, at)
            if stage in CHECKPOINTS:
                data = (photos or {}).get(stage) or clean(seed + sorted(CHECKPOINTS).index(stage), at + 60_000)
                self.photo(job_id, stage, at + 60_000, data)
            if stage == until:
                break
            at += HOUR
        return at


def clean(seed: int, at: int) -> bytes:
    return checkpoint_photo(seed, taken_at_ms=at, lat=SHOP_LAT, lon=SHOP_LON).data


@pytest.fixture
def world(tmp_path: Path, state_url: str) -> Iterator[tuple[Stores, TestClient]]:
    stores = open_stores(Settings(data_dir=tmp_path, state_url=state_url))
    client = TestClient(create_app(AppContext(stores=stores, admin_token=ADMIN)))
    client.headers["Authorization"] = f"Bearer {ADMIN}"
    yield stores, client
    stores.close()


def kinds(client: TestClient, job_id: str) -> dict[str, dict[str, Any]]:
    items = client.get("/api/v1/alerts", params={"subject": job_id, "state": "active"}).json()["items"]
    return {a["kind"]: a for a in items}


def _through(stores: Stores, runner: str, now: int) -> None:
    """One pass of the repair monitor: alone (`run_once`), or driven by a monitor worker as in service, whose
    rounds take the jobs from the monitor inbox, check the photos in the background and the jobs on a tick."""
    monitor = RepairMonitor(stores, spot_base_rate=0.0)
    if runner == "run_once":
        monitor.run_once(now)
        return
    worker = MonitorWorker(
        leases=leases_for(stores.state), read_session=stores.state.session, monitors=[monitor], clock=lambda: now
    )
    try:
        worker.drain()
    finally:
        worker.stop()


@pytest.mark.parametrize("runner", ["run_once", "worker"])
def test_each_injected_fault_is_the_right_alert_and_a_clean_job_raises_none(
    world: tuple[Stores, TestClient], runner: str
) -> None:
    stores, client = world
    now = now_ms()
    shop = Shop(stores, client, "S-main")
    offline = Shop(stores, client, "S-down")
    for job_id in (
        "J-clean",
        "J-stall",
        "J-skip",
        "J-blurry",
        "J-dark",
        "J-reuse",
        "J-far",
        "J-nophoto",
        "J-offline-stall",
    ):
        (offline if job_id == "J-offline-stall" else shop).job(job_id)
    start = now - 14 * HOUR
    shop.run("J-clean", start, seed=10)
    shop.run("J-stall", now - 30 * 24 * HOUR, until="paint", seed=20)
    shop.run("J-skip", start, until="reassembly", skip="paint", seed=30)
    blurry = checkpoint_photo(
        41, fault=PhotoFault.BLURRY, taken_at_ms=start + 4 * HOUR, lat=SHOP_LAT, lon=SHOP_LON
    ).data
    shop.run("J-blurry", start, until="body", photos={"body": blurry}, seed=40)
    dark = checkpoint_photo(51, fault=PhotoFault.DARK, taken_at_ms=start + 4 * HOUR, lat=SHOP_LAT, lon=SHOP_LON).data
    shop.run("J-dark", start, until="body", photos={"body": dark}, seed=50)
    original = clean(10 + sorted(CHECKPOINTS).index("paint"), start + 5 * HOUR + 60_000)  # J-clean's paint photo
    shop.run("J-reuse", start, until="paint", photos={"paint": reuse(original, ReuseKind.REENCODED)}, seed=60)
    far_lat, far_lon = offset_position(SHOP_LAT, SHOP_LON, 25.0, 90.0)
    far = checkpoint_photo(71, taken_at_ms=start + 4 * HOUR, lat=far_lat, lon=far_lon).data
    shop.run("J-far", start, until="body", photos={"body": far}, seed=70)
    at = start
    for stage in ("intake", "estimate", "parts_ordered", "disassembly", "body"):  # leaves disassembly with no photo
        shop.stage("J-nophoto", stage, at)
        at += HOUR
    offline.run("J-offline-stall", now - 30 * 24 * HOUR, until="paint", seed=80)
    shop.heartbeat(now - 60_000)
    offline.heartbeat(now - 2 * HOUR)

    _through(stores, runner, now)

    assert kinds(client, "J-clean") == {}
    job = client.get("/api/v1/repair-jobs/J-clean").json()
    assert job["current_stage"] == "delivered"
    assert job["progress"] == 1.0
    assert job["state"]["warranty"]["extended"] is True
    assert job["state"]["warranty"]["months"] == 18  # 1.5 x the 12-month base term of a minor body repair
    assert all(p["flags"] == [] for p in job["photos"]), [p["checks"] for p in job["photos"]]
    assert "stall" in kinds(client, "J-stall")
    assert "stage_skipped" in kinds(client, "J-skip")
    assert "paint" in kinds(client, "J-skip")["stage_skipped"]["message"]
    assert "blurry" in kinds(client, "J-blurry")["photo_quality"]["message"]
    assert "dark" in kinds(client, "J-dark")["photo_quality"]["message"]
    reused = kinds(client, "J-reuse")["photo_reuse"]
    assert reused["severity"] == "critical"
    assert "earlier photo of this shop" in reused["message"]
    assert [(m["job_id"], m["shop_id"]) for m in reused["details"]["reuse"]] == [("J-clean", "S-main")]
    assert "km from shop" in kinds(client, "J-far")["photo_location"]["message"]
    assert "missing_photo" in kinds(client, "J-nophoto")
    assert set(kinds(client, "S-down")) == {"shop_offline"}
    assert "stall" not in kinds(client, "J-offline-stall"), "stalls of an offline shop's jobs are inhibited"
    assert "shop_offline" not in kinds(client, "S-main")

    # a second pass raises nothing new; progress on the stalled job clears its stall
    before = {a["id"]: a["occurrences"] for a in client.get("/api/v1/alerts", params={"limit": 500}).json()["items"]}
    shop.stage("J-stall", "reassembly", now - 1000)
    _through(stores, runner, now)
    after = {a["id"]: a["occurrences"] for a in client.get("/api/v1/alerts", params={"limit": 500}).json()["items"]}
    assert after == before
    assert "stall" not in kinds(client, "J-stall")


def test_courtesy_car_spot_checks_and_recommendations(world: tuple[Stores, TestClient]) -> None:
    stores, client = world
    now = now_ms()
    shop = Shop(stores, client, "S-a")
    shop.job("J-towed", drivable=False)
    shop.run("J-towed", now - 6 * HOUR, until="paint", seed=5)
    shop.heartbeat(now - 1000)
    RepairMonitor(stores, spot_base_rate=1.0).run_once(now)
    job = client.get("/api/v1/repair-jobs/J-towed").json()
    assert job["state"]["courtesy_car"]["entitled"] is True
    assert "not drivable" in job["state"]["courtesy_car"]["reason"]
    assert "courtesy_car" in kinds(client, "J-towed")
    assert job["predicted_ms"] > now
    checks = client.get("/api/v1/spot-checks", params={"state": "pending"}).json()
    assert checks["total"] == 3  # every checkpoint photo so far (disassembly, body, paint) at a base rate of 1
    first = checks["items"][0]
    assert 0 <= first["draw"] <= first["probability"] == 1.0
    decided = client.post(f"/api/v1/spot-checks/{first['id']}/result", json={"passed": False, "note": "overspray"})
    assert decided.status_code == 200
    assert decided.json()["state"] == "failed"
    assert client.post(f"/api/v1/spot-checks/{first['id']}/result", json={"passed": True}).status_code == 409

    for sid, lat in (("S-b", SHOP_LAT + 0.05), ("S-c", SHOP_LAT + 0.1), ("S-far", SHOP_LAT + 3)):
        client.post(
            "/api/v1/shops",
            json={
                "id": sid,
                "name": sid,
                "lat": lat,
                "lon": SHOP_LON,
                "makes": ["Toyota"],
                "capacity": 4,
                "severities": ["minor", "moderate"],
            },
        )
    client.post(
        "/api/v1/shops",
        json={
            "id": "S-bmw",
            "name": "BMW only",
            "lat": SHOP_LAT,
            "lon": SHOP_LON,
            "makes": ["BMW"],
            "capacity": 4,
            "severities": ["minor"],
        },
    )
    RepairMonitor(stores).run_once(now)
    answer = client.get(
        "/api/v1/shops/recommendations",
        params={"lat": SHOP_LAT, "lon": SHOP_LON, "make": "toyota", "severity": "moderate"},
    )
    assert answer.status_code == 200, answer.text
    recs = answer.json()
    assert len(recs) == 3
    assert {r["shop_id"] for r in recs} == {"S-a", "S-b", "S-c"}  # not too far, certified for the make
    assert all(r["reasons"] for r in recs)
    score = client.get("/api/v1/shops/S-a/score").json()
    assert score["counts"]["spot_total"] == 1
    assert score["score"] is not None
