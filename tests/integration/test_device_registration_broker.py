"""Registering a device through the API creates its account on a real Mosquitto (dynamic security plugin).

Each test starts its own Mosquitto from a ``dynamic-security.json`` that `aftercare broker init` writes;
the API reaches it only over MQTT, as its admin user: no shared files, no signals.
"""

from __future__ import annotations

import json
import logging
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aftercare.cli import app as cli_app
from aftercare.runtime import make_app_context, open_platform
from aftercare.settings import Settings
from aftercare.wiring import build_ingest
from api.app import create_app
from devices.broker_url import BrokerUrl
from devices.timestamps import now_ms
from devices.topics import DeviceKind
from store.broker_accounts import BrokerAccounts
from store.state.schema import Device
from store.stores import Stores
from tests.integration.conftest_services import MosquittoFactory, free_port, mosquitto_factory
from tests.integration.dynsec_broker import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    SERVICE_PASSWORDS,
    DynsecFactory,
    DynsecMosquitto,
    MqttProbe,
    connected,
    dynsec_factory,
    ingest_subscriber,
    probes,
)
from tests.support.mqtt_publisher import wait_until

pytestmark = pytest.mark.integration
__all__ = ["dynsec_factory", "mosquitto_factory", "probes"]  # fixtures

ADMIN = "broker-admin-token-0123456789abcdef"
SHOP = {"id": "S1", "name": "S", "lat": 1, "lon": 2, "makes": ["Toyota"], "capacity": 3, "severities": ["minor"]}
REFUSED = {"Bad user name or password", "Not authorized"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, state_url: str) -> Path:
    """The settings `aftercare broker init` and the API read; returns the plugin's file."""
    dynsec_file = tmp_path / "broker" / "dynamic-security.json"
    for name, value in {
        "AFTERCARE_DATA_DIR": str(tmp_path / "data"),
        "AFTERCARE_STATE_URL": state_url,
        "AFTERCARE_BROKER_ADMIN_USER": ADMIN_USER,
        "AFTERCARE_BROKER_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "AFTERCARE_BROKER_DYNSEC_FILE": str(dynsec_file),
        "AFTERCARE_MQTT_INGEST_PASSWORD": SERVICE_PASSWORDS["aftercare-ingest"],
        "AFTERCARE_MQTT_MONITOR_PASSWORD": SERVICE_PASSWORDS["aftercare-monitor"],
    }.items():
        monkeypatch.setenv(name, value)
    return dynsec_file


