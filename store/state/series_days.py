"""Marks of which subject-days received telemetry, written in the same transaction as the data's other
state, so monitors recompute exactly the days that changed."""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy.orm import Session

from store.state.schema import SeriesDay
from store.state.upsert import upsert
from store.timeseries.base import Chunk


def utc_day(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))


def mark_series_days(session: Session, chunks: Iterable[Chunk], now_ms: int) -> None:
    days = {(c.subject, utc_day(int(t))) for c in chunks if c.n for t in (c.t_ms.min(), c.t_ms.max())}
    upsert(session, SeriesDay.__table__, [{"subject": s, "day": d, "updated_ms": now_ms}  # type: ignore[arg-type]
                                          for s, d in sorted(days)], ["subject", "day"])
