"""Device accounts in Mosquitto's dynamic security plugin, enforced by a real Mosquitto started by each test.

The broker starts from a ``dynamic-security.json`` written from the registry (`store.dynsec_config`, what
`aftercare broker init` does) and learns new devices through the plugin's API (`store.broker_accounts`).
"Never arrives" is shown without waiting for a timeout: after the refused message the same device
publishes a sentinel on its own topic, and a broker delivers one client's messages in order, so once
the ingest subscriber has the sentinel the refused message would already be there if it had passed.
"""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from paho.mqtt.enums import MQTTProtocolVersion

from devices.credentials import mosquitto_hash
from devices.topics import DeviceKind
from store.broker_accounts import INGEST_USER, MANAGED, BrokerAccounts
from store.dynsec_client import DynsecClient
from store.dynsec_config import read_config, registered_accounts, render_config, write_config
from store.state.engine import StateStore
from store.state.migrate import upgrade
from store.state.schema import Device
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

pytestmark = pytest.mark.integration
__all__ = ["dynsec_factory", "probes"]  # fixtures

TELEMETRY = "aftercare/v1/wearables/{}/telemetry"


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(store.engine)
    try:
        yield store
    finally:
        store.close()


def register(state: StateStore, device_id: str, kind: str, password: str | None) -> None:
    with state.session() as session:
        session.add(
            Device(
                device_id=device_id,
                kind=kind,
                password_hash=mosquitto_hash(password) if password else None,
                created_ms=int(time.time() * 1000),
            )
        )


def write_dynsec_file(state: StateStore, path: Path) -> dict[str, object]:
    """What `aftercare broker init` does: the plugin's file from the registry, merged with an existing one."""
    with state.session() as session:
        config = render_config(
            admin_user=ADMIN_USER,
            admin_password=ADMIN_PASSWORD,
            service_passwords=SERVICE_PASSWORDS,
            devices=list(registered_accounts(session)),
            existing=read_config(path),
        )
    write_config(path, config)
    return config


@pytest.fixture
def dynsec_file(tmp_path: Path) -> Path:
    return tmp_path / "broker" / "dynamic-security.json"


@pytest.fixture
def broker(state: StateStore, dynsec_file: Path, dynsec_factory: DynsecFactory) -> DynsecMosquitto:
    register(state, "wearable-a", "wearable", "password-a")
    register(state, "wearable-b", "wearable", "password-b")
    register(state, "gateway-1", "shop_gateway", "password-g")
    register(state, "no-credentials", "wearable", None)
    write_dynsec_file(state, dynsec_file)
    return dynsec_factory(dynsec_file)


@pytest.fixture
def accounts(broker: DynsecMosquitto) -> Iterator[BrokerAccounts]:
    client = DynsecClient(host=broker.host, port=broker.port, username=ADMIN_USER, password=ADMIN_PASSWORD)
    made = BrokerAccounts(client)
    yield made
    made.close()


def test_the_file_holds_registry_hashes_and_keeps_what_an_operator_made(state: StateStore, dynsec_file: Path) -> None:
    register(state, "wearable-a", "wearable", "password-a")
    register(state, INGEST_USER, "wearable", "tries-to-be-a-service")  # never shadows the service user
    write_dynsec_file(state, dynsec_file)
    config = read_config(dynsec_file)
    assert config is not None
    config["clients"].append({"username": "operator", "textname": "made with mosquitto_ctrl", "roles": []})
    config["clients"].append({"username": "gone-device", "textname": MANAGED, "roles": []})
    dynsec_file.write_text(json.dumps(config))

    write_dynsec_file(state, dynsec_file)

    assert stat.S_IMODE(dynsec_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in dynsec_file.parent.iterdir()) == ["dynamic-security.json"]  # no temporary left
    config = read_config(dynsec_file)
    assert config is not None
    clients = {c["username"]: c for c in config["clients"]}
    assert sorted(clients) == [ADMIN_USER, INGEST_USER, "aftercare-monitor", "operator", "wearable-a"]
    with state.session() as session:
        stored = session.get(Device, "wearable-a")
        assert stored is not None
        assert stored.password_hash is not None
        _, _, iterations, salt, digest = stored.password_hash.split("$")
    assert (clients["wearable-a"]["iterations"], clients["wearable-a"]["salt"]) == (int(iterations), salt)
    assert clients["wearable-a"]["password"] == digest
    assert clients["wearable-a"]["roles"] == [{"rolename": "aftercare-device-wearable-a"}]
    assert config["defaultACLAccess"] == {
        "publishClientSend": False,
        "publishClientReceive": False,
        "subscribe": False,
        "unsubscribe": True,
    }