def run_cli(*args: str) -> tuple[int, str]:
    """Run ``aftercare ARGS`` in this process; the logging it configures (on the runner's stderr) is undone."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        result = CliRunner().invoke(cli_app, list(args))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return result.exit_code, " ".join(result.output.split())  # rich wraps lines


@pytest.fixture
def broker(env: Path, dynsec_factory: DynsecFactory) -> DynsecMosquitto:
    assert run_cli("migrate")[0] == 0
    code, output = run_cli("broker", "init")
    assert code == 0, output
    broker = dynsec_factory(env)
    return broker


class Api:
    """One API instance (an app object with stores and broker accounts of its own), as one replica,
    wired as `aftercare api` wires it."""

    def __init__(self, settings: Settings) -> None:
        self.platform = open_platform(settings)
        ctx = make_app_context(self.platform)
        self.stores: Stores = self.platform.stores
        self.accounts: BrokerAccounts | None = self.platform.device_accounts
        self.client = TestClient(create_app(ctx))
        self.client.headers["Authorization"] = f"Bearer {ADMIN}"

    def close(self) -> None:
        self.platform.stop()


@pytest.fixture
def apis() -> Iterator[list[Api]]:
    made: list[Api] = []
    yield made
    for api in made:
        api.close()


def api_for(apis: list[Api], broker_url: str, **overrides: object) -> Api:
    settings = Settings(mqtt_url=broker_url, admin_token=ADMIN, **overrides)  # type: ignore[arg-type]
    api = Api(settings)
    apis.append(api)
    return api


def test_registered_device_publishes_its_own_topics_only(
    broker: DynsecMosquitto, apis: list[Api], probes: list[MqttProbe]
) -> None:
    api = api_for(apis, broker.url)
    ingest = ingest_subscriber(probes, broker)
    assert api.client.post("/api/v1/patients", json={"id": "P1", "name": "P"}).status_code == 201
    answer = api.client.post("/api/v1/devices", json={"device_id": "W-7", "kind": "wearable", "patient_id": "P1"})
    assert answer.status_code == 201, answer.text
    creds = answer.json()
    assert creds["topics"] == ["aftercare/v1/wearables/W-7/telemetry", "aftercare/v1/devices/W-7/status"]

    device = connected(probes, broker, creds["mqtt_username"], creds["mqtt_password"])
    forged = device.publish("aftercare/v1/wearables/W-8/telemetry", b"forged")
    device.publish("aftercare/v1/wearables/W-7/telemetry", b'{"seq": 1}')

    assert forged.getName() == "Not authorized"
    assert ingest.payloads_until(b'{"seq": 1}') == [b'{"seq": 1}']
    assert MqttProbe(broker, "W-7", "not-its-password").connect().getName() in REFUSED
    reserved = api.client.post(
        "/api/v1/devices", json={"device_id": "aftercare-ingest", "kind": "wearable", "patient_id": "P1"}
    )
    assert reserved.status_code == 422


def test_two_api_instances_register_devices_on_one_broker(
    broker: DynsecMosquitto, apis: list[Api], probes: list[MqttProbe]
) -> None:
    first, second = api_for(apis, broker.url), api_for(apis, broker.url)
    ingest = ingest_subscriber(probes, broker)
    assert first.client.post("/api/v1/patients", json={"id": "P1", "name": "P"}).status_code == 201
    assert second.client.post("/api/v1/shops", json=SHOP).status_code == 201

    wearable = first.client.post("/api/v1/devices", json={"device_id": "W-1", "kind": "wearable", "patient_id": "P1"})
    gateway = second.client.post("/api/v1/devices", json={"device_id": "G-1", "kind": "shop_gateway", "shop_id": "S1"})
    again = second.client.post("/api/v1/devices", json={"device_id": "W-1", "kind": "wearable", "patient_id": "P1"})

    assert (wearable.status_code, gateway.status_code, again.status_code) == (201, 201, 409), again.text
    w = connected(probes, broker, "W-1", wearable.json()["mqtt_password"])  # the 409 did not touch its account
    g = connected(probes, broker, "G-1", gateway.json()["mqtt_password"])
    w.publish("aftercare/v1/wearables/W-1/telemetry", b"from W-1")
    assert ingest.payloads_until(b"from W-1") == [b"from W-1"]
    g.publish("aftercare/v1/shops/G-1/beacon", b"from G-1")
    assert ingest.payloads_until(b"from G-1") == [b"from G-1"]


def test_a_device_cannot_take_over_a_broker_account_that_is_not_a_device_of_ours(
    broker: DynsecMosquitto, apis: list[Api], probes: list[MqttProbe]
) -> None:
    """An operator's account (made with mosquitto_ctrl, as docs/operations.md shows) and the service users keep
    their passwords: registering a device under their names is refused, never answered with a new password."""
    api = api_for(apis, broker.url)
    made = subprocess.run(
        [
            *("mosquitto_ctrl", "-h", broker.host, "-p", str(broker.port), "-u", ADMIN_USER, "-P", ADMIN_PASSWORD),
            *("dynsec", "createClient", "ops-tool", "-p", "ops-password-0123"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert api.client.post("/api/v1/shops", json=SHOP).status_code == 201
    taken = api.client.post("/api/v1/devices", json={"device_id": "ops-tool", "kind": "shop_gateway", "shop_id": "S1"})
    assert taken.status_code == 409, taken.text
    assert "mqtt_password" not in taken.json()
    with api.stores.state.session() as session:
        assert session.get(Device, "ops-tool") is None
    connected(probes, broker, "ops-tool", "ops-password-0123")  # its password was not changed


def test_a_wrong_admin_password_is_a_clear_error_and_registers_nothing(
    broker: DynsecMosquitto, apis: list[Api], probes: list[MqttProbe]
) -> None:
    wrong = api_for(apis, broker.url, broker_admin_password="not-the-admin-password")
    assert wrong.client.post("/api/v1/patients", json={"id": "P1", "name": "P"}).status_code == 201

    answer = wrong.client.post("/api/v1/devices", json={"device_id": "W-9", "kind": "wearable", "patient_id": "P1"})

    assert answer.status_code == 503, answer.text
    assert "refused the dynamic-security admin login" in answer.json()["detail"]
    assert wrong.client.get("/api/v1/devices/W-9").status_code == 404  # the registry did not keep it
    right = api_for(apis, broker.url)
    retried = right.client.post("/api/v1/devices", json={"device_id": "W-9", "kind": "wearable", "patient_id": "P1"})
    assert retried.status_code == 201, retried.text
    connected(probes, broker, "W-9", retried.json()["mqtt_password"])


def test_a_broker_without_the_plugin_or_down_is_a_clear_error_not_a_hang(
    env: Path, mosquitto_factory: MosquittoFactory, apis: list[Api]
) -> None:
    assert run_cli("migrate")[0] == 0
    plain = mosquitto_factory()  # anonymous, no plugin: nobody answers on $CONTROL
    silent = api_for(apis, plain.url, broker_admin_timeout_s=1.0)
    down = api_for(apis, f"mqtt://127.0.0.1:{free_port()}")
    assert silent.client.post("/api/v1/patients", json={"id": "P1", "name": "P"}).status_code == 201
    body = {"device_id": "W-1", "kind": "wearable", "patient_id": "P1"}

    no_answer = silent.client.post("/api/v1/devices", json=body)
    unreachable = down.client.post("/api/v1/devices", json=body)

    assert no_answer.status_code == 503
    assert "did not answer createRole within 1 s" in no_answer.json()["detail"]
    assert unreachable.status_code == 503
    assert "cannot reach the broker" in unreachable.json()["detail"]
    assert silent.client.get("/api/v1/devices/W-1").status_code == 404


def test_broker_sync_removes_an_orphan_account_and_reports_what_it_cannot_restore(
    broker: DynsecMosquitto, apis: list[Api], probes: list[MqttProbe], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFTERCARE_MQTT_URL", broker.url)
    api = api_for(apis, broker.url)
    assert api.client.post("/api/v1/patients", json={"id": "P1", "name": "P"}).status_code == 201
    registered = api.client.post("/api/v1/devices", json={"device_id": "W-1", "kind": "wearable", "patient_id": "P1"})
    assert registered.status_code == 201
    assert api.accounts is not None
    # a registration whose registry commit never happened (the process died after the broker step)
    api.accounts.register_device("W-orphan", DeviceKind.WEARABLE, "password-orphan")

    code, output = run_cli("broker", "sync")

    assert code == 0, output
    assert "orphan accounts deleted: W-orphan" in output
    assert MqttProbe(broker, "W-orphan", "password-orphan").connect().getName() in REFUSED
    connected(probes, broker, "W-1", registered.json()["mqtt_password"])
    api.accounts.remove_device("W-1")  # lost on the broker (e.g. a broker restored from an old backup)
    code, output = run_cli("broker", "sync")
    assert code == 3
    assert "1 registered devices have no broker account" in output
    assert "aftercare broker init" in output


def test_telemetry_of_a_device_registered_through_the_api_is_stored_by_ingestion(
    broker: DynsecMosquitto, apis: list[Api], probes: list[MqttProbe], tmp_path: Path
) -> None:
    api = api_for(apis, broker.url)
    assert api.client.post("/api/v1/patients", json={"id": "P1", "name": "P"}).status_code == 201
    answer = api.client.post("/api/v1/devices", json={"device_id": "W-1", "kind": "wearable", "patient_id": "P1"})
    assert answer.status_code == 201, answer.text
    ingest_settings = Settings(
        mqtt_shared_group="ingest",
        mqtt_client_id=f"aftercare-ingest-{uuid.uuid4().hex[:8]}",
        ingest_committer="thread",
        batch_max_seconds=0.02,
    )
    ingest_url = BrokerUrl(broker.host, broker.port, "aftercare-ingest", SERVICE_PASSWORDS["aftercare-ingest"])
    service = build_ingest(ingest_settings, api.stores, ingest_url)  # the ingest service user's own login
    service.start()
    try:
        assert service.source.connected.wait(15)
        device = connected(probes, broker, "W-1", answer.json()["mqtt_password"])
        t0 = now_ms() - 10_000
        telemetry = {"seq": 1, "series": [{"metric": "heart_rate", "t0": t0, "fs": 1.0, "values": [70, 71, 72]}]}
        assert not device.publish("aftercare/v1/wearables/W-1/telemetry", json.dumps(telemetry).encode()).is_failure
        wait_until(lambda: api.stores.timeseries.read("P1", "heart_rate", t0 - 1, t0 + 5000).n == 3, 20, what="stored")
    finally:
        service.stop()
    assert list(api.stores.timeseries.read("P1", "heart_rate", t0 - 1, t0 + 5000).values) == [70, 71, 72]
