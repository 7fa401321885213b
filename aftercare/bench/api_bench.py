"""Section ``api``: latency of the data routes under concurrent load, against ``GET /healthz``.

Data: 100 patients with 30 days of heart rate each, written straight into a fresh SQLite time-series
store. 1 Hz for 30 days x 100 patients would be 259 million samples, so heart rate is stored as
per-minute samples (43,200 per patient, 4.3 million in all) in hourly chunks, as a wearable that
reports a minute average would send them; plus 2,000 alerts spread over the patients.

The API runs under uvicorn in its own process (one worker, as `aftercare api` runs it); an httpx
async client in this process keeps N requests in flight for a fixed time per route. The baseline is
``GET /healthz`` under the same load: the cost of the HTTP stack itself.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from aftercare.bench.children import Child
from aftercare.bench.context import BenchContext
from aftercare.bench.results import Row, SectionResult
from aftercare.bench.services import free_port
from aftercare.bench.telemetry import device_id, patient_id, register_wearables
from aftercare.settings import Settings
from aftercare.wiring import open_stores
from devices.timestamps import now_ms
from simulators.waiting import http_answers, wait_until
from store.timeseries.base import Chunk

PATIENTS = 100
DAYS = 30
ALERTS = 2_000
ADMIN = "bench-api-admin-token-0123456789abcdef"
HOUR_MS = 3_600_000


def fill_stores(data_dir: Path, *, end_ms: int) -> int:
    """100 patients, 30 days of per-minute heart rate ending at ``end_ms``, 2,000 alerts; returns samples."""
    from store.state.schema import Alert

    stores = open_stores(Settings(data_dir=data_dir))
    try:
        register_wearables(stores.state, PATIENTS)
        rng = np.random.default_rng(11)
        start = end_ms - end_ms % HOUR_MS - DAYS * 24 * HOUR_MS
        written = 0
        for p in range(PATIENTS):
            chunks = []
            for h in range(DAYS * 24):
                values = 65 + 10 * np.sin(np.arange(60) / 9.0 + h) + rng.normal(0, 2, 60)
                t0 = start + h * HOUR_MS
                chunks.append(
                    Chunk(
                        subject=patient_id(p),
                        device_id=device_id(p),
                        metric="heart_rate",
                        seq=h,
                        part=0,
                        t_ms=t0 + np.arange(60, dtype=np.int64) * 60_000,
                        values=values,
                        fs=1 / 60,
                    )
                )
            written += stores.timeseries.write(chunks)
        with stores.state.session() as s:
            for i in range(ALERTS):
                at = start + int(rng.integers(0, DAYS * 24 * HOUR_MS))
                p = i % PATIENTS
                s.add(
                    Alert(
                        id=f"A-bench{i:07d}",
                        kind=("hr_high", "spo2_low", "no_wear")[i % 3],
                        subject=patient_id(p),
                        subject_type="patient",
                        severity="warning",
                        state=("open", "acknowledged", "resolved")[i % 3],
                        message="bench alert",
                        value=None,
                        patient_id=patient_id(p),
                        shop_id=None,
                        job_id=None,
                        details={},
                        occurrences=1,
                        opened_ms=at,
                        updated_ms=at,
                        acked_by=None,
                        resolved_ms=None,
                        shelved_until_ms=None,
                        shelve_reason=None,
                    )
                )
        return written
    finally:
        stores.close()


def serve(data_dir: Path, port: int) -> None:
    """The API on ``port`` over the stores in ``data_dir`` (runs in a child process until killed)."""
    import uvicorn

    from api.app import create_app
    from api.context import AppContext

    stores = open_stores(Settings(data_dir=data_dir), migrate=False)
    app = create_app(AppContext(stores=stores, admin_token=ADMIN))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@dataclass(frozen=True, slots=True)
class Load:
    latencies_ms: list[float]
    errors: int
    seconds: float

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p95(self) -> float:
        if len(self.latencies_ms) < 2:
            return self.p50
        return statistics.quantiles(self.latencies_ms, n=20)[18]

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds > 0 else 0.0


async def _load(base: str, path: Callable[[], str], *, workers: int, seconds: float) -> Load:
    latencies: list[float] = []
    errors = [0]
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        await client.get(path())  # warm up
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                answer = await client.get(path())
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code == 200:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        return Load(latencies, errors[0], time.perf_counter() - started)


def load(base: str, path: Callable[[], str], *, workers: int, seconds: float) -> Load:
    return asyncio.run(_load(base, path, workers=workers, seconds=seconds))


def run(ctx: BenchContext) -> SectionResult:
    out = SectionResult("api")
    workers = 8 if ctx.quick else 16
    seconds = 2.5 if ctx.quick else 8.0
    routes: dict[str, Callable[[], str]]
    end = now_ms()
    rng = random.Random(5)
    day = f"start={end - 24 * HOUR_MS}&end={end}"
    month = f"start={end - DAYS * 24 * HOUR_MS}&end={end}&every=1h"
    routes = {
        "GET /healthz": lambda: "/healthz",
        "GET series/heart_rate, last 24 h raw (1,440 samples)": lambda: (
            f"/api/v1/patients/{patient_id(rng.randrange(PATIENTS))}/series/heart_rate?{day}"
        ),
        "GET series/heart_rate, 30 days every=1h (720 buckets)": lambda: (
            f"/api/v1/patients/{patient_id(rng.randrange(PATIENTS))}/series/heart_rate?{month}"
        ),
        "GET /api/v1/alerts (limit 100)": lambda: "/api/v1/alerts",
        "GET /api/v1/alerts?state=active&subject=...": lambda: (
            f"/api/v1/alerts?state=active&subject={patient_id(rng.randrange(PATIENTS))}"
        ),
    }
    ctx.begin("api", 1 + len(routes))
    ctx.step(f"api: writing {DAYS} days of per-minute heart rate for {PATIENTS} patients")
    folder = ctx.folder("api")
    samples = fill_stores(folder, end_ms=end)
    port = free_port()
    server = Child(serve, folder, port)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Load] = {}
    try:
        _wait_up(base, server)
        for name, path in routes.items():
            ctx.step(f"api: {name} with {workers} concurrent clients for {seconds:.0f} s")
            results[name] = load(base, path, workers=workers, seconds=seconds)
    finally:
        server.process.terminate()
        server.process.join(10)
    baseline = results.pop("GET /healthz")
    for name, measured in results.items():
        extra = f"{measured.rps:,.0f} req/s (healthz {baseline.rps:,.0f})"
        if measured.errors:
            extra += f"; {measured.errors} non-200 answers"
        out.rows.append(
            Row(
                "api",
                f"{name} p50",
                measured.p50,
                "ms",
                "GET /healthz p50",
                baseline.p50,
                higher_is_better=False,
                extra=extra,
            )
        )
        out.rows.append(
            Row("api", f"{name} p95", measured.p95, "ms", "GET /healthz p95", baseline.p95, higher_is_better=False)
        )
        out.data[name] = {
            "p50_ms": round(measured.p50, 2),
            "p95_ms": round(measured.p95, 2),
            "requests_per_s": round(measured.rps, 1),
            "requests": len(measured.latencies_ms),
            "errors": measured.errors,
            "baseline_p50_ms": round(baseline.p50, 2),
            "baseline_p95_ms": round(baseline.p95, 2),
            "baseline_requests_per_s": round(baseline.rps, 1),
            "ratio_p50": round(measured.p50 / baseline.p50, 2) if baseline.p50 else None,
            "ratio_p95": round(measured.p95 / baseline.p95, 2) if baseline.p95 else None,
        }
    out.meta = {
        "patients": PATIENTS,
        "days": DAYS,
        "samples": samples,
        "alerts": ALERTS,
        "concurrency": workers,
        "seconds_per_route": seconds,
        "server": "uvicorn, 1 process",
    }
    out.notes.append(
        f"heart rate stored per minute ({samples:,} samples), not at 1 Hz (259 M samples); "
        f"{workers} concurrent clients, {seconds:.0f} s per route"
    )
    if any(m.errors for m in results.values()) or baseline.errors:
        out.notes.append("some requests did not answer 200; see the notes column")
    ctx.end("api: done")
    return out


def _wait_up(base: str, server: Child, timeout: float = 60.0) -> None:
    healthy = http_answers(f"{base}/healthz")

    def up() -> bool:
        if not server.process.is_alive():
            server.result(5)  # raises ChildFailed with the child's traceback
            raise RuntimeError(f"the API process exited with {server.process.exitcode}")
        return healthy()

    wait_until(up, timeout, 0.1, f"the API to answer on {base}")
