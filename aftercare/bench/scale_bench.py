"""Section ``scale``: 1, 2 and 3 `aftercare ingest` processes on one MQTT 5 shared subscription.

For each process count: fresh stores (one data folder, SQLite, as `aftercare ingest` opens it), the
processes start with ``AFTERCARE_MQTT_SHARED_GROUP`` and wait connected and idle; they are paused
(SIGSTOP) while a publisher process puts the backlog into the broker, then resumed (SIGCONT) and the
clock runs until every message is in the time-series store. Pausing keeps interpreter start-up out
of the figure. The baseline is one process, measured in the same run.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from aftercare.bench.children import run_child
from aftercare.bench.context import BenchContext
from aftercare.bench.ingest_drain import prepare_stores
from aftercare.bench.mqtt_load import drop_session, publish_backlog
from aftercare.bench.results import Row, SectionResult
from simulators.waiting import wait_until

DEVICES = 60
SAMPLES = 10
GROUP = "bench"


@dataclass
class IngestProcess:
    """One `aftercare ingest` subprocess and its log file."""

    proc: subprocess.Popen[bytes]
    log: Path

    def connected(self) -> bool:
        """True once it logged its connection; raises if it exited (with the end of its log)."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            text = ""
        if self.proc.poll() is not None:
            last = [line for line in text.splitlines() if line.strip()][-1:] or ["(no output)"]
            raise RuntimeError(f"`aftercare ingest` exited with {self.proc.returncode}: {last[0][:300]}")
        return "msg=connected to" in text

    def tail(self) -> str:
        try:
            lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "(no log)"
        return " | ".join(lines[-3:])[-600:]

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self) -> None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def start_ingest_process(
    data_dir: Path,
    broker_url: str,
    client_id: str,
    *,
    shared_group: str | None,
    log: Path,
    extra_env: dict[str, str] | None = None,
) -> IngestProcess:
    """`aftercare ingest` as a subprocess (logging at INFO to ``log``)."""
    env = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(data_dir),
        "AFTERCARE_MQTT_URL": broker_url,
        "AFTERCARE_MQTT_CLIENT_ID": client_id,
        "AFTERCARE_ADMIN_TOKEN": "bench-admin-token-0123456789abcdef",
        "AFTERCARE_LOG_LEVEL": "INFO",
        **(extra_env or {}),
    }
    if shared_group:
        env["AFTERCARE_MQTT_SHARED_GROUP"] = shared_group
    with open(log, "ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aftercare.cli", "ingest"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    return IngestProcess(proc, log)


def count_chunks(db: Path) -> int:
    """Chunk rows in a SQLite time-series file (one per stored telemetry message here)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def measure(ctx: BenchContext, processes: int, messages: int) -> float:
    """Messages per second drained by ``processes`` ingest processes sharing the subscription."""
    broker = ctx.mosquitto()
    folder = ctx.folder(f"scale-{processes}")
    prepare_stores(folder, None, DEVICES)
    stamp = time.monotonic_ns() % 10**9
    # A group of its own: Mosquitto keeps handing a share of the messages to the offline persistent
    # sessions of earlier members, so reusing a group would strand messages in the last run's sessions.
    group = f"{GROUP}{processes}x{stamp}"
    ids = [f"bench-scale-{processes}-{i}-{stamp}" for i in range(processes)]
    running = [
        start_ingest_process(folder, broker.url, client_id, shared_group=group, log=folder / f"ingest-{i}.log")
        for i, client_id in enumerate(ids)
    ]
    try:
        wait_until(lambda: all(p.connected() for p in running), 60, 0.05, f"{processes} ingest process(es) connected")
        time.sleep(0.5)  # the SUBSCRIBE follows the connect
        for p in running:
            p.signal(signal.SIGSTOP)
        run_child(
            publish_backlog,
            broker.host,
            broker.port,
            messages,
            DEVICES,
            SAMPLES,
            client_id=f"bench-scale-pub-{stamp}",
            timeout=600,
        )
        db = folder / "timeseries.db"
        started = time.perf_counter()
        for p in running:
            p.signal(signal.SIGCONT)
        try:
            wait_until(lambda: count_chunks(db) >= messages, 300, 0.02, f"{messages} messages stored")
        except TimeoutError:
            tails = "; ".join(p.tail() for p in running)
            raise TimeoutError(
                f"{processes} process(es) stored {count_chunks(db)} of {messages} messages in 300 s; "
                f"their logs end: {tails}"
            ) from None
        seconds = time.perf_counter() - started
        stored = count_chunks(db)
        if stored != messages:
            raise AssertionError(f"{processes} process(es) stored {stored} messages of {messages}")
    finally:
        for p in running:
            p.stop()
        for client_id in ids:
            drop_session(broker.host, broker.port, client_id)
    return messages / seconds


def run(ctx: BenchContext) -> SectionResult:
    out = SectionResult("scale")
    messages = 8_000 if ctx.quick else 20_000
    counts = (1, 2) if ctx.quick else (1, 2, 3)
    repeats = 1 if ctx.quick else 2
    ctx.begin("scale", len(counts) * repeats)
    rates: dict[int, float] = {}
    for repeat in range(repeats):  # interleaved, best of the repeats (noise only ever slows a run down)
        for n in counts:
            ctx.step(f"scale: {n} ingest process(es) draining {messages:,} messages (run {repeat + 1})")
            rates[n] = max(rates.get(n, 0.0), measure(ctx, n, messages))
    base = rates[1]
    for n, rate in rates.items():
        out.rows.append(
            Row(
                "scale",
                f"{n} `aftercare ingest` process(es), shared subscription",
                rate,
                "msg/s",
                "1 process",
                base,
                extra=f"{rate * SAMPLES:,.0f} points/s",
            )
        )
        out.data[f"processes_{n}"] = {
            "processes": n,
            "msgs_per_s": round(rate, 1),
            "points_per_s": round(rate * SAMPLES, 1),
            "baseline_msgs_per_s": round(base, 1),
            "ratio": round(rate / base, 3),
        }
    out.meta = {
        "messages": messages,
        "samples_per_message": SAMPLES,
        "repeats": repeats,
        "cpus": len(os.sched_getaffinity(0)),
        "stores": "one data folder shared by the processes (SQLite state and time series)",
    }
    out.notes.append(
        f"{len(os.sched_getaffinity(0))} CPU(s) here: the broker and the processes share them, so "
        "more processes than cores cannot add throughput"
    )
    ctx.end("scale: done")
    return out
