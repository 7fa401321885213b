"""Ingestion SIGKILLed twice while a publisher streams: every message is stored exactly once.

Unlike the integration test that kills once after the stream is queued, here the publisher keeps
streaming across both kills, and the second kill lands shortly after the first restart, while the
restarted process is still draining what piled up. Nothing acknowledged may be lost and no
redelivery may be stored twice.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from devices.timestamps import now_ms
from store.state.engine import StateStore
from store.state.migrate import upgrade
from tests.reliability.helpers import hr, ingest_process, stop, stored, telemetry_topic
from tests.support.mqtt_publisher import Publisher, wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

TOTAL = 12_000
WEARABLES = 4  # w0..w3 carry the stream; w4 only the probe that shows ingestion is up


def test_killed_twice_mid_stream_stores_every_message_once(tmp_path: Path, mosquitto_broker: object) -> None:
    broker = mosquitto_broker
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(state.engine)
    seed_registry(state, wearables=WEARABLES + 1, gateways=0)
    state.close()
    db = tmp_path / "timeseries.db"
    url = broker.url  # type: ignore[attr-defined]
    client_id = f"ingest-killed-twice-{time.monotonic_ns()}"
    proc = ingest_process(tmp_path, url, client_id)
    probe = Publisher(broker.host, broker.port, client_id=f"probe-{time.monotonic_ns()}")  # type: ignore[attr-defined]
    probes = [0]

    def probe_stored() -> bool:
        probes[0] += 1
        probe.publish(telemetry_topic(f"w{WEARABLES}"), hr(probes[0], now_ms() - 1000, [60]))
        return stored(db).rows - stored(db, exclude_device=f"w{WEARABLES}").rows > 0

    kills: list[int] = []
    try:
        wait_until(probe_stored, 60, 0.5, what="ingestion up")
        probe.close()
        pub = Publisher(broker.host, broker.port, client_id=f"killed-pub-{time.monotonic_ns()}")  # type: ignore[attr-defined]
        t0 = now_ms() - 6 * 3_600_000
        infos = []

        def stream() -> None:  # a steady stream that outlives both kills
            for i in range(TOTAL):
                seq = i // WEARABLES
                infos.append(pub.publish(telemetry_topic(f"w{i % WEARABLES}"), hr(seq, t0 + seq * 1000, [60 + i % 50])))
                if i % 200 == 199:
                    time.sleep(0.05)

        streamer = threading.Thread(target=stream)
        streamer.start()

        def kill(p: subprocess.Popen[bytes]) -> None:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
            kills.append(stored(db, exclude_device=f"w{WEARABLES}").rows)

        wait_until(lambda: stored(db, exclude_device=f"w{WEARABLES}").rows > TOTAL // 6, 120, 0.01,
                   what="a sixth stored")
        kill(proc)
        proc = ingest_process(tmp_path, url, client_id)
        first_restart = kills[0]
        wait_until(lambda: stored(db, exclude_device=f"w{WEARABLES}").rows > first_restart + 500, 120, 0.01,
                   what="the restarted process storing again")
        kill(proc)
        proc = ingest_process(tmp_path, url, client_id)
        streamer.join(120)
        for info in infos:
            info.wait_for_publish(60)
        assert all(info.is_published() for info in infos), "the broker acknowledged every publish"
        pub.close()
        wait_until(lambda: stored(db, exclude_device=f"w{WEARABLES}").rows >= TOTAL, 180, 0.2,
                   what=f"{TOTAL} messages stored")
        time.sleep(1.0)  # any late duplicate would land now
        final = stored(db, exclude_device=f"w{WEARABLES}")
        assert (final.rows, final.distinct, final.samples) == (TOTAL, TOTAL, TOTAL), f"kills at {kills}: {final}"
        assert 0 < kills[0] < kills[1] < TOTAL, f"both kills happened mid-stream: {kills}"
    finally:
        stop(proc)
