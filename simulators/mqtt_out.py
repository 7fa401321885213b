"""A publishing MQTT connection for simulated devices (QoS 1, one client per device)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.broker_url import BrokerUrl


class DeviceLink:
    """One device's MQTT connection; its status is retained, with an offline last will."""

    def __init__(self, broker: BrokerUrl, device_id: str, *, password: str | None = None) -> None:
        self.device_id = device_id
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"dev-{device_id}", protocol=mqtt.MQTTv311)
        if password is not None:
            self.client.username_pw_set(device_id, password)
        context = broker.tls_context()
        if context is not None:
            self.client.tls_set_context(context)
        status_topic = f"aftercare/v1/devices/{device_id}/status"
        self.client.will_set(status_topic, json.dumps({"online": False}), qos=1, retain=True)
        self.client.max_inflight_messages_set(200)
        self.client.reconnect_delay_set(1, 10)
        self.client.connect_async(broker.host, broker.port, 30)
        self.client.loop_start()
        # increasing across restarts of the simulator; itertools.count is safe to share between threads
        self._seq = itertools.count(int(time.time() * 1000))
        self.sent = 0

    def next_seq(self) -> int:
        return next(self._seq)

    def publish(self, topic: str, doc: dict[str, Any], *, retain: bool = False) -> None:
        self.client.publish(topic, json.dumps(doc, separators=(",", ":")), qos=1, retain=retain)
        self.sent += 1

    def status(self, online: bool, battery: float | None = None) -> None:
        doc: dict[str, Any] = {"online": online, "firmware": "sim-1.0", "at": int(time.time() * 1000)}
        if battery is not None:
            doc["battery"] = battery
        self.publish(f"aftercare/v1/devices/{self.device_id}/status", doc, retain=True)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
