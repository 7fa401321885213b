"""Open the time-series backend a URL names: ``sqlite:///path`` or ``influxdb://`` / ``influxdb2://``."""

from __future__ import annotations

from store.timeseries.base import TimeSeriesConfigError, TimeSeriesStore
from store.timeseries.sqlite import SQLiteTimeSeriesStore


def open_timeseries(url: str, *, token: str | None = None, org: str | None = None) -> TimeSeriesStore:
    if url.startswith("sqlite:///"):
        return SQLiteTimeSeriesStore(url.removeprefix("sqlite:///") or ":memory:")
    if url.startswith(("influxdb://", "influxdb2://", "influxdbs://", "influxdb2s://")):
        from store.timeseries.influx import InfluxTimeSeriesStore

        return InfluxTimeSeriesStore.from_url(url, token=token, org=org)
    raise TimeSeriesConfigError(
        f"AFTERCARE_TIMESERIES_URL={url!r}: expected sqlite:///path, influxdb://host:port/db or "
        "influxdb2://host:port/bucket"
    )
