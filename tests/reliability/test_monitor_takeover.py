"""Monitor workers split the subjects on PostgreSQL, and a SIGKILLed one is taken over with nothing missed
and nothing alerted twice.

Two `aftercare monitor` processes share one PostgreSQL state store. Sixty patients each get one
desaturation, written as ingestion writes it (time series, then the monitor inbox in the state
transaction), in three waves: the first just before one worker is SIGKILLed (it may die in the middle
of applying it), the second while it is dead, the third after the survivor holds every partition.
Counted afterwards, from tables with no unique key on what is counted: one desaturation alert per
patient with one occurrence, and one `alert` event per patient, no more, no fewer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, text

from aftercare.bench.telemetry import device_id, patient_id, register_wearables
from aftercare.settings import Settings
from aftercare.wiring import open_stores
from devices.timestamps import now_ms
from monitor.leases import PARTITION_CLASS
from store.state.partitions import PARTITIONS
from store.state.schema import Alert, EventRow
from store.stores import Stores
from tests.support.mqtt_publisher import wait_until
from tests.support.telemetry import write_series

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

PATIENTS = 60
ADMIN = "takeover-admin-token-0123456789abcdef"


@pytest.fixture
def stores(tmp_path: Path, pg_url: str) -> Iterator[Stores]:
    opened = open_stores(Settings(data_dir=tmp_path, state_url=pg_url))
    register_wearables(opened.state, PATIENTS)
    yield opened
    opened.close()


def _worker(tmp_path: Path, pg_url: str, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(tmp_path),
        "AFTERCARE_STATE_URL": pg_url,
        "AFTERCARE_ADMIN_TOKEN": ADMIN,
        "AFTERCARE_LOG_LEVEL": "INFO",
        "AFTERCARE_MONITOR_POLL_S": "0.05",
        "AFTERCARE_MONITOR_INTERVAL_S": "1",
    }
    with (tmp_path / f"{name}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "aftercare.cli", "monitor"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )


def _holders(stores: Stores) -> dict[int, int]:
    """Partitions held per backend pid."""
    with stores.state.session() as s:
        rows = s.execute(
            text(
                "SELECT pid, count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :c "
                "AND granted AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database()) GROUP BY pid"
            ),
            {"c": PARTITION_CLASS},
        ).all()
    return {int(pid): int(n) for pid, n in rows}


def _desaturate(stores: Stores, patients: range) -> None:
    end = now_ms()
    t = np.arange(end - 60_000, end, 1000, dtype=np.int64)
    spo2 = np.array([97.0] * 20 + [80.0] * 20 + [97.0] * 20)
    for p in patients:
        write_series(
            stores.timeseries,
            stores.state,
            subject=patient_id(p),
            device_id=device_id(p),
            series={"spo2": (t, spo2)},
            seq_start=1,
        )


def test_a_killed_worker_is_taken_over_with_each_event_alerted_once(
    stores: Stores, tmp_path: Path, pg_url: str
) -> None:
    workers = [_worker(tmp_path, pg_url, "monitor-a"), _worker(tmp_path, pg_url, "monitor-b")]
    try:
        wait_until(
            lambda: len(_holders(stores)) == 2 and sum(_holders(stores).values()) == PARTITIONS,
            60,
            0.1,
            what="two workers splitting every partition",
        )
        _desaturate(stores, range(0, 20))
        victim = workers[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        _desaturate(stores, range(20, 40))  # while its partitions have no live owner
        wait_until(
            lambda: list(_holders(stores).values()) == [PARTITIONS],
            10,
            0.05,
            what="the survivor holding every partition within 10 s",
        )
        _desaturate(stores, range(40, PATIENTS))
        wait_until(
            lambda: (
                _count(stores, select(func.count()).select_from(Alert).where(Alert.kind == "desaturation")) >= PATIENTS
            ),
            60,
            0.1,
            what="every desaturation alerted",
        )
        wait_until(
            lambda: _count(stores, select(func.count()).select_from(text("monitor_inbox"))) == 0,
            30,
            0.1,
            what="the inbox drained",
        )
        with stores.state.session() as s:
            alerts = s.execute(
                select(Alert.subject, func.count(), func.sum(Alert.occurrences))
                .where(Alert.kind == "desaturation")
                .group_by(Alert.subject)
            ).all()
            events = s.execute(
                select(EventRow.patient_id, func.count()).where(EventRow.kind == "alert").group_by(EventRow.patient_id)
            ).all()
        expected = {patient_id(p) for p in range(PATIENTS)}
        assert {a[0] for a in alerts} == expected
        assert [a for a in alerts if (a[1], a[2]) != (1, 1)] == []
        assert {e[0]: e[1] for e in events} == dict.fromkeys(expected, 1)
        assert workers[1].poll() is None, "the survivor kept running"
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(20)
            except subprocess.TimeoutExpired:
                w.kill()


def _count(stores: Stores, query: object) -> int:
    with stores.state.session() as s:
        return int(s.execute(query).scalar_one())  # type: ignore[call-overload]
