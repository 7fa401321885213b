"""A monitor that falls behind never blocks ingestion.

`monitor.runner.MonitorRunner` runs, beside ingestion in the same process (as `aftercare up` does),
a deliberately slow monitor: each pass opens a state session, reads telemetry, then sleeps for
seconds with its read transaction still open; and a monitor that raises on every pass. A stream
sent while the slow monitor is inside a pass must be stored completely, exactly once. The same
stream is also sent with no monitor running, and both ingestion rates are printed (shown, not
asserted: timing assertions do not belong in tests on a shared machine).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aftercare.settings import Settings
from aftercare.wiring import build_ingest, open_stores
from devices.broker_url import BrokerUrl
from devices.timestamps import now_ms
from monitor.runner import MonitorRunner
from store.state.schema import DedupMark
from store.stores import Stores
from tests.reliability.helpers import hr, stored, telemetry_topic
from tests.support.mqtt_publisher import Publisher, wait_until
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

PER_PHASE = 4_000
WEARABLES = 4
SLOW_PASS_S = 4.0


class SlowMonitor:
    """Reads like a monitor, then dawdles with its read transaction open."""

    name = "slow"

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.passes: list[tuple[float, float]] = []
        self.inside = threading.Event()

    def run_once(self, now_ms: int) -> int:
        started = time.monotonic()
        self.inside.set()
        try:
            with self.stores.state.session() as s:
                marks = s.execute(select(func.count()).select_from(DedupMark)).scalar_one()
                data = self.stores.timeseries.read("P0", "heart_rate", 0, now_ms + 1)
                time.sleep(SLOW_PASS_S)
            return int(marks) + data.n
        finally:
            self.inside.clear()
            self.passes.append((started, time.monotonic()))


class FailingMonitor:
    name = "failing"

    def run_once(self, now_ms: int) -> int:
        raise RuntimeError("this monitor always fails")


def _send(pub: Publisher, first_seq: int, count: int, t0: int) -> None:
    pub.publish_all((telemetry_topic(f"w{i % WEARABLES}"),
                     hr((first_seq + i) // WEARABLES, t0 + ((first_seq + i) // WEARABLES) * 1000, [66]))
                    for i in range(count))


def test_a_slow_monitor_does_not_hold_up_ingestion(tmp_path: Path, mosquitto_broker: object) -> None:
    broker = mosquitto_broker
    settings = Settings(data_dir=tmp_path, batch_max_seconds=0.02, monitor_interval_s=0.05,
                        mqtt_client_id=f"ingest-slowmon-{time.monotonic_ns()}")
    stores = open_stores(settings)
    seed_registry(stores.state, wearables=WEARABLES, gateways=0)
    service = build_ingest(settings, stores, BrokerUrl(broker.host, broker.port))  # type: ignore[attr-defined]
    service.start()
    assert service.source.connected.wait(10)
    slow = SlowMonitor(stores)
    runner = MonitorRunner(settings, stores, monitors=[slow, FailingMonitor()])
    pub = Publisher(broker.host, broker.port, client_id=f"slowmon-pub-{time.monotonic_ns()}")  # type: ignore[attr-defined]
    db = tmp_path / "timeseries.db"
    t0 = now_ms() - 6 * 3_600_000
    try:
        started = time.monotonic()
        _send(pub, 0, PER_PHASE, t0)
        wait_until(lambda: stored(db).rows >= PER_PHASE, 120, 0.02, what="the stream without monitors stored")
        alone = PER_PHASE / (time.monotonic() - started)

        runner.start()
        assert slow.inside.wait(10), "the slow monitor started a pass"
        started = time.monotonic()
        _send(pub, PER_PHASE, PER_PHASE, t0)
        wait_until(lambda: stored(db).rows >= 2 * PER_PHASE, 120, 0.02, what="the stream beside the slow monitor")
        finished = time.monotonic()
        beside = PER_PHASE / (finished - started)
        print(f"\ningestion alone: {alone:,.0f} msg/s; beside a monitor {SLOW_PASS_S:.0f} s per pass: "
              f"{beside:,.0f} msg/s (ratio {beside / alone:.2f})")

        final = stored(db)
        assert (final.rows, final.distinct, final.samples) == (2 * PER_PHASE,) * 3, final
        with stores.state.session() as s:
            assert s.execute(select(func.count()).select_from(DedupMark)).scalar_one() == 2 * PER_PHASE
        # the stream was taken while the monitor was behind: at most one pass ended meanwhile
        ended_meanwhile = [end for start_, end in slow.passes if started <= end <= finished]
        assert len(ended_meanwhile) <= 1 + int((finished - started) / SLOW_PASS_S)
        assert service.status().store_ok
        assert service.status().connected
        wait_until(lambda: any("always fails" in e for e in runner.errors.values()), 3 * SLOW_PASS_S,
                   0.02, what="the failing monitor reported (and the runner still going)")
        ok, detail = runner.health()
        assert not ok
        assert "always fails" in detail
    finally:
        pub.close()
        runner.stop()
        service.stop()
        stores.close()
