"""Time-series persistence behind the `TimeSeriesStore` protocol; one module per backend."""

from store.timeseries.base import Chunk, SeriesData, StoreUnavailable, TimeSeriesStore
from store.timeseries.factory import open_timeseries

__all__ = ["Chunk", "SeriesData", "StoreUnavailable", "TimeSeriesStore", "open_timeseries"]
