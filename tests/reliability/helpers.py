"""What the fault tests share: payloads, `aftercare ingest` as a subprocess, and comparing what was stored with
what was sent.

A chunk row is keyed by ``(device_id, seq, part)`` and written with ``INSERT OR IGNORE``, so counting chunk
rows can never show a duplicate. Every fault test therefore ends on what could really be lost, repeated or
altered, once a sentinel (the last message sent) is stored:

- the exact set of ``(device_id, seq)`` stored, with each message's values, equals what was sent
  (`stored_series` against `Sent`);
- dead letters, which have no key of their own (an autoincrement id): one per bad message sent, no more
  (`dead_letters`);
- ingestion's own counters (`/metrics`, `IngestCounts`, in process; the ``ingest stats`` line an
  `aftercare ingest` process logs when it stops, `LoggedStats`): every message received is stored, counted
  as a duplicate or dead-lettered, and messages stored equals messages sent.

`stored` (chunk rows) remains only to wait for progress mid-stream, never as the final proof.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from aftercare.runtime import Platform, start_ingest
from aftercare.settings import Settings
from api.app import create_app
from api.context import AppContext
from devices.broker_url import BrokerUrl
from ingest.service import IngestService
from simulators.waiting import wait_until
from store.state.engine import StateStore
from store.state.schema import DeadLetter, DedupMark
from store.stores import Stores

ADMIN = "reliability-admin-token-0123456789abcdef"


def hr(seq: int, t0: int, values: list[float]) -> dict[str, object]:
    """A telemetry batch with one heart-rate series at 1 Hz."""
    return {"seq": seq, "series": [{"metric": "heart_rate", "t0": t0, "fs": 1.0, "values": values}]}


def telemetry_topic(device_id: str) -> str:
    return f"aftercare/v1/wearables/{device_id}/telemetry"


Key = tuple[str, int]


@dataclass
class Sent:
    """What a test sent: each good message's heart-rate values by ``(device_id, seq)``, and the bad messages.

    ``bad`` holds one entry per bad message: its ``(device_id, seq)`` when it has one (``(None, None)``
    otherwise) and the dead letter's reason code; each must give exactly one dead letter.
    """

    good: dict[Key, list[float]] = field(default_factory=dict)
    bad: list[tuple[str | None, int | None, str]] = field(default_factory=list)

    def hr(self, device_id: str, seq: int, t0: int, values: list[float]) -> tuple[str, dict[str, object]]:
        """A good heart-rate message, remembered as sent."""
        assert (device_id, seq) not in self.good, f"{device_id}:{seq} sent twice by the test itself"
        self.good[(device_id, seq)] = [float(v) for v in values]
        return telemetry_topic(device_id), hr(seq, t0, values)

    def out_of_range(self, device_id: str, seq: int, t0: int) -> tuple[str, dict[str, object]]:
        """A bad message that has a key: a heart rate of 412, dead-lettered as ``out_of_range``."""
        self.bad.append((device_id, seq, "out_of_range"))
        return telemetry_topic(device_id), hr(seq, t0, [412])

    def not_json(self, device_id: str, n: int) -> tuple[str, bytes]:
        """A bad message with no key at all (the payload is not JSON): dead-lettered as ``bad_json``."""
        self.bad.append((device_id, None, "bad_json"))
        return telemetry_topic(device_id), b"{not json " + str(n).encode()

    @property
    def bad_codes(self) -> Counter[str]:
        return Counter(code for _d, _s, code in self.bad)


def stored_series(db: Path) -> dict[Key, list[float]]:
    """Every ``(device_id, seq)`` in the SQLite time-series file with its values, as stored (float32)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT device_id, seq, vals FROM chunks ORDER BY device_id, seq, part").fetchall()
    finally:
        conn.close()
    found: dict[Key, list[float]] = {}
    for device_id, seq, vals in rows:
        found.setdefault((str(device_id), int(seq)), []).extend(float(v) for v in np.frombuffer(vals, dtype="<f4"))
    return found


