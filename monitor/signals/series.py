"""The series representation shared by the signal modules and its cleaning.

A series is a pair ``(t_ms, values)``: ``t_ms`` an ``int64`` array of epoch milliseconds and
``values`` a ``float64`` array of shape ``(n,)`` or ``(n, 3)`` (accel in g, gyro in deg/s).
Every public function of :mod:`monitor.signals` first passes its input through
:func:`as_series`, so they all accept unsorted times, duplicates, NaN and empty arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

TimesMs = NDArray[np.int64]
Values = NDArray[np.float64]

_EMPTY_T: TimesMs = np.zeros(0, dtype=np.int64)


def as_series(t_ms: ArrayLike, values: ArrayLike) -> tuple[TimesMs, Values]:
    """Return a clean series: finite rows only, sorted by time, one row per time.

    Clean input is returned without copying (the result may share memory with the input; the
    signal functions never write to it).

    A row is dropped when its time or any of its values is NaN or infinite. When two rows share a
    time the first one is kept. ``values`` keeps its trailing dimension ((n,) or (n, k)).
    Raises ``ValueError`` when ``t_ms`` and ``values`` differ in length (a programming error,
    unlike empty or NaN input, which is data).
    """
    t_raw = np.asarray(t_ms)
    v = np.asarray(values, dtype=np.float64)
    if t_raw.ndim == 0:
        t_raw = t_raw.reshape(1)
    if v.ndim == 0:
        v = v.reshape(1)
    t_raw = t_raw.ravel()
    if t_raw.shape[0] != v.shape[0]:
        raise ValueError(f"series length mismatch: {t_raw.shape[0]} times, {v.shape[0]} values")
    if t_raw.shape[0] == 0:
        return _EMPTY_T.copy(), v
    keep = np.isfinite(v) if v.ndim == 1 else np.isfinite(v).all(axis=tuple(range(1, v.ndim)))
    if np.issubdtype(t_raw.dtype, np.floating):
        keep &= np.isfinite(t_raw)
    if keep.all():  # the common case: no copy
        t = t_raw.astype(np.int64, copy=False)
    else:
        t = t_raw[keep].astype(np.int64)
        v = v[keep]
    if t.shape[0] > 1:
        d = np.diff(t)
        if np.any(d < 0):
            order = np.argsort(t, kind="stable")
            t = t[order]
            v = v[order]
            d = np.diff(t)
        if np.any(d == 0):
            first = np.concatenate(([True], d > 0))
            t = t[first]
            v = v[first]
    return t, v


def contiguous_segments(t_ms: TimesMs, max_gap_ms: float) -> NDArray[np.intp]:
    """Index ranges ``[start, stop)`` of the runs of samples no more than ``max_gap_ms`` apart.

    Returns an array of shape ``(k, 2)``; ``t_ms`` must be sorted. An empty input gives ``(0, 2)``.
    """
    n = t_ms.shape[0]
    if n == 0:
        return np.zeros((0, 2), dtype=np.intp)
    breaks = np.flatnonzero(np.diff(t_ms) > max_gap_ms) + 1
    starts = np.concatenate(([0], breaks)).astype(np.intp)
    stops = np.concatenate((breaks, [n])).astype(np.intp)
    return np.stack((starts, stops), axis=1)


def nominal_period_ms(t_ms: TimesMs, default_ms: float = 1000.0) -> float:
    """The median interval between samples in ms (``default_ms`` when there are fewer than 2)."""
    if t_ms.shape[0] < 2:
        return default_ms
    return float(np.median(np.diff(t_ms)))


def sample_durations_ms(t_ms: TimesMs, *, max_gap_ms: float | None = None) -> Values:
    """How long each sample stands for, in ms: the interval to the next sample, capped.

    The cap is ``max_gap_ms`` (default 1.5 x the nominal period), so a sample before a gap stands
    for one nominal period, not for the gap; the last sample stands for one nominal period.
    """
    n = t_ms.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    period = nominal_period_ms(t_ms)
    cap = 1.5 * period if max_gap_ms is None else max_gap_ms
    d = np.diff(t_ms).astype(np.float64)
    d = np.where(d > cap, period, d)
    return np.concatenate((d, [period]))
