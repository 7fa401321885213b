"""Section ``alerts``: latency from publishing telemetry to the alert being visible on ``GET /events``.

Everything `aftercare up` runs, in this process: ingestion (against a private Mosquitto), the
monitors (`aftercare.wiring.build_monitor_worker`) and the API under
uvicorn, with an SSE client reading the live stream as an admin. A publisher process keeps 200
simulated wearables sending one heart-rate sample per second each (200 messages/s, steady). Every
couple of seconds one more patient's wearable sends a trigger message: two minutes of heart rate far
above any plan's cap and an SpO2 desaturation, which the rehab safety rules turn into an alert. The
latency of a trigger is from just before its publish to the arrival of the first alert event for that
patient on the stream. The baseline is the monitor interval (`AFTERCARE_MONITOR_INTERVAL_S`): an alert
driven by a timed pass over every patient (the design before the monitor inbox) could not be faster than
about half an interval on average; the safety rules now run as the data is committed.

When the monitors are not wired yet (no monitors built, or no ``/events`` route), the section is
skipped with "not available yet".
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from aftercare.bench.children import Child
from aftercare.bench.context import BenchContext
from aftercare.bench.results import Row, SectionResult
from aftercare.bench.services import free_port
from aftercare.bench.telemetry import TOPIC, device_id, patient_id, register_wearables
from aftercare.settings import Settings
from devices.timestamps import now_ms

WEARABLES = 200
ADMIN = "bench-alerts-admin-token-0123456789abcdef"


def steady_wearables(host: str, port: int, devices: int, seconds: float, *, first_seq: int = 1) -> int:
    """``devices`` wearables each publishing one heart-rate sample a second at QoS 1 (child process)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"bench-steady-{time.monotonic_ns()}", protocol=mqtt.MQTTv311
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(host, port, 30)
    client.loop_start()
    sent = 0
    try:
        started = time.monotonic()
        tick = 0
        while time.monotonic() - started < seconds:
            at = now_ms() - 500
            for d in range(devices):
                doc = {
                    "seq": first_seq + tick,
                    "series": [{"metric": "heart_rate", "t0": at, "fs": 1.0, "values": [68 + (d + tick) % 9]}],
                }
                client.publish(TOPIC.format(device_id=device_id(d)), json.dumps(doc), qos=1)
                sent += 1
            tick += 1
            time.sleep(max(0.0, started + tick - time.monotonic()))
    finally:
        client.disconnect()
        client.loop_stop()
    return sent


def trigger_payload(seq: int, end_ms: int) -> bytes:
    """Two minutes of heart rate at 205 bpm and SpO2 dropping to 82 %, ending at ``end_ms``."""
    start = end_ms - 120_000
    spo2 = [97.0] * 20 + [82.0] * 80 + [97.0] * 20
    return json.dumps(
        {
            "seq": seq,
            "series": [
                {"metric": "heart_rate", "t0": start, "fs": 1.0, "values": [205] * 120},
                {"metric": "spo2", "t0": start, "fs": 1.0, "values": spo2},
            ],
        }
    ).encode()


@dataclass
class EventWatch:
    """Reads the SSE stream in a thread and records when the first alert per patient arrived."""

    url: str
    first_alert: dict[str, float] = field(default_factory=dict)
    events: int = 0
    error: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    connected: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._read, name="bench-sse", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _read(self) -> None:
        headers = {"Authorization": f"Bearer {ADMIN}", "Accept": "text/event-stream"}
        try:
            with httpx.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(10, read=60)) as answer:
                if answer.status_code != 200:
                    self.error = f"GET {self.url}: {answer.status_code}"
                    return
                self.connected.set()
                event = ""
                for line in answer.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event.startswith("alert"):
                        self.events += 1
                        self._record(json.loads(line[5:]))
        except (httpx.HTTPError, ValueError) as exc:
            if not self._stop.is_set():
                self.error = f"event stream: {exc}"

    def _record(self, data: dict[str, Any]) -> None:
        who = data.get("patient_id") or data.get("subject")
        if isinstance(who, str) and who not in self.first_alert:
            self.first_alert[who] = time.monotonic()


def availability(settings: Settings, data_dir: Path) -> str | None:
    """Why the section cannot run yet, or None."""
    try:
        from aftercare.wiring import build_monitor_worker, open_stores
        from api.app import create_app
        from api.context import AppContext
    except ImportError as exc:
        return f"not available yet: {exc}"
    stores = open_stores(settings)
    try:
        if not build_monitor_worker(settings, stores).monitors:
            return "not available yet: aftercare.wiring.build_monitor_worker() builds no monitors"
        app = create_app(AppContext(stores=stores, admin_token=ADMIN))
        if _events_path(app) is None:
            return "not available yet: the API has no /events route"
    except Exception as exc:  # a component being written
        return f"not available yet: {type(exc).__name__}: {str(exc)[:200]}"
    finally:
        stores.close()
    return None


