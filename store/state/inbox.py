"""The monitor inbox (see `store.state.schema_monitor`): written by ingestion in each batch's transaction,
claimed and deleted by the monitor worker that holds the subject's partition."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.state.partitions import partition_of
from store.state.schema_monitor import MonitorInbox, SubjectActivity
from store.timeseries.base import Chunk

#: metrics whose samples show a wearable is on the wrist (the `not_worn` rule reads their newest time)
PRESENCE_METRICS = frozenset({"heart_rate", "spo2", "accel", "rr_interval", "ppg"})


@dataclass(frozen=True, slots=True)
class Arrival:
    """What one claimed inbox row says arrived for a subject."""

    id: int
    subject_type: str
    subject: str
    first_ms: int
    last_ms: int
    metrics: tuple[str, ...]
    committed_ms: int


def note_batch(session: Session, chunks: Sequence[Chunk], jobs: Iterable[tuple[str, int]], now_ms: int) -> None:
    """Inbox rows (one per subject) and newest activity for what a batch brought, in the batch's transaction.

    ``jobs``: (job id, event time) of every beacon and photo of the batch."""
    spans: dict[tuple[str, str], list[int]] = {}
    metrics: dict[tuple[str, str], set[str]] = {}
    presence: dict[str, int] = {}
    for c in chunks:
        if not c.n:
            continue
        lo, hi = (int(c.t_ms[0]), int(c.t_ms[-1])) if c.fs is not None else (int(c.t_ms.min()), int(c.t_ms.max()))
        key = ("patient", c.subject)
        span = spans.setdefault(key, [lo, hi])
        span[0], span[1] = min(span[0], lo), max(span[1], hi)
        metrics.setdefault(key, set()).add(c.metric)
        if c.metric in PRESENCE_METRICS:
            presence[c.subject] = max(presence.get(c.subject, hi), hi)
    for job_id, at in jobs:
        key = ("job", job_id)
        span = spans.setdefault(key, [at, at])
        span[0], span[1] = min(span[0], at), max(span[1], at)
        metrics.setdefault(key, set())
    if spans:
        session.connection().execute(
            insert(MonitorInbox),
            [
                {
                    "partition": partition_of(subject),
                    "subject_type": kind,
                    "subject": subject,
                    "first_ms": lo,
                    "last_ms": hi,
                    "metrics": sorted(metrics[(kind, subject)]),
                    "committed_ms": now_ms,
                }
                for (kind, subject), (lo, hi) in sorted(spans.items())
            ],
        )
    if presence:
        _note_activity(session, presence, now_ms)


def _note_activity(session: Session, newest: dict[str, int], now_ms: int) -> None:
    table = SubjectActivity.__table__
    ins = (
        postgresql.insert(SubjectActivity)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(SubjectActivity)
    )
    keep_newest = case((ins.excluded.last_ms > table.c.last_ms, ins.excluded.last_ms), else_=table.c.last_ms)
    stmt = ins.on_conflict_do_update(
        index_elements=["subject"], set_={"last_ms": keep_newest, "updated_ms": ins.excluded.updated_ms}
    )
    # sorted: two committers upserting the same subjects lock them in one order, so they never deadlock
    session.connection().execute(
        stmt,
        [
            {"subject": s, "partition": partition_of(s), "last_ms": t, "updated_ms": now_ms}
            for s, t in sorted(newest.items())
        ],
    )


def claim(
    session: Session, partitions: Collection[int], limit: int = 2000, *, subject_type: str | None = None
) -> list[Arrival]:
    """The oldest inbox rows of these partitions (the caller holds their leases, so nobody else takes them)."""
    if not partitions:
        return []
    query = select(MonitorInbox).where(MonitorInbox.partition.in_(sorted(partitions)))
    if subject_type is not None:
        query = query.where(MonitorInbox.subject_type == subject_type)
    rows = session.execute(query.order_by(MonitorInbox.id).limit(limit)).scalars()
    return [
        Arrival(r.id, r.subject_type, r.subject, r.first_ms, r.last_ms, tuple(r.metrics or ()), r.committed_ms)
        for r in rows
    ]


def done(session: Session, arrivals: Iterable[Arrival]) -> None:
    """Delete handled rows, in the transaction that applied their rules."""
    ids = [a.id for a in arrivals]
    for i in range(0, len(ids), 1000):
        session.execute(delete(MonitorInbox).where(MonitorInbox.id.in_(ids[i : i + 1000])))


def backlog(session: Session, partitions: Collection[int]) -> tuple[int, int | None]:
    """How many rows wait in these partitions, and when the oldest was committed."""
    if not partitions:
        return 0, None
    count, oldest = session.execute(
        select(func.count(), func.min(MonitorInbox.committed_ms)).where(MonitorInbox.partition.in_(sorted(partitions)))
    ).one()
    return int(count), (int(oldest) if oldest is not None else None)


def last_seen(session: Session, partitions: Collection[int], *, before_ms: int | None = None) -> dict[str, int]:
    """Newest presence time of each subject in these partitions (only those older than ``before_ms``)."""
    query = select(SubjectActivity.subject, SubjectActivity.last_ms).where(
        SubjectActivity.partition.in_(sorted(partitions))
    )
    if before_ms is not None:
        query = query.where(SubjectActivity.last_ms < before_ms)
    return {s: int(t) for s, t in session.execute(query)}
