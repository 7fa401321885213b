"""A real Mosquitto of a test's own that authenticates through the dynamic security plugin.

``dynsec_factory(dynsec_file)`` starts one on a free loopback port, loading Debian's plugin with the
given ``dynamic-security.json`` (written by the test, usually with `store.dynsec_config`); stopped
after the test. `MqttProbe` is a paho client reporting CONNACK, PUBACKs, SUBACKs and messages.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from tests.integration.conftest_services import MosquittoBroker, ServiceStartError

PLUGIN = os.environ.get("AFTERCARE_TEST_DYNSEC_PLUGIN", "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")
WAIT_S = 15.0  # an upper bound for liveness, never a measured quantity

ADMIN_USER = "aftercare-admin"
ADMIN_PASSWORD = "admin-secret-for-tests-0123"
SERVICE_PASSWORDS = {"aftercare-ingest": "ingest-secret-for-tests", "aftercare-monitor": "monitor-secret-for-tests"}


@dataclass
class DynsecMosquitto(MosquittoBroker):
    """`MosquittoBroker` with the dynamic security plugin instead of password and ACL files."""

    dynsec_file: Path | None = None

    def write_config(self) -> None:
        if not Path(PLUGIN).exists():
            raise ServiceStartError(f"{PLUGIN} is missing: apt-get install -y mosquitto")
        lines = [
            f"listener {self.port} {self.host}",
            "user root",  # the tests run as root: keep it, to read and rewrite our 0600 file
            "allow_anonymous false",
            f"plugin {PLUGIN}",
            f"plugin_opt_config_file {self.dynsec_file}",
            "persistence false",
            f"pid_file {self.pid_file}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        self.conf_path.write_text("\n".join(lines) + "\n")


DynsecFactory = Callable[[Path], DynsecMosquitto]


@pytest.fixture
def dynsec_factory() -> Iterator[DynsecFactory]:
    started: list[DynsecMosquitto] = []

    def start(dynsec_file: Path) -> DynsecMosquitto:
        conf_dir = Path(tempfile.mkdtemp(prefix="aftercare-dynsec-"))
        broker = DynsecMosquitto(conf_dir, dynsec_file=dynsec_file)
        started.append(broker)
        broker.start()
        return broker

    try:
        yield start
    finally:
        for broker in started:
            broker.stop()
            shutil.rmtree(broker.conf_dir, ignore_errors=True)


class MqttProbe:
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
        self.disconnects: queue.Queue[ReasonCode] = queue.Queue()
        self.pubacks: dict[int, ReasonCode] = {}
        self.puback_event = threading.Condition()
        self.subacks: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client.on_connect = lambda _c, _u, _f, rc, _p: self.connack.put(rc)
        self.client.on_disconnect = lambda _c, _u, _f, rc, _p: self.disconnects.put(rc)
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
def probes() -> Iterator[list[MqttProbe]]:
    made: list[MqttProbe] = []
    yield made
    for probe in made:
        probe.close()


def connected(
    probes: list[MqttProbe],
    broker: MosquittoBroker,
    username: str | None,
    password: str | None,
    *,
    protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
) -> MqttProbe:
    probe = MqttProbe(broker, username, password, protocol=protocol)
    reason = probe.connect()
    assert not reason.is_failure, f"{username} refused: {reason}"
    probes.append(probe)
    return probe


def ingest_subscriber(probes: list[MqttProbe], broker: MosquittoBroker) -> MqttProbe:
    """The ingest user on a shared subscription, as `aftercare ingest` subscribes."""
    ingest = connected(probes, broker, "aftercare-ingest", SERVICE_PASSWORDS["aftercare-ingest"])
    granted = ingest.subscribe("$share/ingest/aftercare/#")
    assert [rc.value for rc in granted] == [1]  # QoS 1 granted, not 0x87 "Not authorized"
    return ingest
