"""Section ``fleet``: real-time monitoring of a fleet of wearables, end to end, in real processes.

N simulated wearables (default 2,000; ``--quick`` 500; ``--wearables`` to choose) each publish one
message every 5 s: 5 s of heart rate and SpO2 at 1 Hz and of accelerometer at 50 Hz (400 messages/s
for 2,000). During the steady load, a few of them (alternately) buffer 15 s, then send a 20 s message
holding an injected event: an SpO2 desaturation (15 s at 80 %) or a fall (impact, then lying still).
The truth is the bench's schedule, not a detector's rule.

Measured, in two topologies:
- ``up``: `aftercare up` as a subprocess (embedded broker, SQLite stores, ingestion, the monitor worker
  and the API in one process plus the ingestion committer);
- ``production``: a private Mosquitto, PostgreSQL, 2 `aftercare ingest` (shared subscription),
  2 `aftercare monitor` and `aftercare api`, each its own process (time series in InfluxDB when
  ``influxd`` is installed, else SQLite).

Figures: publish -> first alert event on ``GET /events`` per injected event (p50, p95), against the
baseline measured in the same run: publish -> a bare MQTT subscriber receiving the same message;
every injected event alerted exactly once (alerts and `alert` events counted, which have no unique key);
stored = published; the monitors' lag (age of the oldest inbox row, sampled each second); how far behind
the data each patient's day metrics are as the load ends (target: the 60 s refresh); CPU per
component per 1,000 wearables, with the simulated wearables' publisher and the whole machine (everything
running, the broker and PostgreSQL included) beside them: on 2 cores the whole machine tops out at 200 %.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlalchemy import func, select

from aftercare.bench.children import Child, cpu_seconds
from aftercare.bench.context import BenchContext
from aftercare.bench.results import Row, SectionResult
from aftercare.bench.services import free_port, port_open
from aftercare.bench.telemetry import TOPIC, device_id, patient_id, register_wearables
from store.state.engine import StateStore
from store.state.migrate import upgrade
from store.state.schema import Alert, DailyMetrics, DedupMark, EventRow
from store.state.schema_monitor import MonitorInbox

ADMIN = "bench-fleet-admin-token-0123456789abcdef"
PERIOD_S = 5.0
EVENT_S = 20  # seconds of data in an injection message
BUFFER_S = 15.0  # the injected wearable's silence before it (it buffers, then flushes)
PG_URL = os.environ.get("AFTERCARE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# -- what the wearables send ----------------------------------------------------------------------------
def _accel_values(n: int, rng: random.Random, *, lying: bool = False) -> str:
    vec = (0.98, 0.0, 0.05) if lying else (0.05, 0.0, 0.98)
    noise = 0.004 if lying else 0.03
    return json.dumps([[round(c + rng.gauss(0, noise), 3) for c in vec] for _ in range(n)], separators=(",", ":"))


def regular_payload(seq: int, t0: int, accel: str, hr: int, spo2: int) -> bytes:
    return (
        f'{{"seq":{seq},"series":[{{"metric":"heart_rate","t0":{t0},"fs":1,"values":[{hr},{hr},{hr + 1},'
        f'{hr},{hr - 1}]}},{{"metric":"spo2","t0":{t0},"fs":1,"values":[{spo2},{spo2},{spo2},{spo2},{spo2}]}},'
        f'{{"metric":"accel","t0":{t0},"fs":50,"values":{accel}}}]}}'
    ).encode()


def event_payload(kind: str, seq: int, t0: int, rng: random.Random) -> bytes:
    """``EVENT_S`` seconds holding a desaturation (SpO2 15 s at 80 %) or a fall (impact at 10 s, then lying)."""
    hr = [72] * EVENT_S
    if kind == "desaturation":
        spo2 = [97] * 3 + [80] * 15 + [96] * (EVENT_S - 18)
        accel = json.loads(_accel_values(50 * EVENT_S, rng))
    else:
        spo2 = [97] * EVENT_S
        upright = json.loads(_accel_values(500, rng))
        impact = [[1.2, 0.6, 3.4], [2.1, 0.9, 3.1], [1.6, 0.4, 2.2]]
        lying = json.loads(_accel_values(50 * EVENT_S - 503, rng, lying=True))
        accel = upright + impact + lying
    return json.dumps(
        {
            "seq": seq,
            "series": [
                {"metric": "heart_rate", "t0": t0, "fs": 1, "values": hr},
                {"metric": "spo2", "t0": t0, "fs": 1, "values": spo2},
                {"metric": "accel", "t0": t0, "fs": 50, "values": accel},
            ],
        },
        separators=(",", ":"),
    ).encode()


def publish_fleet(
    host: str, port: int, devices: range, seconds: float, injections: dict[int, tuple[float, str]], protocol: int
) -> dict[str, Any]:
    """Child process: ``devices`` wearables for ``seconds``; ``injections``: device -> (second, kind).

    Returns how many messages were sent and the wall-clock publish time of each injection."""
    rng = random.Random(devices.start)
    accel = [_accel_values(250, rng) for _ in range(8)]
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"bench-fleet-{devices.start}-{time.monotonic_ns()}",
        protocol=MQTTProtocolVersion(protocol),
    )
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.connect(host, port, 60)
    client.loop_start()
    sent = 0
    injected: dict[int, float] = {}
    seqs = dict.fromkeys(devices, 1)
    started = time.monotonic()
    # device d sends at offset (d / n) of each period, so the load is even
    n = len(devices)
    try:
        tick = 0
        while True:
            for i, d in enumerate(devices):
                at = started + tick * PERIOD_S + PERIOD_S * i / n
                if at - started >= seconds:
                    return {"sent": sent, "injected": injected}
                delay = at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                inj = injections.get(d)
                end_ms = int(time.time() * 1000)
                topic = TOPIC.format(device_id=device_id(d))
                if inj is not None and d not in injected and at - started >= inj[0]:
                    payload = event_payload(inj[1], seqs[d], end_ms - EVENT_S * 1000, rng)
                    injected[d] = time.time()
                elif inj is not None and d not in injected and at - started >= inj[0] - BUFFER_S:
                    continue  # buffering before the flush
                else:
                    payload = regular_payload(
                        seqs[d], end_ms - 5000, accel[(d + tick) % len(accel)], 70 + d % 11, 96 + d % 3
                    )
                client.publish(topic, payload, qos=1)
                seqs[d] += 1
                sent += 1
            tick += 1
    finally:
        client.loop_stop()
        client.disconnect()


# -- watching the outcome -------------------------------------------------------------------------------
@dataclass
class Watch:
    """First alert per (patient, kind) on the SSE stream, and a bare subscriber's receipt of each injection."""

    api: str
    host: str
    port: int
    protocol: int
    topics: list[str]
    first_alert: dict[tuple[str, str], float] = field(default_factory=dict)
    delivered: dict[str, list[float]] = field(default_factory=dict)
    error: str | None = None
    connected: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _client: mqtt.Client | None = None

    def start(self) -> None:
        threading.Thread(target=self._read, name="bench-fleet-sse", daemon=True).start()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"bench-fleet-watch-{time.monotonic_ns()}",
            protocol=MQTTProtocolVersion(self.protocol),
        )
        client.on_message = self._delivered
        client.connect(self.host, self.port, 60)
        for t in self.topics:
            client.subscribe(t, qos=1)
        client.loop_start()
        self._client = client

    def _delivered(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.delivered.setdefault(message.topic, []).append(time.time())

    def stop(self) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.loop_stop()
            self._client.disconnect()

    def _read(self) -> None:
        headers = {"Authorization": f"Bearer {ADMIN}", "Accept": "text/event-stream"}
        try:
            with httpx.stream(
                "GET", f"{self.api}/api/v1/events", headers=headers, timeout=httpx.Timeout(10, read=120)
            ) as answer:
                if answer.status_code != 200:
                    self.error = f"GET /events: {answer.status_code}"
                    return
                self.connected.set()
                event = ""
                for line in answer.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "alert":
                        data = json.loads(line[5:])
                        self.first_alert.setdefault((str(data.get("subject")), str(data.get("kind"))), time.time())
        except (httpx.HTTPError, ValueError) as exc:
            if not self._stop.is_set():
                self.error = f"event stream: {exc}"


# -- topologies -----------------------------------------------------------------------------------------
@dataclass
class Topology:
    name: str
    api: str
    broker: tuple[str, int]
    protocol: int
    state: StateStore
    processes: dict[str, subprocess.Popen[bytes]]
    logs: list[Path]
    broker_pid: int | None = None

    def cpu(self) -> dict[str, float]:
        """CPU seconds of each component process and its children (the ingestion committers)."""
        out = {}
        for name, proc in self.processes.items():
            out[name] = cpu_seconds(proc.pid) + sum(cpu_seconds(c) for c in _children(proc.pid))
        if self.broker_pid is not None:
            out["mosquitto"] = cpu_seconds(self.broker_pid)
        out["postgresql (all backends)"] = sum(_cpu_or_zero(pid) for pid in _pids_named("postgres"))
        out["influxd"] = sum(_cpu_or_zero(pid) for pid in _pids_named("influxd"))
        out["the bench itself (SSE reader, sampling)"] = cpu_seconds(os.getpid())
        return out

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.state.close()
        keep = os.environ.get("AFTERCARE_BENCH_KEEP_LOGS")
        if keep:  # the components' logs outlive the bench's temporary folder
            Path(keep).mkdir(parents=True, exist_ok=True)
            for log in self.logs:
                (Path(keep) / f"{self.name}-{log.name}").write_bytes(log.read_bytes())


def _cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:  # exited meanwhile
        return 0.0


def _pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (all of them: the machine's PostgreSQL serves the bench)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _spawn(name: str, args: list[str], env: dict[str, str], folder: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "aftercare.cli", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
    return proc, log


def _wait_ready(api: str, procs: dict[str, subprocess.Popen[bytes]], logs: list[Path], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}: "
                    + " ".join(p.read_text()[-600:] for p in logs if p.stem == name)
                )
        try:
            if httpx.get(f"{api}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the API at {api} did not answer within {timeout:.0f} s")


def start_up(folder: Path, wearables: int) -> Topology:
    state_url = f"sqlite:///{folder}/state.db"
    state = StateStore(state_url)
    upgrade(state.engine)
    register_wearables(state, wearables)
    mqtt_port, api_port = free_port(), free_port()
    env = {
        "AFTERCARE_DATA_DIR": str(folder),
        "AFTERCARE_EMBEDDED_MQTT_PORT": str(mqtt_port),
        "AFTERCARE_API_PORT": str(api_port),
        "AFTERCARE_ADMIN_TOKEN": ADMIN,
        "AFTERCARE_LOG_LEVEL": "WARNING",
    }
    proc, log = _spawn("up", ["up"], env, folder)
    api = f"http://127.0.0.1:{api_port}"
    topo = Topology("up", api, ("127.0.0.1", mqtt_port), mqtt.MQTTv311, state, {"up": proc}, [log])
    try:
        _wait_ready(api, topo.processes, topo.logs)
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", mqtt_port):
            if time.monotonic() > deadline:
                raise TimeoutError("the embedded broker did not open its port")
            time.sleep(0.1)
    except BaseException:
        topo.stop()
        raise
    return topo


def _fresh_database(name: str) -> str | None:
    """A new PostgreSQL database for the run, or None when PostgreSQL cannot be reached."""
    import psycopg

    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        return None
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


def start_production(ctx: BenchContext, folder: Path, wearables: int) -> Topology | str:
    state_url = _fresh_database("aftercare_bench_fleet")
    if state_url is None:
        return f"PostgreSQL not reachable at {PG_URL} (set AFTERCARE_BENCH_PG_URL)"
    influxd = ctx.influxd()
    ts_url = influxd.url_for("aftercare_bench_fleet") if influxd is not None else f"sqlite:///{folder}/ts.db"
    state = StateStore(state_url)
    upgrade(state.engine)
    register_wearables(state, wearables)
    broker = ctx.mosquitto()
    api_port = free_port()
    common = {
        "AFTERCARE_DATA_DIR": str(folder),
        "AFTERCARE_STATE_URL": state_url,
        "AFTERCARE_TIMESERIES_URL": ts_url,
        "AFTERCARE_MQTT_URL": broker.url,
        "AFTERCARE_ADMIN_TOKEN": ADMIN,
        "AFTERCARE_LOG_LEVEL": "WARNING",
        "AFTERCARE_API_PORT": str(api_port),
    }
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs: list[Path] = []
    run = f"{time.monotonic_ns()}"
    for name, args, extra in (
        ("api", ["api"], {}),
        (
            "ingest-1",
            ["ingest"],
            {"AFTERCARE_MQTT_SHARED_GROUP": "ingest", "AFTERCARE_MQTT_CLIENT_ID": f"bench-fleet-ingest-1-{run}"},
        ),
        (
            "ingest-2",
            ["ingest"],
            {"AFTERCARE_MQTT_SHARED_GROUP": "ingest", "AFTERCARE_MQTT_CLIENT_ID": f"bench-fleet-ingest-2-{run}"},
        ),
        ("monitor-1", ["monitor"], {}),
        ("monitor-2", ["monitor"], {}),
    ):
        proc, log = _spawn(name, args, {**common, **extra}, folder)
        procs[name] = proc
        logs.append(log)
    api = f"http://127.0.0.1:{api_port}"
    topo = Topology(
        "production",
        api,
        (broker.host, broker.port),
        mqtt.MQTTv5,
        state,
        procs,
        logs,
        broker_pid=broker.proc.pid if broker.proc is not None else None,
    )
    try:
        _wait_ready(api, procs, logs)
        time.sleep(3)  # the ingest members subscribe, the monitor workers split the partitions
    except BaseException:
        topo.stop()
        raise
    return topo


# -- the measurement ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    latencies_ms: list[float]
    baseline_ms: list[float]
    events: int
    alerted_once: int
    extra_alerts: int
    false_alerts: int
    published: int
    stored: int
    drain_s: float | None
    lag_p95_s: float
    lag_max_s: float
    cpu_per_k: dict[str, float]
    day_staleness_s: tuple[float, float]  # p95 and max over the wearables' patients, as the load ends


def measure(
    ctx: BenchContext, topo: Topology, wearables: int, *, warmup_s: float, seconds: float, events: int
) -> Outcome:
    rng = random.Random(7)
    chosen = rng.sample(range(wearables), events)
    kinds = ["desaturation", "fall"]
    injections = {
        d: (warmup_s + BUFFER_S + (seconds - warmup_s - BUFFER_S - 5) * i / max(1, events), kinds[i % 2])
        for i, d in enumerate(chosen)
    }
    host, port = topo.broker
    watch = Watch(topo.api, host, port, topo.protocol, [TOPIC.format(device_id=device_id(d)) for d in chosen])
    watch.start()
    if not watch.connected.wait(20):
        raise RuntimeError(watch.error or "the event stream did not open")
    publishers = max(1, math.ceil(wearables / 2500))
    share = math.ceil(wearables / publishers)
    children = [
        Child(
            publish_fleet,
            host,
            port,
            range(i * share, min(wearables, (i + 1) * share)),
            seconds,
            {d: v for d, v in injections.items() if i * share <= d < (i + 1) * share},
            topo.protocol,
        )
        for i in range(publishers)
    ]
    lags: list[float] = []
    started_wall = time.time()
    first: tuple[float, dict[str, float]] | None = None
    last: tuple[float, dict[str, float]] | None = None
    started = time.monotonic()
    while any(c.process.is_alive() for c in children):
        elapsed = time.monotonic() - started
        if elapsed >= warmup_s:
            # CPU of every component, of the simulated wearables and of the whole machine, sampled while the
            # publishers still run (their counters go with them)
            sample = {
                **topo.cpu(),
                "wearables (publisher)": sum(cpu_seconds(c.pid) for c in children if c.process.is_alive()),
                "whole machine": _machine_busy_s(),
            }
            last = (time.monotonic(), sample)
            first = first or last
            lags.append(_lag_s(topo.state))
        ctx.step(f"fleet {topo.name}: {wearables} wearables, {elapsed:.0f} of {seconds:.0f} s")
        time.sleep(1.0)
    staleness = _day_staleness_s(topo.state, wearables, started_wall)
    results = [c.result(60) for c in children]
    published = sum(r["sent"] for r in results)
    sent_at = {patient_id(d): t for r in results for d, t in r["injected"].items()}
    drain_s = _wait_stored(topo.state, published, 10.0)
    stored = _count(topo.state, select(func.count()).select_from(DedupMark))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len({p for p, _ in watch.first_alert} & sent_at.keys()) < len(sent_at):
        time.sleep(0.1)
    watch.stop()
    kind_of = {patient_id(d): k for d, (_, k) in injections.items()}
    latencies = [
        (watch.first_alert[(p, kind_of[p])] - t) * 1000
        for p, t in sent_at.items()
        if (p, kind_of[p]) in watch.first_alert
    ]
    # the injection is the first message of its wearable after it was published (it was silent before)
    baseline = [
        (min(at for at in watch.delivered.get(TOPIC.format(device_id=device_id(d)), []) if at >= t - 0.005) - t) * 1000
        for r in results
        for d, t in r["injected"].items()
        if any(at >= t - 0.005 for at in watch.delivered.get(TOPIC.format(device_id=device_id(d)), []))
    ]
    once, extra, false = _count_alerts(topo.state, kind_of)
    cpu_per_k: dict[str, float] = {}
    if first is not None and last is not None and last[0] > first[0]:
        span = last[0] - first[0]
        cpu_per_k = {
            name: 100 * (last[1][name] - first[1].get(name, 0.0)) / span * 1000 / wearables for name in last[1]
        }
    return Outcome(
        latencies,
        baseline,
        len(sent_at),
        once,
        extra,
        false,
        published,
        stored,
        drain_s,
        _p95(lags),
        max(lags, default=0.0),
        cpu_per_k,
        staleness,
    )


def _machine_busy_s() -> float:
    """CPU seconds all cores have spent not idle since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _day_staleness_s(state: StateStore, wearables: int, since: float) -> tuple[float, float]:
    """How far behind each patient's day metrics are as the load ends (since the run began, without a row)."""
    now = time.time()
    with state.session() as s:
        computed = dict(
            s.execute(
                select(DailyMetrics.patient_id, func.max(DailyMetrics.computed_ms)).group_by(DailyMetrics.patient_id)
            ).all()
        )
    ages = [now - (computed[p] / 1000 if p in computed else since) for p in map(patient_id, range(wearables))]
    return _p95(ages), max(ages, default=0.0)


def _count(state: StateStore, query: Any) -> int:
    with state.session() as s:
        return int(s.execute(query).scalar_one())


def _lag_s(state: StateStore) -> float:
    with state.session() as s:
        oldest = s.execute(select(func.min(MonitorInbox.committed_ms))).scalar_one_or_none()
    return max(0.0, time.time() - oldest / 1000) if oldest is not None else 0.0


def _wait_stored(state: StateStore, published: int, limit_s: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if _count(state, select(func.count()).select_from(DedupMark)) >= published:
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def _count_alerts(state: StateStore, kind_of: dict[str, str]) -> tuple[int, int, int]:
    """(injected events alerted exactly once, alerts or alert events beyond one, alerts of patients with none)."""
    with state.session() as s:
        alerts = s.execute(
            select(Alert.subject, Alert.kind, func.count(), func.sum(Alert.occurrences))
            .where(Alert.kind.in_(["desaturation", "fall"]))
            .group_by(Alert.subject, Alert.kind)
        ).all()
        events: dict[tuple[str, str], int] = {}
        for patient, data in s.execute(
            select(EventRow.patient_id, EventRow.data).where(
                EventRow.kind == "alert", EventRow.patient_id.in_(sorted(kind_of))
            )
        ):
            key = (str(patient), str(data.get("kind")))
            events[key] = events.get(key, 0) + 1
    once = extra = false = 0
    for subject, kind, count, occurrences in alerts:
        if kind_of.get(subject) != kind:
            false += int(count)
            continue
        if int(count) == 1 and int(occurrences) == 1 and events.get((subject, kind), 0) == 1:
            once += 1
        else:
            extra += int(count) + int(occurrences) - 2
    return once, extra, false


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


# -- the section ----------------------------------------------------------------------------------------
def run(ctx: BenchContext) -> SectionResult:
    out = SectionResult("fleet")
    wearables = ctx.wearables or (500 if ctx.quick else 2000)
    prod_wearables = ctx.wearables or (500 if ctx.quick else 5000)
    warmup, seconds = (15.0, 60.0) if ctx.quick else (25.0, 100.0)
    events = 6 if ctx.quick else 10
    ctx.begin("fleet", int(2 * seconds) + 4)
    starts: list[tuple[str, int, Callable[[Path], Topology | str]]] = [
        ("up", wearables, lambda f: start_up(f, wearables)),
        ("production", prod_wearables, lambda f: start_production(ctx, f, prod_wearables)),
    ]
    for name, count, start in starts:
        ctx.step(f"fleet {name}: starting {count} wearables' platform")
        topo = start(ctx.folder(f"fleet-{name}"))
        if isinstance(topo, str):
            ctx.note(f"fleet {name} skipped: {topo}")
            continue
        try:
            outcome = measure(ctx, topo, count, warmup_s=warmup, seconds=seconds, events=events)
        finally:
            topo.stop()
        _report(out, name, count, outcome)
    ctx.end("fleet: done")
    return out


def _report(out: SectionResult, name: str, wearables: int, o: Outcome) -> None:
    base50 = statistics.median(o.baseline_ms) if o.baseline_ms else 0.0
    base95 = _p95(o.baseline_ms)
    label = f"{name}, {wearables} wearables ({wearables / PERIOD_S:.0f} msg/s)"
    if o.latencies_ms:
        p50, p95 = statistics.median(o.latencies_ms), _p95(o.latencies_ms)
        out.rows.append(
            Row(
                "fleet",
                f"{label}: publish -> alert on /events p50",
                p50,
                "ms",
                "publish -> bare subscriber p50",
                base50,
                higher_is_better=False,
                extra=f"{len(o.latencies_ms)} of {o.events} events seen",
            )
        )
        out.rows.append(
            Row(
                "fleet",
                f"{label}: publish -> alert on /events p95",
                p95,
                "ms",
                "publish -> bare subscriber p95",
                base95,
                higher_is_better=False,
            )
        )
    out.rows.append(
        Row(
            "fleet",
            f"{label}: stored / published",
            o.stored,
            "messages",
            "published",
            o.published,
            extra=(
                f"all stored {o.drain_s:.1f} s after the end"
                if o.drain_s is not None
                else "not all stored within 10 s of the end"
            ),
        )
    )
    out.rows.append(
        Row(
            "fleet",
            f"{label}: events alerted exactly once",
            o.alerted_once,
            "events",
            "events injected",
            o.events,
            extra=f"{o.extra_alerts} duplicates, {o.false_alerts} alerts without an injected event",
        )
    )
    out.rows.append(
        Row(
            "fleet",
            f"{label}: monitor lag p95",
            o.lag_p95_s * 1000,
            "ms",
            "message period",
            PERIOD_S * 1000,
            higher_is_better=False,
            extra=f"max {o.lag_max_s * 1000:.0f} ms",
        )
    )
    out.rows.append(
        Row(
            "fleet",
            f"{label}: day metrics behind the data, p95 of patients",
            o.day_staleness_s[0] * 1000,
            "ms",
            "day refresh interval (target)",
            60_000,
            higher_is_better=False,
            extra=f"max {o.day_staleness_s[1] * 1000:.0f} ms",
        )
    )
    for component, pct in sorted(o.cpu_per_k.items()):
        out.rows.append(
            Row(
                "fleet",
                f"{label}: CPU of {component} per 1,000 wearables",
                pct,
                "% of a core",
                "one core",
                100.0,
                higher_is_better=False,
            )
        )
    out.data[name] = {
        "wearables": wearables,
        "latency_ms": sorted(round(v, 1) for v in o.latencies_ms),
        "baseline_ms": sorted(round(v, 1) for v in o.baseline_ms),
        "events": o.events,
        "alerted_once": o.alerted_once,
        "duplicates": o.extra_alerts,
        "false_alerts": o.false_alerts,
        "published": o.published,
        "stored": o.stored,
        "drain_s": o.drain_s,
        "lag_p95_s": round(o.lag_p95_s, 3),
        "lag_max_s": round(o.lag_max_s, 3),
        "day_staleness_p95_s": round(o.day_staleness_s[0], 1),
        "day_staleness_max_s": round(o.day_staleness_s[1], 1),
        "cpu_pct_per_1000": {k: round(v, 1) for k, v in o.cpu_per_k.items()},
    }
