"""The broker files written from the registry, enforced by a real Mosquitto started by each test.

"Never arrives" is shown without waiting for a timeout: after the refused message the same device
publishes a sentinel on its own topic, and a broker delivers one client's messages in order, so once
the ingest subscriber has the sentinel the refused message would already be there if it had passed.
"""

from __future__ import annotations

import os
import queue
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from devices.credentials import mosquitto_hash
from store.broker_files import INGEST_USER, MONITOR_USER, write_broker_files
from store.state.engine import StateStore
from store.state.migrate import upgrade
from store.state.schema import Device
from tests.integration.conftest_services import *  # noqa: F403
from tests.integration.conftest_services import MosquittoBroker, MosquittoFactory

pytestmark = pytest.mark.integration

WAIT_S = 15.0  # an upper bound for liveness, never a measured quantity
SERVICE_PASSWORDS = {INGEST_USER: "ingest-secret-for-tests", MONITOR_USER: "monitor-secret-for-tests"}
TELEMETRY = "aftercare/v1/wearables/{}/telemetry"


@dataclass
class BrokerFiles:
    passwd: Path
    acl: Path


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(store.engine)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def files(tmp_path: Path) -> BrokerFiles:
    return BrokerFiles(tmp_path / "broker" / "passwd", tmp_path / "broker" / "acl")


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


def write_files(state: StateStore, files: BrokerFiles, pid_file: Path | None = None) -> int:
    with state.session() as session:
        return write_broker_files(
            session, passwd_path=files.passwd, acl_path=files.acl, service_users=SERVICE_PASSWORDS, pid_file=pid_file
        )


class Client:
    """A paho client that reports its CONNACK, PUBACKs, SUBACKs and messages through queues."""

    def __init__(
        self,
        broker: MosquittoBroker,
        username: str | None,
        password: str | None,
        *,
        protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
    ) -> None:
        self.broker = broker
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{username}-{uuid.uuid4().hex[:8]}", protocol=protocol
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.connack: queue.Queue[ReasonCode] = queue.Queue()
        self.pubacks: dict[int, ReasonCode] = {}
        self.puback_event = threading.Condition()
        self.subacks: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client.on_connect = lambda _c, _u, _f, rc, _p: self.connack.put(rc)
        self.client.on_subscribe = lambda _c, _u, _m, rcs, _p: self.subacks.put(list(rcs))
        self.client.on_message = lambda _c, _u, msg: self.messages.put(msg)
        self.client.on_publish = self._on_publish

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, rc: ReasonCode, _p: object) -> None:
        with self.puback_event:
            self.pubacks[mid] = rc
            self.puback_event.notify_all()

    def connect(self) -> ReasonCode:
        """Connect and return the CONNACK's reason; a refused client is stopped (no retrying)."""
        self.client.connect(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        reason = self.connack.get(timeout=WAIT_S)
        if reason.is_failure:
            self.close()
        return reason

    def subscribe(self, topic_filter: str) -> list[ReasonCode]:
        self.client.subscribe(topic_filter, qos=1)
        return self.subacks.get(timeout=WAIT_S)

    def publish(self, topic: str, payload: bytes) -> ReasonCode:
        """Publish at QoS 1 and return the PUBACK's reason (always success on MQTT 3.1.1)."""
        info = self.client.publish(topic, payload, qos=1)
        with self.puback_event:
            assert self.puback_event.wait_for(lambda: info.mid in self.pubacks, timeout=WAIT_S)
            return self.pubacks[info.mid]

    def payloads_until(self, sentinel: bytes) -> list[bytes]:
        """Every payload received up to and including ``sentinel``."""
        got: list[bytes] = []
        while not got or got[-1] != sentinel:
            got.append(bytes(self.messages.get(timeout=WAIT_S).payload))
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    made: list[Client] = []
    yield made
    for client in made:
        client.close()


def connected(
    clients: list[Client],
    broker: MosquittoBroker,
    username: str | None,
    password: str | None,
    *,
    protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
) -> Client:
    client = Client(broker, username, password, protocol=protocol)
    reason = client.connect()
    assert not reason.is_failure, f"{username} refused: {reason}"
    clients.append(client)
    return client


def ingest_subscriber(clients: list[Client], broker: MosquittoBroker) -> Client:
    """The ingest user on a shared subscription, as `aftercare ingest` subscribes."""
    ingest = connected(clients, broker, INGEST_USER, SERVICE_PASSWORDS[INGEST_USER])
    granted = ingest.subscribe("$share/ingest/aftercare/v1/#")
    assert [rc.value for rc in granted] == [1]  # QoS 1 granted, not 0x87 "Not authorized"
    return ingest


@pytest.fixture
def broker(state: StateStore, files: BrokerFiles, mosquitto_factory: MosquittoFactory) -> MosquittoBroker:
    register(state, "wearable-a", "wearable", "password-a")
    register(state, "wearable-b", "wearable", "password-b")
    register(state, "gateway-1", "shop_gateway", "password-g")
    register(state, "no-credentials", "wearable", None)
    assert write_files(state, files) == 5  # two services and three devices with credentials
    return mosquitto_factory(password_file=files.passwd, acl_file=files.acl)


def test_files_are_private_and_replaced_atomically(state: StateStore, files: BrokerFiles) -> None:
    register(state, "wearable-a", "wearable", "password-a")
    register(state, INGEST_USER, "wearable", "tries-to-be-a-service")  # never shadows the service user

    assert write_files(state, files) == 3
    assert write_files(state, files) == 3

    for path in (files.passwd, files.acl):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(files.passwd.parent)) == ["acl", "passwd"]  # no temporary files left behind
    passwd = files.passwd.read_text().splitlines()
    assert [line.split(":", 1)[0] for line in passwd] == [INGEST_USER, MONITOR_USER, "wearable-a"]
    assert all(line.split(":", 1)[1].startswith("$7$101$") for line in passwd)
    acl = files.acl.read_text()
    assert (
        "user wearable-a\ntopic write aftercare/v1/wearables/wearable-a/telemetry\n"
        "topic write aftercare/v1/devices/wearable-a/status\n" in acl
    )
    assert acl.count(f"user {INGEST_USER}\n") == 1


