"""A monitor that falls behind never blocks ingestion.

`monitor.worker.MonitorWorker` runs beside ingestion in the same process (as `aftercare up` does) with a
monitor that, on the first data it is given, reads the stores and then stays inside that round, in its
computing step with its read transaction open, until the test releases it (on SQLite a write transaction
would hold the database's one write lock: that is why the worker computes before it writes); and a duty
that raises on every tick. A stream sent while the monitor is stuck must be stored completely, exactly
once, before it is released (a monitor that blocked the stores would make that wait time out); the
failing duty is reported by the worker's health. Both ingestion rates are printed (shown, not asserted:
timing assertions do not belong in tests).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aftercare.settings import Settings
from aftercare.wiring import build_ingest, open_stores
from devices.broker_url import BrokerUrl
from devices.timestamps import now_ms
from monitor.leases import leases_for
from monitor.worker import MonitorWorker, Sessions
from store.state.inbox import Arrival
from store.state.schema import DedupMark
from store.stores import Stores
from tests.reliability.helpers import hr, stored, telemetry_topic
from tests.support.mqtt_publisher import Publisher, wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

PER_PHASE = 4_000
WEARABLES = 4


class StuckMonitor:
    """Reads like the rehab monitor, then stays inside its round until released."""

    name = "stuck"
    subject_type = "patient"

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.inside = threading.Event()
        self.release = threading.Event()
        self.rounds = 0

    def prepare(self, read: Session, subject: str, arrivals: Sequence[Arrival], now_ms: int) -> int:
        self.rounds += 1
        marks = read.execute(select(func.count()).select_from(DedupMark)).scalar_one()
        data = self.stores.timeseries.read(subject, "heart_rate", 0, now_ms + 1)
        self.inside.set()
        assert self.release.wait(300), "the test never released the monitor"
        self.inside.clear()
        return int(marks) + data.n

    def apply(self, write: Session, subject: str, prepared: object, now_ms: int) -> int:
        return 1

    def on_tick(self, session: Session, partitions: frozenset[int], now_ms: int, *, coordinator: bool) -> int:
        return 0

    def background(self, sessions: Sessions, partitions: frozenset[int], now_ms: int, budget_s: float) -> int:
        return 0

    def forget(self, partitions: frozenset[int]) -> None:
        """Nothing cached."""

    def flush(self, write: Session) -> None:
        """Nothing deferred."""

    def rolled_back(self) -> None:
        """Nothing cached."""


class FailingDuty:
    name = "failing"

    def run_partitions(self, now_ms: int, partitions: frozenset[int], *, coordinator: bool) -> int:
        raise RuntimeError("this duty always fails")


def _stored_messages(db: Path) -> set[tuple[str, int]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {(str(d), int(q)) for d, q in conn.execute("SELECT device_id, seq FROM chunks")}
    finally:
        conn.close()


def _send(pub: Publisher, first_seq: int, count: int, t0: int) -> None:
    pub.publish_all(
        (
            telemetry_topic(f"w{i % WEARABLES}"),
            hr((first_seq + i) // WEARABLES, t0 + ((first_seq + i) // WEARABLES) * 1000, [66]),
        )
        for i in range(count)
    )


def test_a_slow_monitor_does_not_hold_up_ingestion(tmp_path: Path, mosquitto_broker: object) -> None:
    broker = mosquitto_broker
    settings = Settings(
        data_dir=tmp_path,
        batch_max_seconds=0.02,
        monitor_interval_s=0.05,
        mqtt_client_id=f"ingest-slowmon-{time.monotonic_ns()}",
    )
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=WEARABLES, gateways=0)
    service = build_ingest(settings, stores, BrokerUrl(broker.host, broker.port))  # type: ignore[attr-defined]
    service.start()
    assert service.source.connected.wait(10)
    stuck = StuckMonitor(stores)
    worker = MonitorWorker(
        leases=leases_for(stores.state),
        read_session=stores.state.session,
        monitors=[stuck],
        duties=[FailingDuty()],
        poll_s=0.02,
        tick_s=0.05,
    )
    pub = Publisher(broker.host, broker.port, client_id=f"slowmon-pub-{time.monotonic_ns()}")  # type: ignore[attr-defined]
    db = tmp_path / "timeseries.db"
    t0 = now_ms() - 6 * 3_600_000
    try:
        started = time.monotonic()
        _send(pub, 0, PER_PHASE, t0)
        wait_until(lambda: stored(db).rows >= PER_PHASE, 120, 0.02, what="the stream without monitors stored")
        alone = PER_PHASE / (time.monotonic() - started)

        worker.start()
        assert stuck.inside.wait(30), "the monitor took the first data and is stuck in its round"
        started = time.monotonic()
        _send(pub, PER_PHASE, PER_PHASE, t0)
        wait_until(lambda: stored(db).rows >= 2 * PER_PHASE, 120, 0.02, what="the stream beside the stuck monitor")
        beside = PER_PHASE / (time.monotonic() - started)
        print(
            f"\ningestion alone: {alone:,.0f} msg/s; beside a monitor stuck in its round: {beside:,.0f} msg/s "
            f"(ratio {beside / alone:.2f})"
        )
        assert stuck.inside.is_set(), "everything was stored while the monitor was stuck"
        assert stuck.rounds == 1
        with stores.state.session() as s:
            assert s.execute(select(func.count()).select_from(DedupMark)).scalar_one() == 2 * PER_PHASE
        assert _stored_messages(db) == ({(f"w{i % WEARABLES}", i // WEARABLES) for i in range(2 * PER_PHASE)})
        assert service.status().store_ok
        assert service.status().connected
        stuck.release.set()
        wait_until(
            lambda: any("always fails" in e for e in worker.errors.values()),
            30,
            0.02,
            what="the failing duty reported (and the worker still going)",
        )
        ok, detail = worker.health()
        assert not ok
        assert "always fails" in detail
    finally:
        stuck.release.set()
        pub.close()
        worker.stop()
        service.stop()
        stores.close()
