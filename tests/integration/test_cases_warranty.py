"""A case that declines the extended warranty gets the base term when its car is delivered; others get 1.5x."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.timestamps import now_ms
from monitor.repair.stages import STAGES
from monitor.repair_monitor import RepairMonitor
from store.state.schema import RepairEvent
from tests.integration.test_cases_api import World, case_body, open_world

pytestmark = pytest.mark.integration
HOUR = 3_600_000
JOB = {
    "shop_id": "S1",
    "severity": "moderate",
    "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": True},
}


@pytest.fixture
def world(tmp_path: Path, state_url: str) -> Iterator[World]:
    yield from open_world(tmp_path, state_url)


def deliver(world: World, job_id: str, start_ms: int, first_seq: int) -> None:
    """Every stage in order, an hour apart, ending with delivery (beacons of gateway g1 from ``first_seq``)."""
    with world.stores.state.session() as s:
        for seq, stage in enumerate(STAGES, start=first_seq):
            at = start_ms + (seq - first_seq) * HOUR
            s.add(
                RepairEvent(
                    job_id=job_id,
                    shop_id="S1",
                    device_id="g1",
                    seq=seq,
                    event="stage",
                    stage=str(stage),
                    at_ms=at,
                    received_ms=at,
                )
            )
        s.commit()


def test_a_declined_extension_gives_the_base_term_and_the_others_get_one_and_a_half(world: World) -> None:
    world.post("/cases", case_body())  # K1, claim CL-1
    world.post("/repair-jobs", {"id": "J1", "claim_id": "CL-1", **JOB})
    world.post("/repair-jobs", {"id": "J2", "claim_id": "CL-2", **JOB})  # no case: the extension by default
    world.post("/cases/K1/links", {"job_id": "J1"}, expect=200)
    plan = world.patch("/cases/K1/plan", {"extended_warranty": False})
    assert "extended_warranty" not in [i["key"] for i in plan["items"]]
    start = now_ms() - 30 * HOUR
    deliver(world, "J1", start, first_seq=1)
    deliver(world, "J2", start, first_seq=100)

    RepairMonitor(world.stores, spot_base_rate=0.0).run_once(now_ms())

    declined = world.get("/repair-jobs/J1")["state"]["warranty"]
    assert (declined["months"], declined["extended"], declined["extension_declined"]) == (24, False, True)
    assert declined["base_months"] == 24  # a moderate body repair
    extended = world.get("/repair-jobs/J2")["state"]["warranty"]
    assert (extended["months"], extended["extended"], extended["extension_declined"]) == (36, True, False)
    assert extended["base_months"] == 24