def test_registered_device_publishes_its_telemetry_to_ingest(broker: MosquittoBroker, clients: list[Client]) -> None:
    ingest = ingest_subscriber(clients, broker)
    device = connected(clients, broker, "wearable-a", "password-a")

    assert not device.publish(TELEMETRY.format("wearable-a"), b'{"seq": 1}').is_failure
    assert not device.publish("aftercare/v1/devices/wearable-a/status", b'{"online": true}').is_failure

    assert ingest.payloads_until(b'{"online": true}') == [b'{"seq": 1}', b'{"online": true}']


def test_shop_gateway_publishes_beacons_and_photos(broker: MosquittoBroker, clients: list[Client]) -> None:
    ingest = ingest_subscriber(clients, broker)
    gateway = connected(clients, broker, "gateway-1", "password-g")

    assert not gateway.publish("aftercare/v1/shops/gateway-1/beacon", b"beacon").is_failure
    assert not gateway.publish("aftercare/v1/shops/gateway-1/photo", b"photo").is_failure

    assert ingest.payloads_until(b"photo") == [b"beacon", b"photo"]


def test_device_cannot_publish_under_another_devices_id_mqtt5(broker: MosquittoBroker, clients: list[Client]) -> None:
    ingest = ingest_subscriber(clients, broker)
    device = connected(clients, broker, "wearable-a", "password-a")

    refused = device.publish(TELEMETRY.format("wearable-b"), b"forged")
    wrong_kind = device.publish("aftercare/v1/shops/wearable-a/beacon", b"not a gateway")
    outside = device.publish("aftercare/v1/other", b"outside the contract")
    device.publish(TELEMETRY.format("wearable-a"), b"sentinel")

    assert refused.getName() == "Not authorized"
    assert wrong_kind.getName() == "Not authorized"
    assert outside.getName() == "Not authorized"
    assert ingest.payloads_until(b"sentinel") == [b"sentinel"]


def test_device_cannot_publish_under_another_devices_id_mqtt311(broker: MosquittoBroker, clients: list[Client]) -> None:
    ingest = ingest_subscriber(clients, broker)
    device = connected(clients, broker, "wearable-a", "password-a", protocol=MQTTProtocolVersion.MQTTv311)

    device.publish(TELEMETRY.format("wearable-b"), b"forged")  # 3.1.1 has no way to say no: it is dropped
    device.publish(TELEMETRY.format("wearable-a"), b"sentinel")

    assert ingest.payloads_until(b"sentinel") == [b"sentinel"]


def test_devices_receive_no_telemetry_even_when_they_subscribe(broker: MosquittoBroker, clients: list[Client]) -> None:
    ingest = ingest_subscriber(clients, broker)
    spy = connected(clients, broker, "wearable-a", "password-a")
    spy.subscribe("aftercare/v1/#")  # Mosquitto may grant a filter; it checks read access per message
    other = connected(clients, broker, "wearable-b", "password-b")

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
        (None, None),  # anonymous
    ],
)
def test_bad_credentials_are_refused_at_connect(
    broker: MosquittoBroker, username: str | None, password: str | None
) -> None:
    reason = Client(broker, username, password).connect()

    assert reason.getName() in {"Bad user name or password", "Not authorized"}


def test_new_device_can_connect_after_rewrite_and_sighup_without_restart(
    broker: MosquittoBroker, state: StateStore, files: BrokerFiles, clients: list[Client]
) -> None:
    ingest = ingest_subscriber(clients, broker)
    pid = broker.pid
    refused = Client(broker, "wearable-new", "password-new").connect()
    assert refused.getName() in {"Bad user name or password", "Not authorized"}

    register(state, "wearable-new", "wearable", "password-new")
    assert write_files(state, files, pid_file=broker.pid_file) == 6

    # SIGHUP is handled asynchronously: try until the broker has reread its files
    deadline = time.monotonic() + WAIT_S
    while True:
        newcomer = Client(broker, "wearable-new", "password-new")
        reason = newcomer.connect()
        if not reason.is_failure or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not reason.is_failure, reason
    clients.append(newcomer)

    assert broker.pid == pid  # the same process: reloaded, not restarted
    newcomer.publish(TELEMETRY.format("wearable-new"), b"hello")
    assert ingest.payloads_until(b"hello") == [b"hello"]  # the ingest connection survived the reload
