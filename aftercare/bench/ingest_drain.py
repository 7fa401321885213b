"""The real ingestion taking a backlog: `IngestService` from `aftercare.wiring.build_ingest` in a child process.

Its CPU time counts both of ingestion's processes (the MQTT process and, by default, its committer).

Fresh stores in the given data folder, wearables registered, then the clock starts just before the
service connects and stops when every expected message is committed and acknowledged. The committed
counts (ingestion's own counters of stored messages and points) must equal what was published, or the
section refuses the figure.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from prometheus_client import REGISTRY

from aftercare.bench.children import cpu_seconds
from aftercare.bench.mqtt_load import Drain
from aftercare.bench.telemetry import register_wearables
from aftercare.settings import Settings
from aftercare.wiring import build_ingest, open_stores
from devices.broker_url import BrokerUrl
from ingest.committer import CommitterProcess


def ingest_settings(data_dir: Path, client_id: str, timeseries_url: str | None) -> Settings:
    return Settings(data_dir=data_dir, timeseries_url=timeseries_url, mqtt_client_id=client_id, log_level="WARNING")


def prepare_stores(data_dir: Path, timeseries_url: str | None, devices: int) -> None:
    """Create the stores (schema migrated) and register the wearables."""
    settings = ingest_settings(data_dir, "prepare", timeseries_url)
    stores = open_stores(settings)
    try:
        register_wearables(stores.state, devices)
    finally:
        stores.close()


def drain_ingest(
    host: str,
    port: int,
    client_id: str,
    data_dir: Path,
    timeseries_url: str | None,
    expected: int,
    *,
    timeout: float = 300.0,
) -> Drain:
    """Run ingestion on a primed session holding ``expected`` messages until all are committed and acked."""
    logging.basicConfig(level=logging.WARNING)
    settings = ingest_settings(data_dir, client_id, timeseries_url)
    stores = open_stores(settings, migrate=False)
    service = build_ingest(settings, stores, BrokerUrl(host, port))
    service.prepare()  # a committer process is up with its stores open, like the stores above: not timed
    committer = service.pipeline.pid if isinstance(service.pipeline, CommitterProcess) else None
    own, child = time.process_time(), cpu_seconds(committer)
    started = time.perf_counter()
    service.start()
    deadline = time.monotonic() + timeout
    try:
        while service.messages < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"ingestion committed {service.messages} of {expected} messages in {timeout:.0f} s")
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        own, child = time.process_time() - own, cpu_seconds(committer) - child
    finally:
        service.stop()
        stores.close()
    points = int(REGISTRY.get_sample_value("aftercare_ingest_stored_points_total") or 0)
    stored = int(REGISTRY.get_sample_value("aftercare_ingest_stored_messages_total") or 0)
    return Drain(
        messages=service.messages,
        seconds=seconds,
        points=points,
        stored_messages=stored,
        cpu_seconds=own + child,
        committer_cpu_seconds=child,
    )
