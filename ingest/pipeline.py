"""One batch of messages from decoding to commit: the part of ingestion that knows no MQTT.

Order of a batch: decode all -> drop repeats -> write telemetry (idempotent) -> write photo files ->
one state transaction (marks, beacons, photo rows, status, dead letters). Only when `process`
returns may the caller acknowledge the batch's messages. If it raises StoreUnavailable nothing of
the batch is acknowledged; redelivery is safe because every write is idempotent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from devices.timestamps import now_ms
from ingest import counters
from ingest.decoder import DEAD_LETTER_PAYLOAD_BYTES, Decoded, Limits, Rejection, decode
from ingest.dedup import Deduplicator, Key
from ingest.inbound import Inbound
from store.photo_files import PhotoFiles
from store.state.device_registry import DeviceRegistry
from store.state.engine import StateStore
from store.state.inbox import note_batch
from store.state.schema import (
    DeadLetter,
    DedupMark,
    DeviceStatusRow,
    PhotoRow,
    RepairEvent,
    RepairJob,
    Shop,
)
from store.state.upsert import insert_ignore, upsert
from store.timeseries.base import StoreUnavailable, TimeSeriesStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatchResult:
    messages: int
    stored_messages: int
    points: int
    duplicates: int
    dead_letters: int
    dead_letter_codes: tuple[str, ...] = ()
    seconds: float = 0.0  # decode + commit


def record(result: BatchResult) -> None:
    """Count a committed batch in the process that serves `/metrics` (the committer may be another one)."""
    counters.STORE_OK.set(1)
    counters.BATCH_SECONDS.observe(result.seconds)
    counters.BATCH_SIZE.observe(result.messages)
    counters.STORED_POINTS.inc(result.points)
    counters.STORED_MESSAGES.inc(result.stored_messages)
    counters.DUPLICATES.inc(result.duplicates)
    for code in result.dead_letter_codes:
        counters.DEAD_LETTERS.labels(code).inc()


def record_failure() -> None:
    counters.STORE_FAILURES.inc()
    counters.STORE_OK.set(0)


def photo_id(device_id: str, seq: int) -> str:
    """Stable id of an MQTT photo, so its redelivery maps to the same row."""
    return "ph_" + hashlib.sha1(f"{device_id}:{seq}".encode(), usedforsecurity=False).hexdigest()[:20]


class IngestPipeline:
    def __init__(
        self,
        *,
        timeseries: TimeSeriesStore,
        state: StateStore,
        registry: DeviceRegistry,
        photos: PhotoFiles,
        max_future_s: float = 300.0,
        retention_days: int = 400,
        clock: Callable[[], int] = now_ms,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        self.timeseries = timeseries
        self.state = state
        self.registry = registry
        self.photos = photos
        self.max_future_ms = int(max_future_s * 1000)
        self.retention_ms = retention_days * 86_400_000
        self.clock = clock
        self.before_commit = before_commit  # may raise to roll the state transaction back (see ingest.committer)
        self.dedup = Deduplicator()
        self._job_shop: dict[str, str] = {}

    def process(self, batch: Sequence[Inbound]) -> BatchResult:
        started = time.perf_counter()
        now = self.clock()
        limits = Limits(now_ms=now, max_future_ms=self.max_future_ms, oldest_ms=now - self.retention_ms)
        decoded = [decode(m.topic, m.payload, self.registry.lookup, limits) for m in batch]
        try:
            result = self._commit(decoded, now)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"state store: {str(exc).splitlines()[0][:300]}") from exc
        except OSError as exc:  # photo files: disk full, permissions
            raise StoreUnavailable(f"photo files: {exc}") from exc
        return dataclasses.replace(result, seconds=time.perf_counter() - started)

    def start(self) -> None:
        """Ready as constructed: the stores it writes to are opened by whoever built it."""

    def close(self) -> None:
        """Nothing of its own to release: the stores belong to whoever opened them."""

    def _commit(self, decoded: list[Decoded], now: int) -> BatchResult:
        with self.state.session() as session:
            keys = [(d.device.device_id, d.seq) for d in decoded if d.device is not None and d.seq is not None]
            seen = self.dedup.seen(session, keys)
            fresh: list[Decoded] = []
            taken: set[Key] = set()
            duplicates = 0
            for d in decoded:
                if d.device is not None and d.seq is not None:
                    key = (d.device.device_id, d.seq)
                    if key in seen or key in taken:
                        duplicates += 1
                        continue
                    taken.add(key)
                fresh.append(d)
            self._authorize_jobs(session, fresh)

            chunks = [c for d in fresh for c in d.chunks]
            points = self.timeseries.write(chunks) if chunks else 0

            photo_rows = []
            for d in fresh:
                if d.photo is not None and d.photo_bytes is not None and d.device is not None:
                    digest, rel = self.photos.save(d.photo_bytes, d.photo.content_type)
                    photo_rows.append(
                        {
                            "id": photo_id(d.device.device_id, d.photo.seq),
                            "job_id": d.photo.job_id,
                            "shop_id": d.device.shop_id or "",
                            "stage": d.photo.stage,
                            "device_id": d.device.device_id,
                            "seq": d.photo.seq,
                            "taken_ms": d.photo.taken_at,
                            "content_type": d.photo.content_type,
                            "path": rel,
                            "size": len(d.photo_bytes),
                            "sha256": digest,
                            "lat": d.photo.lat,
                            "lon": d.photo.lon,
                            "checked": False,
                            "flags": [],
                            "checks": None,
                            "phash": None,
                            "phash_mirror": None,
                            "received_ms": now,
                        }
                    )
            insert_ignore(session, PhotoRow.__table__, photo_rows)  # type: ignore[arg-type]

            events = [
                {
                    "job_id": d.beacon.job_id,
                    "shop_id": d.device.shop_id or "",
                    "device_id": d.device.device_id,
                    "seq": d.beacon.seq,
                    "event": d.beacon.event,
                    "stage": d.beacon.stage,
                    "at_ms": d.beacon.at,
                    "progress": d.beacon.progress,
                    "note": d.beacon.note,
                    "reason": d.beacon.reason,
                    "received_ms": now,
                    "processed": False,
                }
                for d in fresh
                if d.beacon is not None and d.device is not None
            ]
            insert_ignore(session, RepairEvent.__table__, events)  # type: ignore[arg-type]
            self._heartbeats(session, fresh)
            # what the monitors must look at, committed with the data itself (see store.state.schema_monitor)
            note_batch(
                session,
                chunks,
                [
                    (d.beacon.job_id, d.beacon.at)
                    for d in fresh
                    if d.beacon is not None and d.beacon.event != "heartbeat" and d.beacon.job_id is not None
                ]
                + [
                    (d.photo.job_id, d.photo.taken_at)
                    for d in fresh
                    if d.photo is not None and d.photo_bytes is not None
                ],
                now,
            )

            statuses = {
                d.device.device_id: {
                    "device_id": d.device.device_id,
                    "online": d.status.online,
                    "battery": d.status.battery,
                    "firmware": d.status.firmware,
                    "at_ms": d.status.at,
                    "updated_ms": now,
                }
                for d in fresh
                if d.status is not None and d.device is not None
            }
            upsert(session, DeviceStatusRow.__table__, list(statuses.values()), ["device_id"])  # type: ignore[arg-type]

            dead = [self._dead_letter(d, r, now) for d in fresh for r in d.rejections]
            if dead:
                session.connection().execute(insert(DeadLetter.__table__), dead)  # type: ignore[arg-type]

            keys_done: list[Key] = [
                (d.device.device_id, d.seq) for d in fresh if d.device is not None and d.seq is not None
            ]
            marks = [{"device_id": k[0], "seq": k[1], "received_ms": now} for k in keys_done]
            insert_ignore(session, DedupMark.__table__, marks)  # type: ignore[arg-type]
            if self.before_commit is not None:
                self.before_commit()
            session.commit()
        self.dedup.remember(keys_done)
        stored = sum(1 for d in fresh if d.has_data)
        if dead:
            log.info("dead letters: %s", "; ".join(f"{r['topic'][:80]}: {r['reason'][:160]}" for r in dead[:5]))
        return BatchResult(
            len(decoded), stored, points, duplicates, len(dead), tuple(row["reason_code"] for row in dead)
        )

    def _authorize_jobs(self, session: Session, fresh: list[Decoded]) -> None:
        """A gateway may only report on its own shop's jobs; anything else becomes a rejection."""
        for d in fresh:
            job_id = (d.beacon.job_id if d.beacon is not None else None) or (
                d.photo.job_id if d.photo is not None else None
            )
            if job_id is None or d.device is None:
                continue
            shop = self._job_shop.get(job_id)
            if shop is None:
                job = session.get(RepairJob, job_id)
                if job is not None:
                    shop = self._job_shop[job_id] = job.shop_id
            if shop is None:
                reason = Rejection("unknown_job", f"job {job_id!r} is not registered")
            elif shop != d.device.shop_id:
                reason = Rejection(
                    "wrong_shop",
                    f"job {job_id!r} belongs to shop {shop!r}, not to "
                    f"{d.device.shop_id!r} of device {d.device.device_id!r}",
                )
            else:
                continue
            d.beacon = None
            d.photo = None
            d.photo_bytes = None
            d.rejections.append(reason)

    @staticmethod
    def _heartbeats(session: Session, fresh: list[Decoded]) -> None:
        latest: dict[str, int] = {}
        for d in fresh:
            if d.beacon is not None and d.device is not None and d.device.shop_id:
                latest[d.device.shop_id] = max(latest.get(d.device.shop_id, 0), d.beacon.at)
        for shop_id, at in latest.items():
            session.execute(
                update(Shop)
                .where(Shop.id == shop_id)
                .where((Shop.last_heartbeat_ms.is_(None)) | (Shop.last_heartbeat_ms < at))
                .values(last_heartbeat_ms=at)
            )

    @staticmethod
    def _dead_letter(d: Decoded, r: Rejection, now: int) -> dict[str, Any]:
        device_id = d.device.device_id if d.device is not None else None
        if device_id is None:
            parts = d.topic.split("/")
            device_id = parts[3][:64] if len(parts) == 5 else None
        return {
            "received_ms": now,
            "topic": d.topic[:1000],
            "device_id": device_id,
            "seq": d.seq,
            "reason": r.reason[:2000],
            "reason_code": r.code,
            "payload": d.payload[:DEAD_LETTER_PAYLOAD_BYTES],
            "payload_size": len(d.payload),
        }
