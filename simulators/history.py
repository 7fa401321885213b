"""Past days of simulated telemetry, published as a device would upload its backlog.

Regular stretches (a constant sampling period) go out as ``t0`` + ``fs`` series, the compact form;
irregular ones (RR intervals) with a time per value. Batches respect the contract's limits
(10,000 values, 256 KiB).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

MAX_VALUES = 4000  # per batch: well under the contract's 10,000 values and 256 KiB even with [x, y, z] triples


def _runs(t_ms: NDArray[np.int64]) -> list[tuple[int, int]]:
    """[start, stop) index ranges over which the sampling period stays the same."""
    if t_ms.shape[0] < 3:
        return [(0, int(t_ms.shape[0]))]
    dt = np.diff(t_ms)
    breaks = np.flatnonzero(np.abs(np.diff(dt)) > 1) + 1  # a change of period after sample i+1
    bounds = [0, *(int(b) + 1 for b in breaks), int(t_ms.shape[0])]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _series(metric: str, t: NDArray[np.int64], v: NDArray[np.float64], regular: bool) -> dict[str, Any]:
    values = np.round(v, 3).tolist()
    if regular and t.shape[0] > 1:
        fs = 1000.0 / float(np.median(np.diff(t)))
        return {"metric": metric, "t0": int(t[0]), "fs": round(fs, 6), "values": values}
    return {"metric": metric, "t": t.tolist(), "values": values}


def backlog_batches(series: dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]]) -> Iterator[list[dict[str, Any]]]:
    """Lists of contract series, each list one telemetry batch."""
    batch: list[dict[str, Any]] = []
    size = 0
    for metric, (t_raw, v_raw) in series.items():
        t = np.asarray(t_raw, dtype=np.int64)
        v = np.asarray(v_raw, dtype=np.float64)
        keep = np.isfinite(v).all(axis=1) if v.ndim > 1 else np.isfinite(v)
        t, v = t[keep], v[keep]
        regular = metric != "rr_interval"
        for a, b in _runs(t) if regular else [(0, int(t.shape[0]))]:
            for start in range(a, b, MAX_VALUES):
                stop = min(b, start + MAX_VALUES)
                if size + (stop - start) > MAX_VALUES and batch:
                    yield batch
                    batch, size = [], 0
                batch.append(_series(metric, t[start:stop], v[start:stop], regular and stop - start > 1))
                size += stop - start
    if batch:
        yield batch
