"""MQTT load for the benchmarks: persistent sessions, a backlog publisher and bare baseline subscribers.

A measurement pre-publishes a backlog into a persistent session whose consumer is offline, then
starts the consumer and times the drain, so every consumer (bare or real ingestion) measures the
same thing: how fast it takes messages the broker already holds. The publisher and the consumers run
in their own processes (see `aftercare.bench.children`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from aftercare.bench.telemetry import stream

SESSION_EXPIRY_S = 3600
RECEIVE_MAXIMUM = 1000


@dataclass(frozen=True, slots=True)
class Drain:
    """What a consumer did with a backlog: ``messages`` taken in ``seconds`` from its start."""

    messages: int
    seconds: float
    points: int = 0
    stored_messages: int = 0
    cpu_seconds: float = 0.0  # CPU time of the consumer's process (all threads) over the drain
    committer_cpu_seconds: float = 0.0  # of which ingestion's committer process (included above)
    server_cpu_seconds: float = 0.0  # CPU time of the store's server (influxd) over the drain, when measured

    @property
    def cpu_us_per_msg(self) -> float:
        return self.cpu_seconds * 1e6 / self.messages if self.messages else 0.0

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    @property
    def points_per_s(self) -> float:
        return self.points / self.seconds if self.seconds > 0 else 0.0


def _connect_properties(receive_maximum: int = RECEIVE_MAXIMUM) -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    props.ReceiveMaximum = receive_maximum
    return props


def _wait(event: threading.Event, timeout: float, what: str) -> None:
    if not event.wait(timeout):
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def prime_session(
    host: str, port: int, client_id: str, topics: tuple[str, ...], *, shared_group: str | None = None
) -> None:
    """Create a fresh persistent MQTT 5 session subscribed at QoS 1, then leave it offline."""
    filters = [f"$share/{shared_group}/{t}" if shared_group else t for t in topics]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_a: subscribed.set()
    client.connect(host, port, 30, clean_start=True, properties=_connect_properties())
    client.loop_start()
    try:
        client.subscribe([(f, 1) for f in filters])
        _wait(subscribed, 10, f"SUBACK for {client_id}")
    finally:
        client.disconnect()
        client.loop_stop()


def drop_session(host: str, port: int, client_id: str) -> None:
    """End a persistent session (and its queue) by connecting clean with no expiry."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    connected = threading.Event()
    client.on_connect = lambda *_a: connected.set()
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    client.connect(host, port, 30, clean_start=True, properties=props)
    client.loop_start()
    try:
        _wait(connected, 10, f"CONNACK for {client_id}")
    finally:
        client.disconnect()
        client.loop_stop()


def publish_backlog(
    host: str,
    port: int,
    total: int,
    devices: int,
    samples: int,
    *,
    seq_offset: int = 0,
    start_ms: int | None = None,
    client_id: str = "bench-publisher",
    timeout: float = 300.0,
) -> dict[str, float]:
    """Publish ``total`` telemetry messages at QoS 1 as fast as the broker takes them (child process).

    Returns once the broker acknowledged every one: ``{"messages", "seconds"}``.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    connected = threading.Event()
    client.on_connect = lambda *_a: connected.set()
    client.connect(host, port, 60)
    client.loop_start()
    try:
        _wait(connected, 10, "publisher CONNACK")
        messages = list(stream(total, devices=devices, samples=samples, start_ms=start_ms, seq_offset=seq_offset))
        started = time.perf_counter()
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            if not info.is_published():
                raise TimeoutError(f"the broker acknowledged only part of {total} messages in {timeout:.0f} s")
        seconds = time.perf_counter() - started
    finally:
        client.disconnect()
        client.loop_stop()
    return {"messages": float(total), "seconds": seconds}


def drain_bare(
    host: str,
    port: int,
    client_id: str,
    topics: tuple[str, ...],
    expected: int,
    *,
    parse_json: bool,
    timeout: float = 300.0,
) -> Drain:
    """A bare paho subscriber (automatic acks, QoS 1) taking a backlog: counting, or ``json.loads`` of each.

    Runs in a child process; the clock starts just before CONNECT.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=False)
    done = threading.Event()
    count = [0]
    sink: list[Any] = [None]

    def on_message(_c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if parse_json:
            sink[0] = json.loads(msg.payload)
        count[0] += 1
        if count[0] >= expected:
            done.set()

    client.on_message = on_message
    client.max_inflight_messages_set(RECEIVE_MAXIMUM)
    cpu = time.process_time()
    started = time.perf_counter()
    client.connect(host, port, 30, clean_start=False, properties=_connect_properties())
    client.loop_start()
    try:
        _wait(done, timeout, f"{expected} messages (got {count[0]})")
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        client.disconnect()
        client.loop_stop()
    return Drain(messages=count[0], seconds=seconds, cpu_seconds=cpu)
