"""The write ceiling of the private influxd: the same points posted by a bare HTTP client.

Above a few samples per message, ingestion on InfluxDB is bound by what influxd itself takes on this
machine, not by the MQTT side. This measures that limit in the same run: the line protocol ingestion
would write for the backlog (same measurement, tags, field and times), built before the clock starts,
posted to ``/write`` in requests of `POINTS_PER_REQUEST` points, `PARALLEL_REQUESTS` at a time over
keep-alive connections (ingestion's own request size and concurrency).
No validation, no state store, no acknowledgements: only influxd's work.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from aftercare.bench.telemetry import device_id, patient_id
from store.timeseries.influx import PARALLEL_REQUESTS, POINTS_PER_REQUEST


def influx_write_ceiling(
    http: str, database: str, messages: int, devices: int, samples: int, start_ms: int
) -> dict[str, float]:
    """Post ``messages * samples`` heart-rate points to ``database``; return points and seconds."""
    lines: list[str] = []
    for i in range(messages):
        dev, seq = i % devices, i // devices
        prefix = f"heart_rate,device_id={device_id(dev)},subject={patient_id(dev)} v="
        t0 = start_ms + seq * samples * 1000
        lines.extend(f"{prefix}{float(60 + (seq + k) % 60)!r} {t0 + k * 1000}" for k in range(samples))
    bodies = ["\n".join(lines[i : i + POINTS_PER_REQUEST]).encode() for i in range(0, len(lines), POINTS_PER_REQUEST)]
    with httpx.Client(base_url=http, timeout=120) as client, ThreadPoolExecutor(PARALLEL_REQUESTS) as pool:

        def post(body: bytes) -> None:
            answer = client.post("/write", params={"db": database, "precision": "ms"}, content=body)
            if answer.status_code >= 300:
                raise RuntimeError(f"influxd refused a write: {answer.status_code} {answer.text[:200]}")

        started = time.perf_counter()
        for future in [pool.submit(post, body) for body in bodies]:
            future.result()
        seconds = time.perf_counter() - started
    return {"points": float(len(lines)), "seconds": seconds}