def _events_path(app: Any) -> str | None:
    """The live stream's path from the app's OpenAPI document (``/api/v1/events``), or None."""
    paths = [p for p in app.openapi().get("paths", {}) if p.endswith("/events") and "{" not in p]
    return min(paths, key=len) if paths else None


def run(ctx: BenchContext) -> SectionResult:
    out = SectionResult("alerts")
    folder = ctx.folder("alerts")
    broker = ctx.mosquitto()
    settings = Settings(
        data_dir=folder,
        mqtt_url=broker.url,
        mqtt_client_id=f"bench-alerts-{time.monotonic_ns()}",
        admin_token=ADMIN,
        log_level="WARNING",
        api_port=free_port(),
        monitor_interval_s=ctx.settings.monitor_interval_s,
    )
    why = availability(settings, folder)
    if why is not None:
        out.skipped = why
        return out
    triggers = 6 if ctx.quick else 20
    ctx.begin("alerts", triggers + 2)
    ctx.step(f"alerts: starting ingestion, monitors and the API; {WEARABLES} steady wearables")
    latencies = _measure(ctx, settings, triggers)
    interval_ms = settings.monitor_interval_s * 1000
    if not latencies:
        out.error = "no alert reached the event stream (do the rehab rules fire on the injected signal?)"
        return out
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) > 1 else p50
    out.rows.append(
        Row(
            "alerts",
            f"publish -> alert on /events p50 ({WEARABLES} wearables at 1 msg/s)",
            p50,
            "ms",
            "monitor interval",
            interval_ms,
            higher_is_better=False,
            extra=f"{len(latencies)} of {triggers} triggers seen",
        )
    )
    out.rows.append(
        Row(
            "alerts",
            "publish -> alert on /events p95",
            p95,
            "ms",
            "monitor interval",
            interval_ms,
            higher_is_better=False,
        )
    )
    out.data["latency"] = {
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "baseline_interval_ms": interval_ms,
        "ratio_p50": round(p50 / interval_ms, 3),
        "ratio_p95": round(p95 / interval_ms, 3),
        "triggers": triggers,
        "seen": len(latencies),
        "wearables": WEARABLES,
    }
    ctx.end("alerts: done")
    return out


def _measure(ctx: BenchContext, settings: Settings, triggers: int) -> list[float]:
    import uvicorn

    from aftercare.runtime import make_app_context, open_platform, start_ingest, start_monitors
    from api.app import create_app
    from devices.broker_url import BrokerUrl

    broker = ctx.mosquitto()
    platform = open_platform(settings)
    register_wearables(platform.stores.state, WEARABLES + triggers)
    platform.broker_url = BrokerUrl(broker.host, broker.port)
    start_ingest(platform, mqtt.MQTTv5)
    start_monitors(platform)
    app = create_app(make_app_context(platform))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.api_port, log_level="warning", access_log=False)
    )
    api_thread = threading.Thread(target=server.run, name="bench-api", daemon=True)
    api_thread.start()
    path = _events_path(app)
    assert path is not None
    watch = EventWatch(f"http://127.0.0.1:{settings.api_port}{path}")
    spacing = 1.5 if ctx.quick else 2.0
    duration = 30.0 + triggers * spacing + 3 * settings.monitor_interval_s
    steady: Child | None = None
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-trigger-{time.monotonic_ns()}")
    sent: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("the API did not start")
            time.sleep(0.05)
        watch.start()
        if not watch.connected.wait(15):
            raise RuntimeError(watch.error or "the event stream did not open")
        steady = Child(steady_wearables, broker.host, broker.port, WEARABLES, duration)
        publisher.connect(broker.host, broker.port, 30)
        publisher.loop_start()
        time.sleep(3.0 if ctx.quick else 5.0)  # the steady load settles
        for i in range(triggers):
            dev = WEARABLES + i
            ctx.step(f"alerts: trigger {i + 1} of {triggers}")
            sent[patient_id(dev)] = time.monotonic()
            publisher.publish(TOPIC.format(device_id=device_id(dev)), trigger_payload(1, now_ms() - 1000), qos=1)
            time.sleep(spacing)
        wait_until = time.monotonic() + 3 * settings.monitor_interval_s + 10
        while time.monotonic() < wait_until and len(watch.first_alert.keys() & sent.keys()) < len(sent):
            time.sleep(0.1)
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        watch.stop()
        server.should_exit = True
        api_thread.join(10)
        if steady is not None:  # it would go on for ``duration``; the measurement is over
            steady.process.kill()
            steady.process.join(5)
        platform.stop()
    return [(watch.first_alert[p] - t) * 1000 for p, t in sent.items() if p in watch.first_alert]