def has_message(db: Path, key: Key) -> bool:
    """Whether the message ``key`` is in the SQLite time-series file (False while the file or table is missing)."""
    if not db.exists():
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT 1 FROM chunks WHERE device_id = ? AND seq = ?", key).fetchone() is not None
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def assert_stored_as_sent(db: Path, sent: Sent) -> None:
    """Exactly the good messages sent are stored, each with the values sent: none lost, none extra, none altered."""
    found = stored_series(db)
    missing = sorted(set(sent.good) - set(found))
    extra = sorted(set(found) - set(sent.good))
    assert (missing, extra) == ([], []), (
        f"{len(missing)} sent but not stored (first {missing[:5]}), "
        f"{len(extra)} stored but not sent (first {extra[:5]})"
    )
    altered = [k for k, values in sent.good.items() if found[k] != values]
    assert not altered, f"{len(altered)} stored with other values, e.g. {altered[0]}: {found[altered[0]]}"


def dead_letters(state: StateStore) -> list[tuple[str | None, int | None, str]]:
    """One ``(device_id, seq, reason_code)`` per dead-letter row (rows have no key but their autoincrement id)."""
    with state.session() as s:
        rows = s.execute(select(DeadLetter.device_id, DeadLetter.seq, DeadLetter.reason_code)).all()
    return [(d, q, c) for d, q, c in rows]


def assert_dead_letters_as_sent(state: StateStore, sent: Sent) -> None:
    """One dead letter per bad message sent, no more, no fewer: compared as multisets of (device, seq, code)."""
    got = Counter(dead_letters(state))
    want = Counter(sent.bad)
    extra, missing = got - want, want - got
    assert got == want, (
        f"dead letters: {extra.total()} extra (e.g. {list(extra.items())[:3]}), "
        f"{missing.total()} missing (e.g. {list(missing.items())[:3]})"
    )


@dataclass(frozen=True, slots=True)
class IngestCounts:
    """Ingestion's counters as `/metrics` exports them (ingest/counters.py); subtract two to get a run's share."""

    received: float
    stored_messages: float
    duplicates: float
    dead_letters: float
    store_failures: float

    @classmethod
    def scrape(cls, api: TestClient) -> IngestCounts:
        response = api.get("/metrics")
        assert response.status_code == 200
        totals: dict[str, float] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
        return cls(
            received=totals.get("aftercare_ingest_received_total", 0.0),
            stored_messages=totals.get("aftercare_ingest_stored_messages_total", 0.0),
            duplicates=totals.get("aftercare_ingest_duplicates_total", 0.0),
            dead_letters=totals.get("aftercare_ingest_dead_letters_total", 0.0),
            store_failures=totals.get("aftercare_ingest_store_failures_total", 0.0),
        )

    def __sub__(self, other: IngestCounts) -> IngestCounts:
        return IngestCounts(
            self.received - other.received,
            self.stored_messages - other.stored_messages,
            self.duplicates - other.duplicates,
            self.dead_letters - other.dead_letters,
            self.store_failures - other.store_failures,
        )


def assert_counted_as_sent(counts: IngestCounts, sent: Sent) -> None:
    """Messages stored == good messages sent, dead letters == bad sent, and every message received is one of
    stored, duplicate or dead-lettered (a repeat stored again, or a message dropped uncounted, breaks it)."""
    assert counts.stored_messages == len(sent.good), counts
    assert counts.dead_letters == len(sent.bad), counts
    assert counts.received == counts.stored_messages + counts.duplicates + counts.dead_letters, counts


STATS = re.compile(
    r"ingest stats: client_id=\S+ messages=(\d+) batches=\d+ points=(\d+) duplicates=(\d+) "
    r"dead_letters=(\d+)"
)


