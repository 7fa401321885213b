"""Runs of ``True`` in boolean masks: where a condition starts and stops holding."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def true_runs(mask: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Start indices and exclusive stop indices of the runs of ``True`` in a 1-D mask."""
    m = np.asarray(mask, dtype=bool).ravel()
    if m.shape[0] == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty.copy()
    edges = np.diff(np.concatenate(([0], m.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1).astype(np.intp)
    stops = np.flatnonzero(edges == -1).astype(np.intp)
    return starts, stops


def fill_short_false_runs(mask: ArrayLike, t_ms: NDArray[np.int64], max_ms: float) -> NDArray[np.bool_]:
    """Close interior holes: set to ``True`` the runs of ``False`` between two ``True`` runs whose
    time span (from the last ``True`` before to the first ``True`` after) is at most ``max_ms``.
    """
    m = np.asarray(mask, dtype=bool).ravel().copy()
    starts, stops = true_runs(~m)
    if starts.shape[0] == 0:
        return m
    interior = (starts > 0) & (stops < m.shape[0])
    starts, stops = starts[interior], stops[interior]
    span = t_ms[np.minimum(stops, m.shape[0] - 1)] - t_ms[np.maximum(starts - 1, 0)]
    fill = span <= max_ms
    if np.any(fill):
        marks = np.zeros(m.shape[0] + 1, dtype=np.int32)
        np.add.at(marks, starts[fill], 1)
        np.add.at(marks, stops[fill], -1)
        m |= np.cumsum(marks[:-1]) > 0
    return m
