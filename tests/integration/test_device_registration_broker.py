"""Registering a device through the API writes its broker credentials and ACL for Mosquitto."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aftercare.runtime import broker_files_hook
from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from devices.credentials import verify

pytestmark = pytest.mark.integration
ADMIN = "broker-admin-token-0123456789abcdef"


def test_registration_writes_password_file_and_acl(tmp_path: Path, state_url: str) -> None:
    settings = Settings(
        data_dir=tmp_path,
        state_url=state_url,
        mosquitto_passwd_file=tmp_path / "broker/passwd",
        mosquitto_acl_file=tmp_path / "broker/acl",
        mqtt_ingest_password="ingest-secret-1234567",
    )
    stores = open_stores(settings)
    ctx = AppContext(stores=stores, admin_token=ADMIN)
    hook = broker_files_hook(settings, stores)
    assert hook is not None
    ctx.extras["on_device_registered"] = hook
    client = TestClient(create_app(ctx))
    client.headers["Authorization"] = f"Bearer {ADMIN}"
    client.post("/api/v1/patients", json={"id": "P1", "name": "P"})
    answer = client.post("/api/v1/devices", json={"device_id": "W-7", "kind": "wearable", "patient_id": "P1"})
    assert answer.status_code == 201, answer.text
    creds = answer.json()
    assert creds["topics"] == ["aftercare/v1/wearables/W-7/telemetry", "aftercare/v1/devices/W-7/status"]
    lines = dict(line.split(":", 1) for line in (tmp_path / "broker/passwd").read_text().splitlines() if line)
    assert verify(creds["mqtt_password"], lines["W-7"])
    assert verify("ingest-secret-1234567", lines["aftercare-ingest"])
    acl = (tmp_path / "broker/acl").read_text()
    assert "user W-7\ntopic write aftercare/v1/wearables/W-7/telemetry" in acl
    assert "topic write aftercare/v1/wearables/W-8/telemetry" not in acl
    reserved = client.post(
        "/api/v1/devices", json={"device_id": "aftercare-ingest", "kind": "wearable", "patient_id": "P1"}
    )
    assert reserved.status_code == 422
    stores.close()
