"""The monitor worker on real stores (SQLite and PostgreSQL): work follows the data, not the registry.

- With 200 registered patients and new data from two, a round reads the time series of those two only,
  and a later round with nothing new reads none (the `not_worn` rule is one set-based query).
- A desaturation committed as ingestion commits it is alerted in the next round, once, and replaying the
  same rows (a redelivered batch) raises nothing more.
- On SQLite, a second worker stands by holding nothing until the first one's lock is released.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from sqlalchemy import func, select

from aftercare.bench.telemetry import device_id, patient_id, register_wearables
from aftercare.settings import Settings
from aftercare.wiring import open_stores
from devices.timestamps import now_ms
from monitor.leases import FileLease, leases_for
from monitor.rehab_monitor import RehabMonitor
from monitor.worker import MonitorWorker
from store.state.partitions import PARTITIONS
from store.state.schema import Alert, EventRow
from store.state.schema_monitor import MonitorInbox
from store.stores import Stores
from store.timeseries.base import Chunk, SeriesData, TimeSeriesStore
from tests.support.telemetry import write_series

pytestmark = pytest.mark.integration


class CountingStore:
    """The real time-series store, counting the subjects read."""

    def __init__(self, inner: TimeSeriesStore) -> None:
        self.inner = inner
        self.reads: Counter[str] = Counter()

    def write(self, chunks: Sequence[Chunk]) -> int:
        return self.inner.write(chunks)

    def read(self, subject: str, metric: str, start_ms: int, end_ms: int, every_ms: int | None = None) -> SeriesData:
        self.reads[subject] += 1
        return self.inner.read(subject, metric, start_ms, end_ms, every_ms)

    def latest(self, subject: str, metric: str) -> tuple[int, NDArray[np.float64]] | None:
        self.reads[subject] += 1
        return self.inner.latest(subject, metric)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def stores(tmp_path: Path, state_url: str) -> Iterator[Stores]:
    opened = open_stores(Settings(data_dir=tmp_path, state_url=state_url))
    register_wearables(opened.state, 200)
    yield opened
    opened.close()


def _spo2(stores: Stores, p: int, values: list[float], seq: int) -> None:
    end = now_ms()
    t = np.arange(end - len(values) * 1000, end, 1000, dtype=np.int64)
    write_series(
        stores.timeseries,
        stores.state,
        subject=patient_id(p),
        device_id=device_id(p),
        series={"spo2": (t, np.array(values))},
        seq_start=seq,
    )


def test_a_round_reads_only_the_patients_that_sent_data_and_alerts_once(stores: Stores) -> None:
    counting = CountingStore(stores.timeseries)
    monitor = RehabMonitor(Stores(counting, stores.state, stores.photos))
    worker = MonitorWorker(
        leases=leases_for(stores.state), read_session=stores.state.session, monitors=[monitor], tick_s=3600
    )
    _spo2(stores, 3, [97.0] * 30, 1)
    _spo2(stores, 7, [97.0] * 20 + [80.0] * 20 + [97.0] * 20, 1)
    worker.run_round(force_tick=True)
    assert set(counting.reads) == {patient_id(3), patient_id(7)}
    assert worker.held == frozenset(range(PARTITIONS))

    counting.reads.clear()
    worker.run_round(force_tick=True)
    assert counting.reads == Counter()  # nothing new: no patient is read

    with stores.state.session() as s:
        alerts = s.execute(select(Alert.subject, Alert.occurrences).where(Alert.kind == "desaturation")).all()
        assert s.execute(select(func.count()).select_from(MonitorInbox)).scalar_one() == 0
    assert [(a[0], a[1]) for a in alerts] == [(patient_id(7), 1)]

    # the same batch again (a redelivery that passed dedup, or a replay): no second alert, no second event
    _spo2(stores, 7, [97.0] * 20 + [80.0] * 20 + [97.0] * 20, 1)
    worker.drain()
    with stores.state.session() as s:
        assert s.execute(
            select(func.count(), func.sum(Alert.occurrences)).where(Alert.kind == "desaturation")
        ).one() == (1, 1)
        assert (
            s.execute(
                select(func.count())
                .select_from(EventRow)
                .where(EventRow.kind == "alert", EventRow.patient_id == patient_id(7))
            ).scalar_one()
            == 1
        )


def test_on_sqlite_a_second_worker_stands_by(tmp_path: Path) -> None:
    stores = open_stores(Settings(data_dir=tmp_path))
    try:
        first = leases_for(stores.state)
        second = leases_for(stores.state)
        assert isinstance(first, FileLease)
        assert first.refresh() == frozenset(range(PARTITIONS))
        assert second.refresh() == frozenset()
        first.close()
        assert second.refresh() == frozenset(range(PARTITIONS))
        second.close()
    finally:
        stores.close()


def test_one_active_alert_per_kind_and_subject_is_a_database_constraint(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    from monitor import alerts
    from monitor.alerts import AlertInput
    from store.state.schema import Alert

    def row(alert_id: str, state: str) -> Alert:
        return Alert(
            id=alert_id,
            kind="fall",
            subject="BP00001",
            subject_type="patient",
            severity="critical",
            state=state,
            message="m",
            value=None,
            patient_id="BP00001",
            shop_id=None,
            job_id=None,
            details={},
            occurrences=1,
            opened_ms=1,
            updated_ms=1,
            acked_by=None,
            resolved_ms=None,
            shelved_until_ms=None,
            shelve_reason=None,
        )

    with stores.state.session() as s:
        s.add(row("A-old", "resolved"))
        s.add(row("A-first", "open"))
    with pytest.raises(IntegrityError), stores.state.session() as s:
        s.add(row("A-second", "acknowledged"))  # written past the code's check, as a racing worker would
    # a worker that checked before the other's insert committed (its check saw nothing) loses at the insert,
    # and updates the winner's alert instead of failing
    real = alerts.active_alert
    checks = iter([None])
    monkeypatch.setattr(alerts, "active_alert", lambda s, k, subj: next(checks, None) or real(s, k, subj))
    with stores.state.session() as s:
        alert, opened = alerts.raise_alert(
            s,
            AlertInput(
                kind="fall",
                subject="BP00001",
                subject_type="patient",
                severity="critical",
                message="again",
                at_ms=2,
                patient_id="BP00001",
            ),
        )
        assert (alert.id, opened, alert.occurrences) == ("A-first", False, 2)
    with stores.state.session() as s:
        assert s.execute(select(func.count()).select_from(Alert).where(Alert.state != "resolved")).scalar_one() == 1
