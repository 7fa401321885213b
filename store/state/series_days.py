"""Marks of which subject-days received telemetry, written in the same transaction as the data's other
state, so monitors recompute exactly the days that changed."""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy.orm import Session

from store.state.schema import SeriesDay
from store.state.upsert import upsert
from store.timeseries.base import Chunk

DAY_MS = 86_400_000


def utc_day(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))


def mark_series_days(session: Session, chunks: Iterable[Chunk], now_ms: int) -> None:
    # day numbers first (integer division), formatted once per distinct day
    # (a regular series' times increase: its first and last are its bounds, no numpy reduction needed)
    numbers = {(c.subject, int(t) // DAY_MS) for c in chunks if c.n
               for t in ((c.t_ms[0], c.t_ms[-1]) if c.fs is not None else (c.t_ms.min(), c.t_ms.max()))}
    rows = [{"subject": s, "day": utc_day(d * DAY_MS), "updated_ms": now_ms} for s, d in sorted(numbers)]
    upsert(session, SeriesDay.__table__, rows, ["subject", "day"])  # type: ignore[arg-type]
