"""Ingestion's self-metrics, exported by the API's `/metrics` in Prometheus text format."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECEIVED = Counter("aftercare_ingest_received_total", "MQTT messages received", ["kind"])
STORED_POINTS = Counter("aftercare_ingest_stored_points_total", "telemetry samples committed")
STORED_MESSAGES = Counter("aftercare_ingest_stored_messages_total", "messages whose data was committed")
DUPLICATES = Counter("aftercare_ingest_duplicates_total", "messages dropped as repeats of (device_id, seq)")
DEAD_LETTERS = Counter("aftercare_ingest_dead_letters_total", "rejections stored as dead letters", ["reason"])
ACKED = Counter("aftercare_ingest_acked_total", "messages acknowledged to the broker after commit")
PAYLOAD_BYTES = Counter("aftercare_ingest_payload_bytes_total", "payload bytes received")
BATCH_SECONDS = Histogram(
    "aftercare_ingest_batch_commit_seconds",
    "time to decode, store and commit one batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "aftercare_ingest_batch_messages",
    "messages per committed batch",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000),
)
PENDING = Gauge("aftercare_ingest_pending_messages", "messages received but not yet acknowledged")
STORE_FAILURES = Counter("aftercare_ingest_store_failures_total", "batch commits that failed and were retried")
CONNECTED = Gauge("aftercare_ingest_connected", "1 while connected to the broker")
STORE_OK = Gauge("aftercare_ingest_store_ok", "1 while the last commit succeeded")
