"""Writing simulated series into a time-series store the way devices would send them (chunked)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from devices.timestamps import now_ms
from store.state.engine import StateStore
from store.state.inbox import note_batch
from store.timeseries.base import Chunk, TimeSeriesStore


def write_series(
    store: TimeSeriesStore,
    state: StateStore,
    *,
    subject: str,
    device_id: str,
    series: dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]],
    seq_start: int = 0,
    chunk: int = 5000,
) -> int:
    """Store each metric in chunks of ``chunk`` samples, each its own (device_id, seq), and write the monitors'
    inbox as ingestion does; returns the next seq."""
    seq = seq_start
    batch: list[Chunk] = []
    for metric, (t_ms, values) in series.items():
        t = np.asarray(t_ms, dtype=np.int64)
        v = np.asarray(values, dtype=np.float64)
        keep = np.isfinite(v).all(axis=1) if v.ndim > 1 else np.isfinite(v)
        t, v = t[keep], v[keep]
        for start in range(0, t.shape[0], chunk):
            batch.append(
                Chunk(
                    subject=subject,
                    device_id=device_id,
                    metric=metric,
                    seq=seq,
                    part=0,
                    t_ms=t[start : start + chunk],
                    values=v[start : start + chunk],
                )
            )
            seq += 1
            if len(batch) >= 200:
                _commit(store, state, batch)
                batch = []
    _commit(store, state, batch)
    return seq


def _commit(store: TimeSeriesStore, state: StateStore, batch: list[Chunk]) -> None:
    store.write(batch)
    with state.session() as session:
        note_batch(session, batch, [], now_ms())
