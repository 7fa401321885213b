"""The broker restarted while a publisher streams: every message is stored exactly once.

The private Mosquitto keeps its queues on disk (persistence on; SIGTERM saves them). The publisher is
a plain paho client with a persistent session (``clean_session=False``, a fixed client id), so after
reconnecting it retries the QoS 1 messages the broker had not acknowledged, and the messages
published while the broker was down. Ingestion's session is persistent too: what it had received
but not acknowledged is redelivered, and deduplication drops the repeats, also of bad messages
(which have a ``(device_id, seq)`` here), whose dead letters must not be stored twice.
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
from aftercare.wiring import open_stores
from devices.timestamps import now_ms
from tests.integration.conftest_services import MosquittoBroker
from tests.reliability.helpers import (
    IngestCounts,
    Sent,
    assert_counted_as_sent,
    assert_dead_letters_as_sent,
    assert_stored_as_sent,
    start_platform_ingest,
    stored,
    wait_for_sentinel,
)
from tests.support.mqtt_publisher import wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

TOTAL = 8_000
WEARABLES = 4
BAD_EVERY = 40  # every 40th message is out of range: a dead letter, with a key


def test_broker_restart_mid_stream_loses_and_repeats_nothing(tmp_path: Path, mosquitto_broker: MosquittoBroker) -> None:
    broker = mosquitto_broker
    settings = Settings(
        data_dir=tmp_path,
        mqtt_client_id=f"ingest-restart-{time.monotonic_ns()}",
        batch_max_seconds=0.02,
        mqtt_backoff_min_s=0.1,
        mqtt_backoff_max_s=1.0,
    )
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=WEARABLES, gateways=0)
    running = start_platform_ingest(settings, stores, broker.host, broker.port)
    service = running.service
    before = IngestCounts.scrape(running.api)

    pub = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"restart-pub-{time.monotonic_ns()}",
        protocol=mqtt.MQTTv311,
        clean_session=False,
    )
    pub.max_inflight_messages_set(200)
    pub.max_queued_messages_set(0)
    pub.reconnect_delay_set(1, 2)
    reconnects = [0]
    pub.on_connect = lambda *_a: reconnects.__setitem__(0, reconnects[0] + 1)
    pub.connect(broker.host, broker.port, 10)
    pub.loop_start()
    wait_until(pub.is_connected, 10, what="publisher connected")
    db = tmp_path / "timeseries.db"
    t0 = now_ms() - 6 * 3_600_000
    sent = Sent()
    infos: list[mqtt.MQTTMessageInfo] = []

    def publish(message: tuple[str, dict[str, object]]) -> mqtt.MQTTMessageInfo:
        return pub.publish(message[0], json.dumps(message[1]).encode(), qos=1)

    def stream() -> None:  # about 4 s of steady publishing, paced so the restart lands mid-stream
        for i in range(TOTAL):
            device, seq = f"w{i % WEARABLES}", i // WEARABLES
            message = (
                sent.out_of_range(device, seq, t0 + seq * 1000)
                if i % BAD_EVERY == BAD_EVERY - 1
                else sent.hr(device, seq, t0 + seq * 1000, [60 + i % 50])
            )
            infos.append(publish(message))
            if i % 100 == 99:
                time.sleep(0.05)

    streamer = threading.Thread(target=stream)
    try:
        streamer.start()
        wait_until(lambda: stored(db).rows > TOTAL // 5, 60, 0.01, what="a fifth stored")
        broker.stop()
        at_restart = stored(db).rows
        # down until both sides notice: ingestion lost its connection and the publisher queues what it publishes
        wait_until(lambda: not service.status().connected, 30, 0.05, what="ingestion noticing the broker gone")
        wait_until(
            lambda: sum(1 for info in list(infos) if info.rc == mqtt.MQTT_ERR_NO_CONN) >= 50,
            30,
            0.05,
            what="the publisher queuing while the broker is down",
        )
        broker.start()
        streamer.join(120)
        # paho marks a publish made while disconnected with rc NO_CONN, keeps it queued and sends it
        # on reconnect; so wait on the published flag, not wait_for_publish (which raises on that rc).
        wait_until(
            lambda: all(info._published for info in infos), 90, 0.2, what="every publish acknowledged after the restart"
        )
        sentinel = publish(sent.hr("w0", TOTAL, t0 + TOTAL * 1000, [99]))
        sentinel.wait_for_publish(30)
        wait_for_sentinel(db, stores.state, ("w0", TOTAL), running=running)

        assert_stored_as_sent(db, sent)
        assert_dead_letters_as_sent(stores.state, sent)
        counts = IngestCounts.scrape(running.api) - before
        assert_counted_as_sent(counts, sent)
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
        running.platform.stop()
