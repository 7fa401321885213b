"""The state store (PostgreSQL) unavailable for 30 s while telemetry streams in.

The outage is made without touching the shared server: the test's own database refuses new
connections (``ALTER DATABASE ... ALLOW_CONNECTIONS false``) and its sessions are terminated. During
it ingestion must hold its acknowledgements, keep what it holds within the broker's receive maximum,
and say so (``IngestService.status().store_ok`` False, ``/readyz`` 503); afterwards it recovers by
itself (``/readyz`` 200), every good message is stored exactly once with its values, and every bad one
(with a ``(device_id, seq)`` or not even JSON) gives exactly one dead letter, although its batch was tried
again and again during the outage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

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
from tests.support.mqtt_publisher import Publisher, wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

OUTAGE_S = 30.0
RATE = 120  # messages per second, steady
TOTAL = 6_000  # about 50 s of stream: before, during and after the outage
WEARABLES = 4
BAD_EVERY = 50  # every 50th message is bad: alternately out of range (has a key) and not JSON (has none)


@contextmanager
def database_refusing(admin_url: str, name: str) -> Iterator[None]:
    """The database ``name`` refuses connections and its sessions are ended, until the block exits."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    try:
        yield
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_state_store_outage_holds_acks_and_recovers(
    tmp_path: Path, pg_server: str, pg_url: str, mosquitto_broker: MosquittoBroker
) -> None:
    broker = mosquitto_broker
    settings = Settings(
        data_dir=tmp_path,
        state_url=pg_url,
        batch_max_seconds=0.02,
        mqtt_client_id=f"ingest-outage-{time.monotonic_ns()}",
    )
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=WEARABLES, gateways=0)
    running = start_platform_ingest(settings, stores, broker.host, broker.port)
    platform, service, api = running.platform, running.service, running.api
    assert api.get("/readyz").status_code == 200
    before = IngestCounts.scrape(api)

    db = tmp_path / "timeseries.db"
    pub = Publisher(broker.host, broker.port, client_id=f"outage-pub-{time.monotonic_ns()}")
    t0 = now_ms() - 6 * 3_600_000
    sent = Sent()
    infos = []

    def stream() -> None:
        started = time.monotonic()
        for i in range(TOTAL):
            device, seq = f"w{i % WEARABLES}", i // WEARABLES
            if i % BAD_EVERY != BAD_EVERY - 1:
                infos.append(pub.publish(*sent.hr(device, seq, t0 + seq * 1000, [40 + i % 100])))
            elif i % (2 * BAD_EVERY) == BAD_EVERY - 1:
                infos.append(pub.publish(*sent.out_of_range(device, seq, t0 + seq * 1000)))
            else:
                infos.append(pub.publish(*sent.not_json(device, i)))
            time.sleep(max(0.0, started + (i + 1) / RATE - time.monotonic()))

    streamer = threading.Thread(target=stream)
    streamer.start()
    name = pg_url.rsplit("/", 1)[1]
    try:
        wait_until(lambda: stored(db).rows > 500, 60, 0.05, what="ingestion storing before the outage")
        with database_refusing(pg_server, name):
            outage_started = time.monotonic()
            wait_until(lambda: not service.status().store_ok, 20, 0.05, what="ingestion noticing the outage")
            status = service.status()
            assert status.store_error, "the status says why the store is not ok"
            assert api.get("/readyz").status_code == 503
            acked = service.messages
            worst_pending = 0
            while time.monotonic() - outage_started < OUTAGE_S:
                status = service.status()
                worst_pending = max(worst_pending, status.pending)
                assert not status.store_ok
                assert service.messages == acked, "nothing acknowledged while the store is down"
                time.sleep(0.25)
            ready = api.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["ingest"]["ok"] is False
            assert 0 < worst_pending <= settings.mqtt_receive_maximum, (
                f"held {worst_pending} messages; the broker's receive maximum bounds it"
            )
        wait_until(lambda: service.status().store_ok, 60, 0.1, what="ingestion recovering")
        wait_until(lambda: api.get("/readyz").status_code == 200, 30, 0.2, what="/readyz back to 200")
        streamer.join(120)
        for info in infos:
            info.wait_for_publish(60)
        pub.publish(*sent.hr("w0", TOTAL, t0 + TOTAL * 1000, [99])).wait_for_publish(30)
        wait_for_sentinel(db, stores.state, ("w0", TOTAL), running=running)
        assert_stored_as_sent(db, sent)
        assert_dead_letters_as_sent(stores.state, sent)
        assert_counted_as_sent(IngestCounts.scrape(api) - before, sent)
    finally:
        streamer.join(120)
        pub.close()
        platform.stop()
