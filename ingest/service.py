"""Ingestion as a running component: MQTT source -> batches -> committer -> acknowledgements.

A worker thread takes messages from the source's queue until the batch holds ``batch_max_messages``
or ``batch_max_seconds`` have passed since its first message, has it committed (by the pipeline in
this process, or by a committer process: `ingest.committer`) and only then acknowledges its
messages, in the order received. When the store is unavailable the batch
is retried with backoff and nothing is acknowledged meanwhile; the broker stops sending once
``receive_maximum`` messages are unacknowledged, which bounds what ingestion holds in memory.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass

from ingest import counters
from ingest.committer import Committer
from ingest.inbound import Inbound
from ingest.mqtt_source import MqttSource, backoff_delays
from ingest.pipeline import BatchResult, record, record_failure
from store.timeseries.base import StoreUnavailable

log = logging.getLogger(__name__)


@dataclass
class IngestStatus:
    connected: bool
    store_ok: bool
    store_error: str | None
    pending: int
    batches: int
    messages: int


class IngestService:
    def __init__(
        self,
        *,
        source: MqttSource,
        pipeline: Committer,
        batch_max_messages: int = 500,
        batch_max_seconds: float = 0.05,
        stats_interval_s: float = 60.0,
    ) -> None:
        self.source = source
        self.pipeline = pipeline
        self.batch_max_messages = batch_max_messages
        self.batch_max_seconds = batch_max_seconds
        self._queue: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.store_error: str | None = None
        self.batches = 0
        self.messages = 0
        self._pending = 0
        self._retry_delay = backoff_delays(0.2, 5.0)
        self.stats_interval_s = stats_interval_s
        self._stats_at = time.monotonic()
        self.points = self.duplicates = self.dead_letters = 0
        source.set_handler(self._enqueue)

    def _enqueue(self, message: Inbound) -> None:
        self._queue.put(message)  # counted per batch by the worker: the network thread does nothing else

    def prepare(self) -> None:
        """Get the committer ready (a committer process starts and opens its stores); `start` does it too."""
        self.pipeline.start()

    def start(self) -> None:
        try:
            self.prepare()
        except StoreUnavailable as exc:  # not fatal: the first batch tries again, and /readyz says why meanwhile
            self.store_error = exc.reason
            log.error("ingestion's committer is not ready (retrying with the first batch): %s", exc.reason)
        self._worker = threading.Thread(target=self._run, name="ingest-worker", daemon=True)
        self._worker.start()
        self.source.start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        self.source.stop()
        self.pipeline.close()
        self.log_stats()

    def log_stats(self) -> None:
        """One line of what this process has committed so far (operators grep it; tests read it)."""
        log.info(
            "ingest stats: client_id=%s messages=%s batches=%s points=%s duplicates=%s dead_letters=%s",
            self.source.client_id,
            self.messages,
            self.batches,
            self.points,
            self.duplicates,
            self.dead_letters,
        )

    def status(self) -> IngestStatus:
        return IngestStatus(
            connected=self.source.connected.is_set(),
            store_ok=self.store_error is None,
            store_error=self.store_error,
            pending=self._pending + self._queue.qsize(),
            batches=self.batches,
            messages=self.messages,
        )

    def _next_batch(self) -> list[Inbound]:
        """Wait for a first message, then gather until the batch is full or its time is up.

        Whatever is queued is taken at once; between takes the worker sleeps briefly instead of waking
        for every single message (a thread hand-off per message costs as much as decoding one).
        """
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_max_seconds
        while len(batch) < self.batch_max_messages:
            try:
                while len(batch) < self.batch_max_messages:
                    batch.append(self._queue.get_nowait())
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                time.sleep(min(remaining, 0.002))
        return batch

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch()
            if not batch:
                continue
            self._pending = len(batch)
            counters.PENDING.set(self._pending + self._queue.qsize())
            self._count_received(batch)
            result = self._commit_with_retry(batch)
            if result is None:  # stopping: leave the batch unacknowledged; the broker redelivers it
                return
            acked = sum(1 for m in batch if self.source.ack(m))
            counters.ACKED.inc(acked)
            self.batches += 1
            self.messages += len(batch)
            self.points += result.points
            self.duplicates += result.duplicates
            self.dead_letters += result.dead_letters
            if time.monotonic() - self._stats_at >= self.stats_interval_s:
                self._stats_at = time.monotonic()
                self.log_stats()
            self._pending = 0
            counters.PENDING.set(self._queue.qsize())

    @staticmethod
    def _count_received(batch: list[Inbound]) -> None:
        kinds = Counter(m.topic.rsplit("/", 1)[-1][:20] for m in batch)
        for kind, n in kinds.items():
            counters.RECEIVED.labels(kind).inc(n)
        counters.PAYLOAD_BYTES.inc(sum(len(m.payload) for m in batch))

    def _commit_with_retry(self, batch: list[Inbound]) -> BatchResult | None:
        attempt = 0
        while True:
            try:
                result = self.pipeline.process(batch)
                record(result)
                if self.store_error is not None:
                    log.info("store is back after %s failed attempts", attempt)
                self.store_error = None
                return result
            except StoreUnavailable as exc:
                record_failure()
                self.store_error = exc.reason
                wait = self._retry_delay(attempt)
                log.error(
                    "cannot commit a batch of %s messages (holding their acks, retry in %.1f s): %s",
                    len(batch),
                    wait,
                    exc.reason,
                )
                attempt += 1
                if self._stop.wait(wait):
                    return None
            except Exception:
                record_failure()
                # A bug, not bad input (the decoder is total): keep the messages unacknowledged and go on.
                log.exception("unexpected failure committing a batch of %s messages", len(batch))
                self.store_error = "unexpected failure; see the log"
                if self._stop.wait(1.0):
                    return None
                attempt += 1
