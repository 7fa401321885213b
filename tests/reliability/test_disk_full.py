"""The disk under the SQLite stores fills up while telemetry streams in.

The data folder is a small tmpfs of its own (we run as root), sized to what the migrated, seeded
stores take plus a little, so it truly fills. Ingestion must fail with a clear reason ("database or
disk is full" from SQLite, carried by StoreUnavailable into the status), readiness must turn false,
and nothing may be acknowledged that is not stored: once the tmpfs is grown (space freed), ingestion
recovers on its own and every message is stored exactly once.
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
from tests.reliability.helpers import hr, start_platform_ingest, stored, telemetry_topic
from tests.support.mqtt_publisher import Publisher, wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

TOTAL = 3_000
SAMPLES = 100  # 400 bytes of float32 per message: a few hundred KB of headroom fills quickly
WEARABLES = 4
HEADROOM = 256 * 1024


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


def test_disk_full_is_reported_and_nothing_unstored_is_acknowledged(small_disk: Path, mosquitto_broker: object) -> None:
    broker = mosquitto_broker
    settings = Settings(data_dir=small_disk, batch_max_seconds=0.02, batch_max_messages=100,
                        mqtt_client_id=f"ingest-full-{time.monotonic_ns()}")
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=WEARABLES, gateways=0)
    stores.timeseries.ping()
    size = used_bytes(small_disk) + HEADROOM
    _mount(["-o", f"remount,size={size}", str(small_disk)])

    running = start_platform_ingest(settings, stores, broker.host, broker.port)  # type: ignore[attr-defined]
    platform, service, api = running.platform, running.service, running.api
    db = small_disk / "timeseries.db"
    pub = Publisher(broker.host, broker.port, client_id=f"full-pub-{time.monotonic_ns()}")  # type: ignore[attr-defined]
    t0 = now_ms() - 24 * 3_600_000
    try:
        pub.publish_all((telemetry_topic(f"w{i % WEARABLES}"),
                         hr(i // WEARABLES, t0 + (i // WEARABLES) * SAMPLES * 1000, [70.0 + i % 30] * SAMPLES))
                        for i in range(TOTAL))
        pub.close()
        wait_until(lambda: not service.status().store_ok, 60, 0.05, what="the disk filling up")
        status = service.status()
        assert status.store_error is not None
        assert "disk is full" in status.store_error, status.store_error
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["ingest"]["ok"] is False
        assert "disk is full" in ready.json()["checks"]["ingest"]["detail"]
        time.sleep(2.0)  # retries keep failing; acknowledgements stay held
        at_full = stored(db)
        assert 0 < at_full.rows < TOTAL, f"the disk filled mid-stream ({at_full.rows} stored)"
        assert service.messages <= at_full.rows, (
            f"{service.messages} messages acknowledged but only {at_full.rows} stored")
        assert not service.status().store_ok

        _mount(["-o", "remount,size=64m", str(small_disk)])  # space freed
        wait_until(lambda: stored(db).rows >= TOTAL, 120, 0.2, what=f"{TOTAL} messages stored after freeing space")
        wait_until(lambda: service.status().store_ok, 30, 0.1, what="ingestion reporting the store ok")
        assert api.get("/readyz").status_code == 200
        time.sleep(1.0)
        final = stored(db)
        assert (final.rows, final.distinct, final.samples) == (TOTAL, TOTAL, TOTAL * SAMPLES), final
    finally:
        platform.stop()
