"""Three `aftercare ingest` processes on one MQTT shared subscription against a real Mosquitto:
50,000 messages from ten devices are stored exactly once, the load is split across all three, and one
process SIGKILLed in the middle (then restarted, as its supervisor would) loses nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from devices.timestamps import now_ms
from store.state.engine import StateStore
from store.state.migrate import upgrade
from store.timeseries.sqlite import SQLiteTimeSeriesStore
from tests.integration.conftest_services import *  # noqa: F403
from tests.integration.conftest_services import MosquittoBroker
from tests.support.mqtt_publisher import Publisher, wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TOTAL = 50_000
DEVICES = 10
STATS = re.compile(r"ingest stats: client_id=(\S+) messages=(\d+)")


def _start(
    tmp_path: Path, broker: MosquittoBroker, state_url: str, group: str, client_id: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(tmp_path),
        "AFTERCARE_STATE_URL": state_url,
        "AFTERCARE_MQTT_URL": f"mqtt://{broker.host}:{broker.port}",
        "AFTERCARE_MQTT_CLIENT_ID": client_id,
        "AFTERCARE_MQTT_SHARED_GROUP": group,
        "AFTERCARE_ADMIN_TOKEN": "scale-out-admin-token-0123456789",
        "AFTERCARE_STATS_INTERVAL_S": "0.5",
        "AFTERCARE_LOG_LEVEL": "INFO",
    }
    log = open(tmp_path / f"{client_id}.log", "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen([sys.executable, "-m", "aftercare.cli", "ingest"], env=env, stdout=log, stderr=log)


def _handled(tmp_path: Path, client_id: str) -> int:
    """Messages a client id committed: its last stats line of each run, summed over its runs."""
    text = (tmp_path / f"{client_id}.log").read_text()
    total, last = 0, 0
    for line in text.splitlines():
        if "connected to" in line:  # a new run of the process starts counting from zero
            total, last = total + last, 0
        m = STATS.search(line)
        if m:
            last = int(m.group(2))
    return total + last


def test_three_ingest_processes_share_the_load_and_lose_nothing(
    tmp_path: Path, pg_url: str, mosquitto_broker: MosquittoBroker
) -> None:
    state = StateStore(pg_url)
    upgrade(state.engine)
    seed_registry(state, wearables=DEVICES, gateways=0)
    group = f"ingest-{uuid.uuid4().hex[:6]}"
    ids = [f"scale-{group}-{i}" for i in range(3)]
    procs = [_start(tmp_path, mosquitto_broker, pg_url, group, cid) for cid in ids]
    ts = SQLiteTimeSeriesStore(tmp_path / "timeseries.db")

    def stored() -> int:
        return int(ts._conn().execute("SELECT count(*) FROM chunks").fetchone()[0])

    try:
        wait_until(
            lambda: all(
                (tmp_path / f"{cid}.log").exists() and "subscribed to" in (tmp_path / f"{cid}.log").read_text()
                for cid in ids
            ),
            30,
            what="3 subscribers",
        )
        pub = Publisher(mosquitto_broker.host, mosquitto_broker.port, client_id=f"pub-{group}")
        t0 = now_ms() - 2 * 3_600_000
        infos = []
        for i in range(TOTAL):
            seq = i // DEVICES
            infos.append(
                pub.publish(
                    f"aftercare/v1/wearables/w{i % DEVICES}/telemetry",
                    {
                        "seq": seq,
                        "series": [{"metric": "heart_rate", "t0": t0 + seq * 1000, "fs": 1.0, "values": [60 + i % 40]}],
                    },
                )
            )
            if i == TOTAL // 3:
                wait_until(lambda: stored() > TOTAL // 10, 120, 0.05, what="a tenth stored")
                procs[1].send_signal(signal.SIGKILL)
                procs[1].wait(10)
                killed_at = stored()
                time.sleep(1.0)
                procs[1] = _start(tmp_path, mosquitto_broker, pg_url, group, ids[1])
        for info in infos:
            info.wait_for_publish(120)
        pub.close()
        wait_until(lambda: stored() >= TOTAL, 300, 0.5, what=f"{TOTAL} messages stored")
        time.sleep(2.0)
        count, distinct, points = (
            ts._conn()
            .execute("SELECT count(*), count(DISTINCT device_id || ':' || seq), sum(n) FROM chunks")
            .fetchone()
        )
        assert (count, distinct, points) == (TOTAL, TOTAL, TOTAL)
        assert 0 < killed_at < TOTAL
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(30)
        ts.close()
        state.close()
    shares = {cid: _handled(tmp_path, cid) for cid in ids}
    print(f"messages committed per process: {shares}")
    # each took a real share (the killed process's count misses what it committed in its last half second,
    # which its stats line had not yet reported; the store's count above is the exact one)
    assert all(n > TOTAL * 0.1 for n in shares.values()), shares
