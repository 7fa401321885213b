"""Registering patients, shops, devices and jobs straight into a state store, for tests."""

from __future__ import annotations

from store.state.engine import StateStore
from store.state.schema import Device, Patient, RepairJob, Shop

NOW_MS = 1_700_000_000_000


def seed_registry(state: StateStore, *, wearables: int = 1, gateways: int = 1, jobs: int = 1) -> None:
    with state.session() as s:
        for i in range(wearables):
            s.add(
                Patient(
                    id=f"P{i}",
                    name=f"Patient {i}",
                    claim_id=f"C{i}",
                    manager_id="M1",
                    resting_hr=60,
                    max_hr=180,
                    created_ms=NOW_MS,
                )
            )
        for i in range(gateways):
            s.add(
                Shop(
                    id=f"S{i}",
                    name=f"Shop {i}",
                    lat=31.23,
                    lon=121.47,
                    makes=["Toyota"],
                    capacity=10,
                    severities=["minor", "moderate", "severe"],
                    certified=True,
                    created_ms=NOW_MS,
                )
            )
        s.flush()
        for i in range(wearables):
            s.add(Device(device_id=f"w{i}", kind="wearable", patient_id=f"P{i}", created_ms=NOW_MS))
        for i in range(gateways):
            s.add(Device(device_id=f"g{i}", kind="shop_gateway", shop_id=f"S{i}", created_ms=NOW_MS))
            for j in range(jobs):
                s.add(
                    RepairJob(
                        id=f"J{i}-{j}",
                        claim_id=f"C{i}",
                        shop_id=f"S{i}",
                        vehicle={"make": "Toyota", "model": "Corolla", "year": 2020, "drivable": True},
                        severity="moderate",
                        required_stages=["intake", "body", "paint", "ready", "delivered"],
                        created_ms=NOW_MS,
                        updated_ms=NOW_MS,
                        state={},
                    )
                )