def test_registered_device_publishes_its_telemetry_to_ingest(broker: DynsecMosquitto, probes: list[MqttProbe]) -> None:
    ingest = ingest_subscriber(probes, broker)
    device = connected(probes, broker, "wearable-a", "password-a")

    assert not device.publish(TELEMETRY.format("wearable-a"), b'{"seq": 1}').is_failure
    assert not device.publish("aftercare/v1/devices/wearable-a/status", b'{"online": true}').is_failure

    assert ingest.payloads_until(b'{"online": true}') == [b'{"seq": 1}', b'{"online": true}']


def test_shop_gateway_publishes_beacons_and_photos(broker: DynsecMosquitto, probes: list[MqttProbe]) -> None:
    ingest = ingest_subscriber(probes, broker)
    gateway = connected(probes, broker, "gateway-1", "password-g")

    assert not gateway.publish("aftercare/v1/shops/gateway-1/beacon", b"beacon").is_failure
    assert not gateway.publish("aftercare/v1/shops/gateway-1/photo", b"photo").is_failure

    assert ingest.payloads_until(b"photo") == [b"beacon", b"photo"]


def test_device_cannot_publish_under_another_devices_id_mqtt5(broker: DynsecMosquitto, probes: list[MqttProbe]) -> None:
    ingest = ingest_subscriber(probes, broker)
    device = connected(probes, broker, "wearable-a", "password-a")

    refused = device.publish(TELEMETRY.format("wearable-b"), b"forged")
    wrong_kind = device.publish("aftercare/v1/shops/wearable-a/beacon", b"not a gateway")
    outside = device.publish("aftercare/v1/other", b"outside the contract")
    device.publish(TELEMETRY.format("wearable-a"), b"sentinel")

    assert refused.getName() == "Not authorized"
    assert wrong_kind.getName() == "Not authorized"
    assert outside.getName() == "Not authorized"
    assert ingest.payloads_until(b"sentinel") == [b"sentinel"]


def test_device_cannot_publish_under_another_devices_id_mqtt311(
    broker: DynsecMosquitto, probes: list[MqttProbe]
) -> None:
    ingest = ingest_subscriber(probes, broker)
    device = connected(probes, broker, "wearable-a", "password-a", protocol=MQTTProtocolVersion.MQTTv311)

    device.publish(TELEMETRY.format("wearable-b"), b"forged")  # 3.1.1 has no way to say no: it is dropped
    device.publish(TELEMETRY.format("wearable-a"), b"sentinel")

    assert ingest.payloads_until(b"sentinel") == [b"sentinel"]


def test_devices_receive_no_telemetry_even_when_they_subscribe(
    broker: DynsecMosquitto, probes: list[MqttProbe]
) -> None:
    ingest = ingest_subscriber(probes, broker)
    spy = connected(probes, broker, "wearable-a", "password-a")
    spy.subscribe("aftercare/v1/#")  # Mosquitto may grant a filter; it checks read access per message
    other = connected(probes, broker, "wearable-b", "password-b")

    other.publish(TELEMETRY.format("wearable-b"), b"private")
    assert ingest.payloads_until(b"private") == [b"private"]
    # Routed before the spy's next packet is read: had it passed, it would precede this PUBACK.
    spy.publish(TELEMETRY.format("wearable-a"), b"round trip")

    assert spy.messages.empty()


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("wearable-a", "password-b"),  # another device's password
        ("wearable-a", ""),
        ("nobody", "password-a"),
        ("no-credentials", "anything"),
        (INGEST_USER, "guess"),
        (ADMIN_USER, "guess"),
        (None, None),  # anonymous
    ],
)
def test_bad_credentials_are_refused_at_connect(
    broker: DynsecMosquitto, username: str | None, password: str | None
) -> None:
    reason = MqttProbe(broker, username, password).connect()

    assert reason.getName() in {"Bad user name or password", "Not authorized"}


