"""A plain paho publisher for tests: QoS 1, waits until the broker has acknowledged everything."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from simulators.waiting import wait_until

__all__ = ["Publisher", "wait_until"]


class Publisher:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str = "test-publisher",
        username: str | None = None,
        password: str | None = None,
        protocol: MQTTProtocolVersion = mqtt.MQTTv311,
    ) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
        if username:
            self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(500)
        self.client.max_queued_messages_set(0)
        self.client.connect(host, port, 30)
        self.client.loop_start()
        deadline = time.monotonic() + 10
        while not self.client.is_connected():
            if time.monotonic() > deadline:
                raise TimeoutError(f"cannot connect to {host}:{port}")
            time.sleep(0.02)

    def publish(
        self, topic: str, payload: bytes | str | dict[str, object], *, qos: int = 1, retain: bool = False
    ) -> mqtt.MQTTMessageInfo:
        data = json.dumps(payload).encode() if isinstance(payload, dict) else payload
        return self.client.publish(topic, data, qos=qos, retain=retain)

    def publish_all(self, messages: Iterable[tuple[str, bytes | str | dict[str, object]]], timeout: float = 120) -> int:
        infos = [self.publish(t, p) for t, p in messages]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            if not info.is_published():
                raise TimeoutError("the broker did not acknowledge every message")
        return len(infos)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
