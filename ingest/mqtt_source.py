"""The MQTT side of ingestion: a persistent QoS 1 session with manual acknowledgements.

paho-mqtt 2.x with ``manual_ack=True``: nothing is acknowledged until `ack` is called, which the
service does only after the message's batch is committed. The session is persistent
(MQTT 5 ``clean_start=False`` with a session expiry; 3.1.1 ``clean_session=False``), so messages
published while ingestion is down wait in the broker. Reconnection uses capped exponential backoff
with full jitter, and subscriptions are renewed on every connect.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devices.broker_url import BrokerUrl
from devices.timestamps import now_ms
from ingest import counters
from ingest.inbound import Inbound

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 86_400


def backoff_delays(minimum: float, maximum: float, rng: random.Random | None = None) -> Callable[[int], float]:
    """Full-jitter exponential backoff: attempt n waits uniform(0, min(max, minimum * 2**n))."""
    rng = rng or random.Random()

    def delay(attempt: int) -> float:
        return rng.uniform(minimum / 2, min(maximum, minimum * (2 ** min(attempt, 30))))

    return delay


class MqttSource:
    """Subscribes to topic filters and hands every message to ``on_message`` as an `Inbound`."""

    def __init__(
        self,
        *,
        broker: BrokerUrl,
        client_id: str,
        topics: tuple[str, ...],
        on_message: Callable[[Inbound], None],
        protocol: int = mqtt.MQTTv5,
        keepalive: int = 30,
        receive_maximum: int = 1000,
        shared_group: str | None = None,
        backoff_min_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        if receive_maximum < 1 or receive_maximum > 65535:
            raise ValueError(f"receive_maximum must be 1..65535: {receive_maximum}")
        self.broker = broker
        self.client_id = client_id
        self.protocol = protocol
        self.topics = tuple(f"$share/{shared_group}/{t}" if shared_group else t for t in topics)
        self.keepalive = keepalive
        self.receive_maximum = receive_maximum
        self._on_message = on_message
        self._delay = backoff_delays(backoff_min_s, backoff_max_s)
        self.generation = 0
        self.connected = threading.Event()
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = self._make_client()
        self.last_error: str | None = None

    def _make_client(self) -> mqtt.Client:
        kwargs: dict[str, Any] = {
            "client_id": self.client_id,
            "protocol": self.protocol,
            "manual_ack": True,
            "reconnect_on_failure": False,
        }
        if self.protocol != mqtt.MQTTv5:
            kwargs["clean_session"] = False
        client = mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        context = self.broker.tls_context()
        if context is not None:
            client.tls_set_context(context)  # verifies the broker's certificate and host name
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.max_inflight_messages_set(self.receive_maximum)
        return client

    # -- paho callbacks (network thread) ---------------------------------------------------
    def _handle_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            self.last_error = f"broker refused the connection: {reason}"
            log.warning("MQTT connect to %s refused: %s", self.broker, reason)
            self._lost.set()
            return
        self.generation += 1
        client.subscribe([(t, 1) for t in self.topics])
        self.connected.set()
        counters.CONNECTED.set(1)
        self.last_error = None
        log.info(
            "connected to %s as %s (session present: %s), subscribed to %s",
            self.broker,
            self.client_id,
            getattr(flags, "session_present", "?"),
            ", ".join(self.topics),
        )

    def _handle_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected.clear()
        counters.CONNECTED.set(0)
        if not self._stop.is_set():
            self.last_error = f"disconnected: {reason}"
            log.warning("MQTT connection to %s lost: %s", self.broker, reason)
        self._lost.set()

    def _handle_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        inbound = Inbound(
            topic=msg.topic if isinstance(msg.topic, str) else str(msg.topic),
            payload=bytes(msg.payload),
            mid=msg.mid,
            qos=msg.qos,
            generation=self.generation,
            received_ms=now_ms(),
        )
        try:
            self._on_message(inbound)
        except Exception:  # a failing handler must never stop delivery
            log.exception("handler failed for a message on %s", inbound.topic[:200])

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, name="mqtt-source", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._lost.set()
        try:
            self._client.disconnect()
        except Exception:  # already gone
            log.debug("disconnect while stopping", exc_info=True)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.loop_stop()

    def set_handler(self, on_message: Callable[[Inbound], None]) -> None:
        """Who receives the messages (set before `start`)."""
        self._on_message = on_message

    def ack(self, message: Inbound) -> bool:
        """Acknowledge a message; False when its connection is gone (the broker will redeliver it)."""
        if message.qos == 0:
            return True
        if message.generation != self.generation or not self.connected.is_set():
            return False
        return self._client.ack(message.mid, message.qos) == mqtt.MQTT_ERR_SUCCESS

    def _connect_properties(self) -> Properties | None:
        if self.protocol != mqtt.MQTTv5:
            return None
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = self.receive_maximum
        return props

    def _supervise(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._lost.clear()
            started = time.monotonic()
            try:
                if self.protocol == mqtt.MQTTv5:
                    self._client.connect(
                        self.broker.host,
                        self.broker.port,
                        self.keepalive,
                        clean_start=False,
                        properties=self._connect_properties(),
                    )
                else:
                    self._client.connect(self.broker.host, self.broker.port, self.keepalive)
                self._client.loop_start()
                self._lost.wait()
                self._client.loop_stop()
            except (OSError, ValueError) as exc:
                self.last_error = f"cannot connect to {self.broker}: {exc}"
                log.warning("cannot connect to %s: %s", self.broker, exc)
            if self._stop.is_set():
                break
            attempt = 0 if time.monotonic() - started > 60 else attempt + 1
            wait = self._delay(attempt)
            log.info("reconnecting to %s in %.1f s (attempt %s)", self.broker, wait, attempt)
            self._stop.wait(wait)