def test_device_registered_through_the_plugin_connects_without_restart(
    broker: DynsecMosquitto, accounts: BrokerAccounts, probes: list[MqttProbe]
) -> None:
    ingest = ingest_subscriber(probes, broker)
    pid = broker.pid
    refused = MqttProbe(broker, "wearable-new", "password-new").connect()
    assert refused.getName() in {"Bad user name or password", "Not authorized"}

    accounts.register_device("wearable-new", DeviceKind.WEARABLE, "password-new")
    accounts.register_device("wearable-new", DeviceKind.WEARABLE, "password-new")  # idempotent

    newcomer = connected(probes, broker, "wearable-new", "password-new")
    assert broker.pid == pid  # the same process: nothing restarted or signalled
    assert newcomer.publish(TELEMETRY.format("wearable-a"), b"forged").getName() == "Not authorized"
    newcomer.publish(TELEMETRY.format("wearable-new"), b"hello")
    assert ingest.payloads_until(b"hello") == [b"hello"]  # the ingest connection survived


def test_removed_device_is_disconnected_and_refused(
    broker: DynsecMosquitto, accounts: BrokerAccounts, probes: list[MqttProbe]
) -> None:
    device = connected(probes, broker, "wearable-a", "password-a")

    accounts.remove_device("wearable-a")
    accounts.remove_device("wearable-a")  # idempotent

    assert device.disconnects.get(timeout=15.0) is not None  # the broker kicked it
    device.close()
    again = MqttProbe(broker, "wearable-a", "password-a").connect()
    assert again.getName() in {"Bad user name or password", "Not authorized"}


def test_sync_prunes_orphans_and_reports_devices_it_cannot_restore(
    broker: DynsecMosquitto, accounts: BrokerAccounts, probes: list[MqttProbe]
) -> None:
    accounts.register_device("orphan-1", DeviceKind.WEARABLE, "password-o")  # registry commit never happened
    registry = [("wearable-a", DeviceKind.WEARABLE), ("gateway-1", DeviceKind.SHOP_GATEWAY)]
    registry.append(("registered-later", DeviceKind.WEARABLE))  # not in the file the broker started with

    report = accounts.sync(registry, service_passwords=SERVICE_PASSWORDS, admin_user=ADMIN_USER)

    assert report.deleted_orphans == ["orphan-1", "wearable-b"]  # wearable-b is not in this registry
    assert report.missing_devices == ["registered-later"]
    assert MqttProbe(broker, "orphan-1", "password-o").connect().getName() in {
        "Bad user name or password",
        "Not authorized",
    }
    device = connected(probes, broker, "wearable-a", "password-a")  # untouched
    assert not device.publish(TELEMETRY.format("wearable-a"), b"still here").is_failure
    assert connected(probes, broker, INGEST_USER, SERVICE_PASSWORDS[INGEST_USER]) is not None


def test_concurrent_registrations_from_two_admin_connections_each_get_their_own_answer(
    broker: DynsecMosquitto, probes: list[MqttProbe]
) -> None:
    # Both admin connections receive every answer of the plugin; correlation data routes each to its caller.
    replicas = [
        BrokerAccounts(DynsecClient(host=broker.host, port=broker.port, username=ADMIN_USER, password=ADMIN_PASSWORD))
        for _ in range(2)
    ]
    ids = [f"w-{i}" for i in range(12)]
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(
                pool.map(
                    lambda i: replicas[i % 2].register_device(ids[i], DeviceKind.WEARABLE, f"pw-{ids[i]}"),
                    range(len(ids)),
                )
            )
    finally:
        for replica in replicas:
            replica.close()

    ingest = ingest_subscriber(probes, broker)
    for device_id in ids:
        device = connected(probes, broker, device_id, f"pw-{device_id}")
        device.publish(TELEMETRY.format(device_id), device_id.encode())
        assert ingest.payloads_until(device_id.encode()) == [device_id.encode()]
