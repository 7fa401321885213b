"""Wear time: how long a wearable delivered data, and the gaps when it did not.

A minute counts as worn when any of the given series has a sample in it; a gap is a stretch of
at least ``min_gap_min`` minutes without any sample (timed to the second), including the
stretches before the first and after the last sample when the window ``bounds_ms`` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch without data: ``[start_ms, end_ms)`` epoch ms and its length in hours."""

    start_ms: int
    end_ms: int
    hours: float


@dataclass(frozen=True, slots=True)
class Wear:
    """Worn time (hours, and whole minutes with data) and the gaps without data."""

    wear_hours: float
    worn_minutes: int
    gaps: tuple[Gap, ...]


def _finite_ints(t: ArrayLike) -> NDArray[np.int64]:
    arr = np.asarray(t).ravel()
    if np.issubdtype(arr.dtype, np.floating):
        arr = arr[np.isfinite(arr)]
    return arr.astype(np.int64)


def _unique_seconds(parts: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    """The distinct seconds of several arrays, sorted (a presence mask when the span is short)."""
    parts = [p for p in parts if p.shape[0]]
    if not parts:
        return np.zeros(0, dtype=np.int64)
    lo = min(int(p.min()) for p in parts)
    hi = max(int(p.max()) for p in parts)
    if hi - lo > 31 * 86_400:
        return np.unique(np.concatenate(parts))
    present = np.zeros(hi - lo + 1, dtype=bool)
    for p in parts:
        present[p - lo] = True
    return np.flatnonzero(present).astype(np.int64) + lo


def wear_time(
    times_ms: Sequence[ArrayLike],
    *,
    bounds_ms: tuple[int, int] | None = None,
    min_gap_min: float = 10.0,
) -> Wear:
    """Wear time and gaps from the sample times of one or more series (epoch ms)."""
    parts = [_finite_ints(t) // 1000 for t in times_ms]
    secs = _unique_seconds(parts)
    if bounds_ms is not None:
        lo_s, hi_s = bounds_ms[0] // 1000, -(-bounds_ms[1] // 1000)
        secs = secs[(secs >= lo_s) & (secs < hi_s)]
    if secs.shape[0] == 0:
        if bounds_ms is None or bounds_ms[1] <= bounds_ms[0]:
            return Wear(0.0, 0, ())
        hours = (bounds_ms[1] - bounds_ms[0]) / 3_600_000.0
        return Wear(0.0, 0, (Gap(int(bounds_ms[0]), int(bounds_ms[1]), hours),))
    worn_minutes = int(np.unique(secs // 60).shape[0])
    # a gap is measured from one second after the last sample to the next sample
    edges_start = secs[:-1] + 1
    edges_end = secs[1:]
    if bounds_ms is not None:
        edges_start = np.concatenate(([bounds_ms[0] / 1000.0], edges_start, [secs[-1] + 1]))
        edges_end = np.concatenate(([secs[0]], edges_end, [bounds_ms[1] / 1000.0]))
    length_s = edges_end - edges_start
    big = np.flatnonzero(length_s >= min_gap_min * 60.0)
    gaps = tuple(
        Gap(
            start_ms=round(float(edges_start[i]) * 1000),
            end_ms=round(float(edges_end[i]) * 1000),
            hours=float(length_s[i] / 3600.0),
        )
        for i in big
    )
    return Wear(wear_hours=worn_minutes / 60.0, worn_minutes=worn_minutes, gaps=gaps)
