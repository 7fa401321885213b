"""The broker restarted while a publisher streams: every message is stored exactly once.

The private Mosquitto keeps its queues on disk (persistence on; SIGTERM saves them). The publisher is
a plain paho client with a persistent session (``clean_session=False``, a fixed client id), so after
reconnecting it retries the QoS 1 messages the broker had not acknowledged, and the messages
published while the broker was down. Ingestion's session is persistent too: what it had received
but not acknowledged is redelivered, and deduplication drops the repeats.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from aftercare.settings import Settings
from aftercare.wiring import build_ingest, open_stores
from devices.broker_url import BrokerUrl
from devices.timestamps import now_ms
from tests.reliability.helpers import hr, stored, telemetry_topic
from tests.support.mqtt_publisher import wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

TOTAL = 8_000
WEARABLES = 4


def test_broker_restart_mid_stream_loses_and_repeats_nothing(tmp_path: Path, mosquitto_broker: object) -> None:
    broker = mosquitto_broker
    host, port = broker.host, broker.port  # type: ignore[attr-defined]
    settings = Settings(data_dir=tmp_path, mqtt_client_id=f"ingest-restart-{time.monotonic_ns()}",
                        batch_max_seconds=0.02, mqtt_backoff_min_s=0.1, mqtt_backoff_max_s=1.0)
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=WEARABLES, gateways=0)
    service = build_ingest(settings, stores, BrokerUrl(host, port))
    service.start()
    assert service.source.connected.wait(10)

    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"restart-pub-{time.monotonic_ns()}",
                      protocol=mqtt.MQTTv311, clean_session=False)
    pub.max_inflight_messages_set(200)
    pub.max_queued_messages_set(0)
    pub.reconnect_delay_set(1, 2)
    reconnects = [0]
    pub.on_connect = lambda *_a: reconnects.__setitem__(0, reconnects[0] + 1)
    pub.connect(host, port, 10)
    pub.loop_start()
    wait_until(pub.is_connected, 10, what="publisher connected")
    db = tmp_path / "timeseries.db"
    t0 = now_ms() - 6 * 3_600_000
    infos: list[mqtt.MQTTMessageInfo] = []

    def stream() -> None:  # about 4 s of steady publishing, paced so the restart lands mid-stream
        for i in range(TOTAL):
            seq = i // WEARABLES
            infos.append(pub.publish(telemetry_topic(f"w{i % WEARABLES}"), _json(hr(seq, t0 + seq * 1000, [70])),
                                     qos=1))
            if i % 100 == 99:
                time.sleep(0.05)

    streamer = threading.Thread(target=stream)
    try:
        streamer.start()
        wait_until(lambda: stored(db).rows > TOTAL // 5, 60, 0.01, what="a fifth stored")
        broker.stop()  # type: ignore[attr-defined]
        at_restart = stored(db).rows
        time.sleep(2.0)  # down for a while: the publisher queues, ingestion retries
        broker.start()  # type: ignore[attr-defined]
        streamer.join(120)
        # paho marks a publish made while disconnected with rc NO_CONN, keeps it queued and sends it
        # on reconnect; so wait on the published flag, not wait_for_publish (which raises on that rc).
        wait_until(lambda: all(info._published for info in infos), 90, 0.2,
                   what="every publish acknowledged after the restart")
        wait_until(lambda: stored(db).rows >= TOTAL, 120, 0.2, what=f"{TOTAL} messages stored")
        time.sleep(1.0)
        final = stored(db)
        assert (final.rows, final.distinct, final.samples) == (TOTAL, TOTAL, TOTAL), final
        assert 0 < at_restart < TOTAL, f"the restart happened mid-stream ({at_restart} stored before it)"
        assert reconnects[0] >= 2, "the publisher reconnected after the restart"
        queued_while_down = sum(1 for info in infos if info.rc == mqtt.MQTT_ERR_NO_CONN)
        assert queued_while_down > 0, "some messages were published while the broker was down, and retried"
        assert service.status().connected
        assert service.status().store_ok
    finally:
        if streamer.is_alive():
            streamer.join(60)
        pub.loop_stop()
        pub.disconnect()
        service.stop()
        stores.close()


def _json(doc: dict[str, object]) -> bytes:
    return json.dumps(doc).encode()
