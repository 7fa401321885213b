"""The disk under the SQLite stores fills up while telemetry streams in.

The data folder is a small tmpfs of its own (we run as root), sized to what the migrated, seeded
stores take plus a little, so it truly fills. Ingestion must fail with a clear reason ("database or
disk is full" from SQLite, carried by StoreUnavailable into the status), readiness must turn false,
and nothing may be acknowledged that is not stored: once the tmpfs is grown (space freed), ingestion
recovers on its own, every good message is stored exactly once with its values and every bad one (with a
key or without) gives exactly one dead letter, although their batches failed again and again meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

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
    dead_letters,
    start_platform_ingest,
    stored,
    wait_for_sentinel,
)
from tests.support.mqtt_publisher import Publisher, wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

TOTAL = 3_000
SAMPLES = 100  # 400 bytes of float32 per message: a few hundred KB of headroom fills quickly
WEARABLES = 4
HEADROOM = 256 * 1024
BAD_EVERY = 30  # every 30th message is bad: alternately out of range (has a key) and not JSON (has none)


def _mount(args: list[str]) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


def used_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs mounted at tmp_path/disk (8 MiB for now; the test shrinks it)."""
    where = tmp_path / "disk"
    where.mkdir()
    try:
        _mount(["-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(where)])
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.decode(errors="replace") if isinstance(exc, subprocess.CalledProcessError) else exc
        pytest.fail(f"cannot mount a tmpfs (the disk-full test needs root or CAP_SYS_ADMIN): {detail}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True, timeout=30)


def test_disk_full_is_reported_and_nothing_unstored_is_acknowledged(
    small_disk: Path, mosquitto_broker: MosquittoBroker
) -> None:
    broker = mosquitto_broker
    settings = Settings(
        data_dir=small_disk,
        batch_max_seconds=0.02,
        batch_max_messages=100,
        mqtt_client_id=f"ingest-full-{time.monotonic_ns()}",
    )
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=WEARABLES, gateways=0)
    stores.timeseries.ping()
    size = used_bytes(small_disk) + HEADROOM
    _mount(["-o", f"remount,size={size}", str(small_disk)])

    running = start_platform_ingest(settings, stores, broker.host, broker.port)
    platform, service, api = running.platform, running.service, running.api
    before = IngestCounts.scrape(api)
    db = small_disk / "timeseries.db"
    pub = Publisher(broker.host, broker.port, client_id=f"full-pub-{time.monotonic_ns()}")
    t0 = now_ms() - 24 * 3_600_000
    sent = Sent()

    def message(i: int) -> tuple[str, bytes | dict[str, object]]:
        device, seq = f"w{i % WEARABLES}", i // WEARABLES
        if i % BAD_EVERY != BAD_EVERY - 1:
            return sent.hr(device, seq, t0 + seq * SAMPLES * 1000, [70.0 + i % 30] * SAMPLES)
        if i % (2 * BAD_EVERY) == BAD_EVERY - 1:
            return sent.out_of_range(device, seq, t0 + seq * SAMPLES * 1000)
        return sent.not_json(device, i)

    try:
        pub.publish_all(message(i) for i in range(TOTAL))
        wait_until(lambda: not service.status().store_ok, 60, 0.05, what="the disk filling up")
        status = service.status()
        assert status.store_error is not None
        assert "disk is full" in status.store_error, status.store_error
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["ingest"]["ok"] is False
        assert "disk is full" in ready.json()["checks"]["ingest"]["detail"]
        failures = (IngestCounts.scrape(api) - before).store_failures
        wait_until(
            lambda: (IngestCounts.scrape(api) - before).store_failures >= failures + 3,
            60,
            0.1,
            what="three more failed retries",
        )  # retries keep failing; acknowledgements stay held
        at_full = stored(db).rows
        dead_at_full = len(dead_letters(stores.state))
        assert 0 < at_full < len(sent.good), f"the disk filled mid-stream ({at_full} stored)"
        assert service.messages <= at_full + dead_at_full, (
            f"{service.messages} messages acknowledged but only {at_full} stored and {dead_at_full} dead letters"
        )
        assert not service.status().store_ok

        _mount(["-o", "remount,size=64m", str(small_disk)])  # space freed
        pub.publish(*sent.hr("w0", TOTAL, t0 + TOTAL // WEARABLES * SAMPLES * 1000, [99.0])).wait_for_publish(30)
        wait_for_sentinel(
            db, stores.state, ("w0", TOTAL), running=running, what="the sentinel stored after freeing space"
        )
        assert service.status().store_ok
        assert api.get("/readyz").status_code == 200
        assert_stored_as_sent(db, sent)
        assert_dead_letters_as_sent(stores.state, sent)
        assert_counted_as_sent(IngestCounts.scrape(api) - before, sent)
    finally:
        pub.close()
        platform.stop()