@dataclass(frozen=True, slots=True)
class LoggedStats:
    """The last ``ingest stats`` line of an `aftercare ingest` process (logged at INFO when it stops)."""

    messages: int
    points: int
    duplicates: int
    dead_letters: int

    @classmethod
    def last_in(cls, log: Path) -> LoggedStats:
        found = STATS.findall(log.read_text(errors="replace"))
        assert found, f"no 'ingest stats' line in {log}"
        return cls(*(int(v) for v in found[-1]))


def wait_for_sentinel(
    db: Path,
    state: StateStore,
    sentinel: Key,
    *,
    running: RunningIngest | None = None,
    timeout: float = 180,
    what: str = "the sentinel stored",
) -> None:
    """Wait until the sentinel (the last message sent) is committed and, in process, its batch counted.

    Sent after every other message was acknowledged by the broker, the sentinel is delivered after them
    (and after any redelivery, which comes first on a reconnect), so once it is committed nothing is still
    on its way. Its batch is committed when its dedup mark is (the state transaction, with the batch's dead
    letters, comes after the time-series write). In process, ``pending == 0`` means the batch was counted too.
    """

    def committed() -> bool:
        if not has_message(db, sentinel):
            return False
        with state.session() as s:
            if s.get(DedupMark, sentinel) is None:
                return False
        return running is None or running.service.status().pending == 0

    wait_until(committed, timeout, 0.05, what=what)


@dataclass(frozen=True, slots=True)
class Stored:
    """Chunk rows stored, distinct ``(device_id, seq)`` among them, and samples in all."""

    rows: int
    distinct: int
    samples: int


def stored(db: Path, *, exclude_device: str | None = None) -> Stored:
    """What the SQLite time-series file holds (read-only; 0s when the table is not there yet)."""
    if not db.exists():
        return Stored(0, 0, 0)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT device_id || ':' || seq), coalesce(sum(n), 0) FROM chunks "
            "WHERE device_id != ?",
            (exclude_device or "",),
        ).fetchone()
    except sqlite3.OperationalError:
        return Stored(0, 0, 0)
    finally:
        conn.close()
    return Stored(int(row[0]), int(row[1]), int(row[2]))


def ingest_process(
    data_dir: Path, broker_url: str, client_id: str, *, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`aftercare ingest` in its own process, logging to ``data_dir/ingest.log``."""
    env = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(data_dir),
        "AFTERCARE_MQTT_URL": broker_url,
        "AFTERCARE_MQTT_CLIENT_ID": client_id,
        "AFTERCARE_ADMIN_TOKEN": ADMIN,
        "AFTERCARE_LOG_LEVEL": "WARNING",
        "AFTERCARE_MQTT_BACKOFF_MAX_S": "2",
        **(extra_env or {}),
    }
    with open(data_dir / "ingest.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "aftercare.cli", "ingest"], env=env, stdout=subprocess.DEVNULL, stderr=log
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def rss_with_children(pid: int) -> int:
    """Resident memory of a process and its child processes (ingestion's committer), from /proc."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children.extend(int(c) for c in (task / "children").read_text().split())
    return rss_bytes(pid) + sum(rss_with_children(c) for c in children)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class RunningIngest:
    """Ingestion as `aftercare up` starts it (with its `/readyz` checks), and an API client over it."""

    platform: Platform
    service: IngestService
    api: TestClient


def start_platform_ingest(settings: Settings, stores: Stores, host: str, port: int) -> RunningIngest:
    """Start ingestion through `aftercare.runtime.start_ingest` and wait until it is connected."""
    platform = Platform(settings=settings, stores=stores, admin_token=ADMIN, broker_url=BrokerUrl(host, port))
    start_ingest(platform, mqtt.MQTTv5)
    service = platform.ingest
    assert service is not None
    assert service.source.connected.wait(10)
    api = TestClient(create_app(AppContext(stores=stores, admin_token=ADMIN, health_checks=platform.health_checks)))
    return RunningIngest(platform, service, api)
