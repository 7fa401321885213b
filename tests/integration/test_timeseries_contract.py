"""One contract for every `TimeSeriesStore` backend, run against SQLite and a real influxd.

Each test gets its own SQLite file or its own InfluxDB database on the session's influxd, so tests
do not see each other's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from store.timeseries import Chunk, SeriesData, StoreUnavailable, TimeSeriesStore, open_timeseries
from store.timeseries.base import downsample
from store.timeseries.influx import InfluxTimeSeriesStore
from tests.integration.conftest_services import *  # noqa: F403
from tests.integration.conftest_services import InfluxServer

pytestmark = pytest.mark.integration

T0 = 1_795_558_110_000  # 2026-11-24T10:08:30Z, a multiple of 10 s
# SQLite keeps values as float32; InfluxDB as float64. Both must give back what was written to this.
RTOL = 1e-6
ATOL = 1e-5


@dataclass
class Backend:
    """A store backend under test: how to open (and reopen) a store on the same data."""

    name: str
    url: str
    influxd: InfluxServer | None = None

    def open(self) -> TimeSeriesStore:
        return open_timeseries(self.url)


@pytest.fixture(params=["sqlite", "influxdb"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("timeseries") / "timeseries.db"
        return Backend("sqlite", f"sqlite:///{path}")
    server: InfluxServer = request.getfixturevalue("influxd")
    return Backend("influxdb", server.url(f"contract_{uuid.uuid4().hex[:12]}"), server)


@pytest.fixture
def store(backend: Backend) -> Iterator[TimeSeriesStore]:
    opened = backend.open()
    try:
        yield opened
    finally:
        opened.close()


def regular(
    subject: str,
    metric: str,
    t0: int,
    fs: float,
    values: NDArray[np.float64] | list[float],
    *,
    device_id: str = "dev-1",
    seq: int = 1,
    part: int = 0,
) -> Chunk:
    """A chunk sampled at ``fs`` Hz from ``t0``, with times as the stores reconstruct them."""
    vals = np.asarray(values, dtype=np.float64)
    t_ms = t0 + np.round(np.arange(vals.shape[0], dtype=np.float64) * (1000.0 / fs)).astype(np.int64)
    return Chunk(subject, device_id, metric, seq, part, t_ms, vals, fs)


def irregular(
    subject: str,
    metric: str,
    t_ms: list[int],
    values: list[float],
    *,
    device_id: str = "dev-1",
    seq: int = 1,
    part: int = 0,
) -> Chunk:
    return Chunk(
        subject,
        device_id,
        metric,
        seq,
        part,
        np.asarray(t_ms, dtype=np.int64),
        np.asarray(values, dtype=np.float64),
        None,
    )


def assert_series(actual: SeriesData, t_ms: NDArray[np.int64], values: NDArray[np.float64]) -> None:
    np.testing.assert_array_equal(actual.t_ms, t_ms)
    assert actual.values.shape == values.shape
    np.testing.assert_allclose(actual.values, values, rtol=RTOL, atol=ATOL)


def test_write_then_read_raw(store: TimeSeriesStore) -> None:
    hr = np.array([81, 82, 82, 83, 84, 85, 86, 88, 90, 91] * 6, dtype=np.float64)
    chunk = regular("patient-1", "heart_rate", T0, 1.0, hr)

    assert store.write([chunk]) == 60

    assert_series(store.read("patient-1", "heart_rate", T0, T0 + 60_000), chunk.t_ms, hr)
    # start inclusive, end exclusive
    part = store.read("patient-1", "heart_rate", T0 + 10_000, T0 + 20_000)
    assert_series(part, chunk.t_ms[10:20], hr[10:20])
    assert store.read("patient-2", "heart_rate", T0, T0 + 60_000).n == 0
    assert store.read("patient-1", "spo2", T0, T0 + 60_000).n == 0


def test_write_of_nothing_writes_nothing(store: TimeSeriesStore) -> None:
    assert store.write([]) == 0


def test_read_downsampled_by_every(store: TimeSeriesStore) -> None:
    values = 60.0 + np.arange(120, dtype=np.float64) % 17  # not constant within a bucket
    start = T0 + 3_000  # not on a bucket boundary
    chunk = regular("patient-1", "heart_rate", start, 1.0, values)
    store.write([chunk])

    every = 10_000
    got = store.read("patient-1", "heart_rate", start, start + 120_000, every)
    expected = downsample(SeriesData(chunk.t_ms, values), every)
    assert got.n == 13  # buckets start at multiples of `every`: a partial one at each end
    assert got.t_ms[0] == T0
    assert np.all(got.t_ms % every == 0)
    assert_series(got, expected.t_ms, expected.values)

    # a window inside the data: only its samples count
    window = store.read("patient-1", "heart_rate", T0 + 15_000, T0 + 65_000, every)
    keep = (chunk.t_ms >= T0 + 15_000) & (chunk.t_ms < T0 + 65_000)
    expected = downsample(SeriesData(chunk.t_ms[keep], values[keep]), every)
    assert_series(window, expected.t_ms, expected.values)
    np.testing.assert_allclose(window.values[0], values[keep][:5].mean(), rtol=RTOL)


def test_latest(store: TimeSeriesStore) -> None:
    assert store.latest("patient-1", "heart_rate") is None
    store.write(
        [
            regular("patient-1", "heart_rate", T0, 1.0, [70, 71, 72], seq=1),
            regular("patient-1", "heart_rate", T0 + 60_000, 1.0, [90, 91, 95], seq=2),
            regular("patient-2", "heart_rate", T0 + 120_000, 1.0, [50], seq=1, device_id="dev-2"),
        ]
    )

    latest = store.latest("patient-1", "heart_rate")

    assert latest is not None
    t, value = latest
    assert t == T0 + 62_000
    np.testing.assert_allclose(value, [95.0])
    assert store.latest("patient-1", "spo2") is None


def test_rewriting_a_chunk_does_not_double_points(store: TimeSeriesStore) -> None:
    first = regular("patient-1", "spo2", T0, 1.0, [97, 97, 96, 97, 98], seq=7)
    second = regular("patient-1", "spo2", T0 + 5_000, 1.0, [99, 98], seq=8)
    store.write([first])

    store.write([first])  # the broker redelivered the message
    store.write([first, second])  # ... and again inside a later batch

    got = store.read("patient-1", "spo2", T0, T0 + 60_000)
    assert_series(got, np.concatenate([first.t_ms, second.t_ms]), np.array([97, 97, 96, 97, 98, 99, 98.0]))
    assert store.read("patient-1", "spo2", T0, T0 + 60_000, 60_000).values[0] == pytest.approx(97.4286, rel=1e-4)


def test_three_axis_accel(store: TimeSeriesStore) -> None:
    rng = np.random.default_rng(7)
    gravity = np.array([0.0, -0.98, 0.1])
    xyz = np.round(rng.normal(0.0, 0.5, (100, 3)) + gravity, 3)
    chunk = regular("patient-1", "accel", T0, 50.0, xyz)
    store.write([chunk])

    raw = store.read("patient-1", "accel", T0, T0 + 2_000)
    assert raw.values.shape == (100, 3)
    assert_series(raw, chunk.t_ms, xyz)

    per_second = store.read("patient-1", "accel", T0, T0 + 2_000, 1_000)
    assert per_second.values.shape == (2, 3)
    assert_series(per_second, np.array([T0, T0 + 1_000]), np.stack([xyz[:50].mean(axis=0), xyz[50:].mean(axis=0)]))

    latest = store.latest("patient-1", "accel")
    assert latest is not None
    assert latest[0] == T0 + 1_980
    np.testing.assert_allclose(latest[1], xyz[-1], rtol=RTOL, atol=ATOL)


def test_irregular_series_given_by_t(store: TimeSeriesStore) -> None:
    times = [T0 + 731, T0 + 1_457, T0 + 2_190, T0 + 2_871, T0 + 3_650]
    rr = [731.0, 726.0, 733.0, 681.0, 779.0]
    # out of order on the wire: the store gives them back in time order
    order = [2, 0, 4, 1, 3]
    store.write([irregular("patient-1", "rr_interval", [times[i] for i in order], [rr[i] for i in order])])

    got = store.read("patient-1", "rr_interval", T0, T0 + 10_000)
    assert_series(got, np.array(times), np.array(rr))
    assert_series(
        store.read("patient-1", "rr_interval", T0 + 1_457, T0 + 2_871), np.array(times[1:3]), np.array(rr[1:3])
    )


def test_empty_ranges(store: TimeSeriesStore) -> None:
    store.write([regular("patient-1", "heart_rate", T0, 1.0, [70, 71, 72])])

    for every in (None, 1_000):
        before = store.read("patient-1", "heart_rate", T0 - 60_000, T0, every)
        after = store.read("patient-1", "heart_rate", T0 + 3_000, T0 + 60_000, every)
        backwards = store.read("patient-1", "heart_rate", T0 + 3_000, T0, every)
        for empty in (before, after, backwards):
            assert empty.n == 0
            assert empty.values.shape[0] == 0
    assert store.read("patient-1", "never_written", T0, T0 + 60_000).n == 0


def test_read_of_all_time(store: TimeSeriesStore) -> None:
    chunk = irregular("patient-1", "steps", [-86_400_000, 0, T0], [3.0, 5.0, 8.0])
    store.write([chunk])

    assert_series(store.read("patient-1", "steps", -(2**62), 2**62), chunk.t_ms, chunk.values)


def test_two_devices_of_one_subject_at_the_same_times(store: TimeSeriesStore) -> None:
    store.write(
        [
            regular("patient-1", "heart_rate", T0, 1.0, [70, 71, 72], device_id="wrist"),
            regular("patient-1", "heart_rate", T0, 1.0, [70, 71, 72], device_id="chest"),
        ]
    )

    got = store.read("patient-1", "heart_rate", T0, T0 + 60_000)

    assert_series(got, np.array([T0, T0 + 1_000, T0 + 2_000]), np.array([70.0, 71.0, 72.0]))


@pytest.mark.parametrize("subject", ["patient 1,a=b", 'o\'brien "junior"'])
def test_subjects_with_characters_special_to_the_store(store: TimeSeriesStore, subject: str) -> None:
    store.write([regular(subject, "heart_rate", T0, 1.0, [70, 71])])

    assert_series(
        store.read(subject, "heart_rate", T0, T0 + 10_000), np.array([T0, T0 + 1_000]), np.array([70.0, 71.0])
    )
    assert store.read("patient 1", "heart_rate", T0, T0 + 10_000).n == 0


def test_a_write_larger_than_one_request(store: TimeSeriesStore) -> None:
    n = 12_345  # more than two requests of 5,000 points for InfluxDB
    values = np.round(np.sin(np.arange(n) / 50.0) * 1000.0, 2)
    chunk = regular("patient-1", "ppg", T0, 50.0, values)

    assert store.write([chunk]) == n

    assert_series(store.read("patient-1", "ppg", T0, T0 + n * 20), chunk.t_ms, values)


def test_data_survives_reopening_the_store(backend: Backend) -> None:
    chunk = regular("patient-1", "joint_angle", T0, 10.0, np.linspace(-5.0, 95.0, 30))
    first = backend.open()
    first.write([chunk])
    first.close()

    again = backend.open()
    try:
        assert again.ping()
        assert_series(again.read("patient-1", "joint_angle", T0, T0 + 10_000), chunk.t_ms, chunk.values)
        latest = again.latest("patient-1", "joint_angle")
        assert latest is not None
        assert latest[0] == int(chunk.t_ms[-1])
    finally:
        again.close()


def test_influx_raises_store_unavailable_while_influxd_is_down(influxd: InfluxServer) -> None:
    store = InfluxTimeSeriesStore.from_url(influxd.url(f"down_{uuid.uuid4().hex[:12]}"))
    before = regular("patient-1", "heart_rate", T0, 1.0, [70, 71, 72], seq=1)
    during = regular("patient-1", "heart_rate", T0 + 3_000, 1.0, [73, 74], seq=2)
    try:
        store.write([before])
        assert store.ping()

        with influxd.stopped():
            assert not store.ping()
            with pytest.raises(StoreUnavailable) as raised:
                store.write([during])
            assert "unreachable" in raised.value.reason
            assert f"127.0.0.1:{influxd.port}" in raised.value.reason
            with pytest.raises(StoreUnavailable):
                store.read("patient-1", "heart_rate", T0, T0 + 60_000)
            with pytest.raises(StoreUnavailable):
                store.latest("patient-1", "heart_rate")

        # the same store object works again once influxd is back, and nothing was lost
        assert store.ping()
        assert store.write([during]) == 2
        got = store.read("patient-1", "heart_rate", T0, T0 + 60_000)
        assert_series(got, np.arange(5) * 1_000 + T0, np.array([70.0, 71, 72, 73, 74]))
    finally:
        store.close()


def test_influx_store_created_while_influxd_is_down_starts_working_when_it_is_up(influxd: InfluxServer) -> None:
    url = influxd.url(f"late_{uuid.uuid4().hex[:12]}")
    with influxd.stopped():
        store = InfluxTimeSeriesStore.from_url(url)  # contacts nothing yet
        with pytest.raises(StoreUnavailable):
            store.write([regular("patient-1", "heart_rate", T0, 1.0, [70])])
    try:
        assert store.write([regular("patient-1", "heart_rate", T0, 1.0, [70])]) == 1
        assert store.read("patient-1", "heart_rate", T0, T0 + 1_000).n == 1
    finally:
        store.close()


def test_influx_leaves_out_a_chunk_it_cannot_represent_and_writes_the_rest(influxd: InfluxServer) -> None:
    store = InfluxTimeSeriesStore.from_url(influxd.url(f"odd_{uuid.uuid4().hex[:12]}"))
    try:
        written = store.write(
            [
                regular("back\\slash", "heart_rate", T0, 1.0, [70, 71]),
                regular("patient-1", "heart_rate", T0, 1.0, [80, 81, 82]),
            ]
        )

        assert written == 3
        assert store.read("patient-1", "heart_rate", T0, T0 + 10_000).n == 3
    finally:
        store.close()
