"""The `TimeSeriesStore` protocol every backend implements, and the values it passes around."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray


class StoreUnavailable(RuntimeError):
    """The store cannot take or give data right now (down, disk full); the caller retries later.

    ``reason`` is a sentence for operators; nothing was committed when this is raised from ``write``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TimeSeriesConfigError(ValueError):
    """AFTERCARE_TIMESERIES_URL names no backend we have, or a backend's URL is incomplete."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One series of one message: the unit written (and deduplicated) as a whole.

    ``(device_id, seq, part)`` identifies it, so writing it again changes nothing.
    ``values`` has shape (n,) or (n, dims).
    """

    subject: str
    device_id: str
    metric: str
    seq: int
    part: int
    t_ms: NDArray[np.int64]
    values: NDArray[np.float64]
    fs: float | None = None

    @property
    def n(self) -> int:
        return int(self.t_ms.shape[0])


@dataclass(frozen=True, slots=True)
class SeriesData:
    """Samples of one subject's metric in time order; values (n,) or (n, dims)."""

    t_ms: NDArray[np.int64]
    values: NDArray[np.float64]

    @property
    def n(self) -> int:
        return int(self.t_ms.shape[0])

    @staticmethod
    def empty(dims: int = 1) -> SeriesData:
        shape: tuple[int, ...] = (0,) if dims == 1 else (0, dims)
        return SeriesData(np.empty(0, dtype=np.int64), np.empty(shape, dtype=np.float64))


@runtime_checkable
class TimeSeriesStore(Protocol):
    """Where telemetry lives. Implementations are safe to call from several threads."""

    def write(self, chunks: Sequence[Chunk]) -> int:
        """Store chunks durably and idempotently; return the number of points written.

        Returns only once the data is committed; raises StoreUnavailable when it cannot be.
        """
        ...

    def read(self, subject: str, metric: str, start_ms: int, end_ms: int, every_ms: int | None = None) -> SeriesData:
        """Samples with start_ms <= t < end_ms, raw or averaged into buckets of ``every_ms``."""
        ...

    def latest(self, subject: str, metric: str) -> tuple[int, NDArray[np.float64]] | None:
        """The newest sample (time, value) of a subject's metric, or None."""
        ...

    def ping(self) -> bool:
        """True when the store answers."""
        ...

    def close(self) -> None: ...


def downsample(data: SeriesData, every_ms: int) -> SeriesData:
    """Average samples into buckets of ``every_ms`` starting at multiples of it.

    ``data`` is in time order (as `concat_sorted` leaves it), so each bucket is a contiguous run and one
    ``np.add.reduceat`` sums them all.
    """
    if data.n == 0 or every_ms <= 0:
        return data
    buckets = data.t_ms // every_ms
    first = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1])))
    values = data.values.reshape(data.n, -1)
    sums = np.add.reduceat(values, first, axis=0)
    counts = np.diff(np.append(first, data.n))
    means = sums / counts[:, None]
    out = means[:, 0] if data.values.ndim == 1 else means
    return SeriesData((buckets[first] * every_ms).astype(np.int64), out)


def concat_sorted(parts: list[SeriesData], start_ms: int, end_ms: int, dims: int) -> SeriesData:
    """Join chunks, keep [start, end), sort by time and drop repeated timestamps."""
    if not parts:
        return SeriesData.empty(dims)
    t = np.concatenate([p.t_ms for p in parts])
    v = np.concatenate([p.values for p in parts])
    keep = (t >= start_ms) & (t < end_ms)
    t, v = t[keep], v[keep]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if t.shape[0] > 1:
        first = np.concatenate(([True], t[1:] != t[:-1]))
        t, v = t[first], v[first]
    return SeriesData(t, v)
