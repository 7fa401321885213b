"""Section ``ingest``: how fast ingestion drains a QoS 1 backlog, against bare paho subscribers.

For each message size (1, 10, 100 heart-rate samples per message) and each repeat:

1. one persistent MQTT 5 session per consumer is created and left offline: a bare subscriber that
   only counts, one that only ``json.loads``, and the real ingestion on SQLite (and on InfluxDB when
   ``influxd`` is installed);
2. a publisher process publishes the backlog once at QoS 1 (the broker fans it out to every session);
3. each consumer, in a fresh process, drains its session: the clock runs from just before CONNECT
   until the last message is counted (bare) or committed and acknowledged (ingestion).

With InfluxDB, for the largest messages a second baseline: influxd's own write ceiling for the same
points, posted by a bare HTTP client (`aftercare.bench.influx_ceiling`); there that server, not the
MQTT side, is the physical limit, and the table says how close ingestion comes to it.

The best of the repeats is kept (the machine is shared: noise only ever slows a run down). The ratio
is ingestion's rate over the counting subscriber's for the same messages; the target is >= 0.70.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aftercare.bench.children import cpu_seconds, run_child
from aftercare.bench.context import BenchContext
from aftercare.bench.influx_ceiling import influx_write_ceiling
from aftercare.bench.ingest_drain import drain_ingest, prepare_stores
from aftercare.bench.mqtt_load import Drain, drain_bare, drop_session, prime_session, publish_backlog
from aftercare.bench.results import Row, SectionResult
from devices.timestamps import now_ms
from devices.topics import SUBSCRIPTIONS

TARGET_RATIO = 0.70
DEVICES = 50


@dataclass(frozen=True, slots=True)
class Plan:
    messages: int
    sizes: tuple[int, ...]
    repeats: int


def plan(quick: bool) -> Plan:
    if quick:
        return Plan(messages=6_000, sizes=(10, 100), repeats=1)
    return Plan(messages=15_000, sizes=(1, 10, 100), repeats=2)


def _consumers(ctx: BenchContext) -> list[str]:
    names = ["bare_count", "bare_json", "sqlite"]
    if ctx.influx_available():
        names.append("influxdb")
    else:
        ctx.note(f"ingest: InfluxDB not measured: {ctx.influxd_problem}")
    return names


@dataclass(frozen=True, slots=True)
class Consumer:
    kind: str  # bare_count | bare_json | sqlite | influxdb
    client_id: str
    folder: Path | None = None
    timeseries_url: str | None = None


def _prepare(ctx: BenchContext, kind: str, samples: int, repeat: int) -> Consumer:
    client_id = f"bench-{kind}-{samples}-{repeat}-{time.monotonic_ns() % 10**9}"
    consumer = Consumer(kind, client_id)
    if kind in ("sqlite", "influxdb"):
        url = None
        if kind == "influxdb":
            influxd = ctx.influxd()
            assert influxd is not None
            url = influxd.url_for(client_id.replace("-", "_"))
        folder = ctx.folder(client_id)
        prepare_stores(folder, url, DEVICES)
        consumer = Consumer(kind, client_id, folder, url)
    broker = ctx.mosquitto()
    prime_session(broker.host, broker.port, client_id, SUBSCRIPTIONS)
    return consumer


def _drain(ctx: BenchContext, consumer: Consumer, expected: int, samples: int) -> Drain:
    broker = ctx.mosquitto()
    if consumer.folder is None:
        result: Drain = run_child(
            drain_bare,
            broker.host,
            broker.port,
            consumer.client_id,
            SUBSCRIPTIONS,
            expected,
            parse_json=consumer.kind == "bare_json",
            timeout=300,
        )
        return result
    influxd = ctx.influxd() if consumer.kind == "influxdb" else None
    server_pid = influxd.proc.pid if influxd is not None and influxd.proc is not None else None
    server_cpu = cpu_seconds(server_pid)
    result = run_child(
        drain_ingest,
        broker.host,
        broker.port,
        consumer.client_id,
        consumer.folder,
        consumer.timeseries_url,
        expected,
        timeout=300,
    )
    if server_pid is not None:
        result = dataclasses.replace(result, server_cpu_seconds=cpu_seconds(server_pid) - server_cpu)
    if result.stored_messages != expected or result.points != expected * samples:
        raise AssertionError(
            f"{consumer.kind}: stored {result.stored_messages} messages / {result.points} points, "
            f"expected {expected} / {expected * samples}"
        )
    return result


def run(ctx: BenchContext) -> SectionResult:
    p = plan(ctx.quick)
    out = SectionResult("ingest")
    consumers = _consumers(ctx)
    ctx.begin("ingest", len(p.sizes) * p.repeats * (1 + len(consumers)) + (p.repeats if "influxdb" in consumers else 0))
    broker = ctx.mosquitto()
    best: dict[tuple[str, int], Drain] = {}
    ceilings: dict[int, Ceiling] = {}  # samples per message -> influxd's best
    publish_rates: list[float] = []
    for repeat in range(p.repeats):
        for samples in p.sizes:
            prepared = [_prepare(ctx, kind, samples, repeat) for kind in consumers]
            ctx.step(f"ingest: publishing {p.messages:,} messages of {samples} samples (run {repeat + 1})")
            published = run_child(
                publish_backlog,
                broker.host,
                broker.port,
                p.messages,
                DEVICES,
                samples,
                client_id=f"bench-pub-{time.monotonic_ns() % 10**9}",
                timeout=600,
            )
            publish_rates.append(published["messages"] / published["seconds"])
            for consumer in prepared:
                ctx.step(f"ingest: {consumer.kind} draining {samples}-sample messages (run {repeat + 1})")
                drained = _drain(ctx, consumer, p.messages, samples)
                key = (consumer.kind, samples)
                if key not in best or drained.msgs_per_s > best[key].msgs_per_s:
                    best[key] = drained
                drop_session(broker.host, broker.port, consumer.client_id)
            if "influxdb" in consumers and samples == max(p.sizes):
                ctx.step(f"ingest: influxd write ceiling, {samples}-sample messages (run {repeat + 1})")
                ceiling = _influx_ceiling(ctx, p.messages, samples, repeat)
                if samples not in ceilings or ceiling.points_per_s > ceilings[samples].points_per_s:
                    ceilings[samples] = ceiling
    _report(out, best, consumers, p, publish_rates, ceilings)
    ctx.end("ingest: done")
    return out


@dataclass(frozen=True, slots=True)
class Ceiling:
    points_per_s: float
    server_cpu_us_per_point: float  # influxd's own CPU per point, on its own


def _influx_ceiling(ctx: BenchContext, messages: int, samples: int, repeat: int) -> Ceiling:
    influxd = ctx.influxd()
    assert influxd is not None
    database = f"bench_ceiling_{samples}_{repeat}_{time.monotonic_ns() % 10**9}"
    influxd.create_database(database)
    pid = influxd.proc.pid if influxd.proc is not None else None
    cpu = cpu_seconds(pid)
    result = run_child(
        influx_write_ceiling, influxd.http, database, messages, DEVICES, samples, now_ms() - 86_400_000, timeout=600
    )
    return Ceiling(result["points"] / result["seconds"], (cpu_seconds(pid) - cpu) * 1e6 / result["points"])


def _report(
    out: SectionResult,
    best: dict[tuple[str, int], Drain],
    consumers: list[str],
    p: Plan,
    publish_rates: list[float],
    ceilings: dict[int, Ceiling],
) -> None:
    for samples in p.sizes:
        base = best[("bare_count", samples)].msgs_per_s
        parsed = best[("bare_json", samples)].msgs_per_s
        out.rows.append(
            Row("ingest", f"bare paho + json.loads, {samples} smp/msg", parsed, "msg/s", "bare paho count", base)
        )
        out.data[f"bare_count_{samples}"] = {
            "msgs_per_s": round(base, 1),
            "points_per_s": round(base * samples, 1),
            "baseline_msgs_per_s": round(base, 1),
            "ratio": 1.0,
            "cpu_us_per_msg": round(best[("bare_count", samples)].cpu_us_per_msg, 1),
        }
        out.data[f"bare_json_{samples}"] = {
            "msgs_per_s": round(parsed, 1),
            "points_per_s": round(parsed * samples, 1),
            "baseline_msgs_per_s": round(base, 1),
            "ratio": round(parsed / base, 3),
            "cpu_us_per_msg": round(best[("bare_json", samples)].cpu_us_per_msg, 1),
        }
        for consumer in consumers:
            if consumer.startswith("bare"):
                continue
            d = best[(consumer, samples)]
            ratio = d.msgs_per_s / base
            flag = "" if ratio >= TARGET_RATIO else f"below target {TARGET_RATIO}"
            committer_us = d.committer_cpu_seconds * 1e6 / d.messages if d.messages else 0.0
            cpu = (
                f"CPU {d.cpu_us_per_msg:.0f} µs/msg (MQTT process {d.cpu_us_per_msg - committer_us:.0f} + "
                f"committer {committer_us:.0f}) vs {best[('bare_count', samples)].cpu_us_per_msg:.0f}"
            )
            out.rows.append(
                Row(
                    "ingest",
                    f"ingestion, {consumer}, {samples} smp/msg",
                    d.msgs_per_s,
                    "msg/s",
                    "bare paho count",
                    base,
                    extra=f"{d.points_per_s:,.0f} points/s; {cpu} {flag}".strip(),
                )
            )
            entry: dict[str, Any] = {
                "msgs_per_s": round(d.msgs_per_s, 1),
                "points_per_s": round(d.points_per_s, 1),
                "baseline_msgs_per_s": round(base, 1),
                "ratio": round(ratio, 3),
                "json_baseline_msgs_per_s": round(parsed, 1),
                "ratio_to_json": round(d.msgs_per_s / parsed, 3),
                "messages": d.messages,
                "seconds": round(d.seconds, 3),
                "samples_per_message": samples,
                "backend": consumer,
                "meets_target": ratio >= TARGET_RATIO,
                "cpu_us_per_msg": round(d.cpu_us_per_msg, 1),
                "committer_cpu_us_per_msg": round(committer_us, 1),
                "baseline_cpu_us_per_msg": round(best[("bare_count", samples)].cpu_us_per_msg, 1),
            }
            ceiling = ceilings.get(samples) if consumer == "influxdb" else None
            if ceiling is not None:
                server_us = d.server_cpu_seconds * 1e6 / max(1, d.points)
                out.rows.append(
                    Row(
                        "ingest",
                        f"ingestion, influxdb, {samples} smp/msg, points",
                        d.points_per_s,
                        "points/s",
                        "influxd write ceiling (bare HTTP)",
                        ceiling.points_per_s,
                        extra=f"influxd CPU {server_us:.2f} µs/point (alone: {ceiling.server_cpu_us_per_point:.2f})",
                    )
                )
                entry["influxd_ceiling_points_per_s"] = round(ceiling.points_per_s, 1)
                entry["ratio_to_influxd_ceiling"] = round(d.points_per_s / ceiling.points_per_s, 3)
                entry["influxd_cpu_us_per_point"] = round(server_us, 3)
                entry["influxd_alone_cpu_us_per_point"] = round(ceiling.server_cpu_us_per_point, 3)
            out.data[f"{consumer}_{samples}"] = entry
    out.meta = {
        "messages": p.messages,
        "repeats": p.repeats,
        "devices": DEVICES,
        "qos": 1,
        "protocol": "MQTT 5",
        "receive_maximum": 1000,
        "target_ratio": TARGET_RATIO,
        "publisher_msgs_per_s": round(max(publish_rates), 1) if publish_rates else None,
    }
    out.notes.append(
        f"best of {p.repeats} drain(s) of a {p.messages:,}-message QoS 1 backlog per figure; "
        "ratio = ingestion / bare counting subscriber on the same messages"
    )
