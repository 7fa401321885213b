"""What the fault tests share: payloads, `aftercare ingest` as a subprocess, and counting what was stored.

Every fault test ends the same way: the messages sent are counted against the rows stored, which
must be equal with no duplicate ``(device_id, seq)``.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from fastapi.testclient import TestClient

from aftercare.runtime import Platform, start_ingest
from aftercare.settings import Settings
from api.app import create_app
from api.context import AppContext
from devices.broker_url import BrokerUrl
from ingest.service import IngestService
from store.stores import Stores

ADMIN = "reliability-admin-token-0123456789abcdef"


def hr(seq: int, t0: int, values: list[float]) -> dict[str, object]:
    """A telemetry batch with one heart-rate series at 1 Hz."""
    return {"seq": seq, "series": [{"metric": "heart_rate", "t0": t0, "fs": 1.0, "values": values}]}


def telemetry_topic(device_id: str) -> str:
    return f"aftercare/v1/wearables/{device_id}/telemetry"


@dataclass(frozen=True, slots=True)
class Stored:
    """Chunk rows stored, distinct ``(device_id, seq)`` among them, and samples in all."""

    rows: int
    distinct: int
    samples: int


def stored(db: Path, *, exclude_device: str | None = None) -> Stored:
    """What the SQLite time-series file holds (read-only; 0s when the table is not there yet)."""
    if not db.exists():
        return Stored(0, 0, 0)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT device_id || ':' || seq), coalesce(sum(n), 0) FROM chunks "
            "WHERE device_id != ?", (exclude_device or "",)).fetchone()
    except sqlite3.OperationalError:
        return Stored(0, 0, 0)
    finally:
        conn.close()
    return Stored(int(row[0]), int(row[1]), int(row[2]))


def ingest_process(data_dir: Path, broker_url: str, client_id: str, *,
                   extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`aftercare ingest` in its own process, logging to ``data_dir/ingest.log``."""
    env = {**os.environ, "AFTERCARE_DATA_DIR": str(data_dir), "AFTERCARE_MQTT_URL": broker_url,
           "AFTERCARE_MQTT_CLIENT_ID": client_id, "AFTERCARE_ADMIN_TOKEN": ADMIN, "AFTERCARE_LOG_LEVEL": "WARNING",
           "AFTERCARE_MQTT_BACKOFF_MAX_S": "2", **(extra_env or {})}
    with open(data_dir / "ingest.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "aftercare.cli", "ingest"], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def rss_with_children(pid: int) -> int:
    """Resident memory of a process and its child processes (ingestion's committer), from /proc."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children.extend(int(c) for c in (task / "children").read_text().split())
    return rss_bytes(pid) + sum(rss_with_children(c) for c in children)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class RunningIngest:
    """Ingestion as `aftercare up` starts it (with its `/readyz` checks), and an API client over it."""

    platform: Platform
    service: IngestService
    api: TestClient


def start_platform_ingest(settings: Settings, stores: Stores, host: str, port: int) -> RunningIngest:
    """Start ingestion through `aftercare.runtime.start_ingest` and wait until it is connected."""
    platform = Platform(settings=settings, stores=stores, admin_token=ADMIN, broker_url=BrokerUrl(host, port))
    start_ingest(platform, mqtt.MQTTv5)
    service = platform.ingest
    assert service is not None
    assert service.source.connected.wait(10)
    api = TestClient(create_app(AppContext(stores=stores, admin_token=ADMIN, health_checks=platform.health_checks)))
    return RunningIngest(platform, service, api)
