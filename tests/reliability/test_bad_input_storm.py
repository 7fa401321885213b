"""A storm of 10,000 malformed messages interleaved with good ones, into `aftercare ingest`.

Every good message must be stored exactly once with its values, every bad one must become exactly one
dead letter (counted per reason), the process's own counters must agree (its last ``ingest stats`` line:
messages handled, samples stored, no duplicates, one dead letter per bad message), and the ingest
process's memory must stay bounded (resident size measured from /proc before and after the storm).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftercare.bench.mqtt_load import prime_session
from devices.timestamps import now_ms
from devices.topics import SUBSCRIPTIONS
from store.state.engine import StateStore
from store.state.migrate import upgrade
from tests.integration.conftest_services import MosquittoBroker
from tests.reliability.helpers import (
    LoggedStats,
    Sent,
    assert_stored_as_sent,
    dead_letters,
    ingest_process,
    rss_bytes,
    rss_with_children,
    stop,
    telemetry_topic,
    wait_for_sentinel,
)
from tests.support.mqtt_publisher import Publisher
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

BAD = 10_000
GOOD_PER_BAD = 1
WARMUP = 2_000
WEARABLES = 4
RSS_BOUND = 200 * 1024 * 1024
BAD_SEQ = 10**9  # bad messages with an integer seq use their own range, so no good one is taken as a repeat


def bad_messages(count: int, now: int) -> Iterator[tuple[str, bytes, str]]:
    """(topic, payload, expected reason code): each gives exactly one dead letter."""
    good_series = {"metric": "heart_rate", "t0": now - 60_000, "fs": 1.0, "values": [80]}
    w = telemetry_topic("w0")
    for i in range(count):
        seq = BAD_SEQ + i
        k = i % 16
        if k == 0:
            yield w, b"{oops" + str(i).encode(), "bad_json"
        elif k == 1:
            yield w, b"[" * 60_000 + b"]" * 60_000, "bad_json"  # nested beyond the parser's recursion limit
        elif k == 2:
            yield w, b"\xff\xfe\x00garbage" + bytes([i % 256]), "bad_json"
        elif k == 3:
            yield w, json.dumps({"seq": "seven", "series": [good_series]}).encode(), "invalid"
        elif k == 4:
            yield w, json.dumps([1, 2, 3]).encode(), "invalid"
        elif k == 5:
            yield w, json.dumps({"seq": seq, "series": [{**good_series, "values": [412]}]}).encode(), "out_of_range"
        elif k == 6:
            yield (
                w,
                (
                    b'{"seq": %d, "series": [{"metric": "heart_rate", "t0": %d, "fs": 1, "values": [NaN]}]}'
                    % (seq, now - 5000)
                ),
                "out_of_range",
            )
        elif k == 7:
            doc = {"seq": seq, "series": [{**good_series, "metric": "glucose"}]}
            yield w, json.dumps(doc).encode(), "unknown_metric"
        elif k == 8:
            yield w, json.dumps({"seq": seq, "series": [{**good_series, "t0": now + 86_400_000}]}).encode(), "bad_time"
        elif k == 9:
            doc = {"seq": seq, "series": [good_series]}
            yield telemetry_topic(f"ghost{i}"), json.dumps(doc).encode(), "unregistered"
        elif k == 10:
            yield telemetry_topic("g0"), json.dumps({"seq": seq, "series": [good_series]}).encode(), "wrong_kind"
        elif k == 11:
            yield f"aftercare/v1/nowhere/w0/x{i}", json.dumps({"seq": seq}).encode(), "topic"
        elif k == 12 and i % 320 == 12:  # a few oversized ones (300 KB each)
            yield w, b'{"seq": %d, "series": [' % seq + b" " * 300_000 + b"]}", "too_large"
        elif k == 12:
            yield w, b'{"seq": ' + b"9" * 5000 + b"}", "bad_json"  # an integer beyond Python's digit limit
        elif k == 13 and i % 2:  # valid JSON, but an integer no float can hold (it once stalled a batch)
            yield (
                w,
                (
                    b'{"seq": %d, "series": [{"metric": "heart_rate", "t0": %d, "fs": 1, "values": [%s]}]}'
                    % (seq, now - 5000, b"9" * 400)
                ),
                "invalid",
            )
        elif k == 13:
            yield w, json.dumps({"seq": seq, "series": []}).encode(), "invalid"
        elif k == 14:
            yield (
                w,
                json.dumps(
                    {"seq": seq, "series": [{"metric": "accel", "t0": now - 1000, "fs": 50, "values": [[1, 2]]}]}
                ).encode(),
                "invalid",
            )
        else:
            yield w, json.dumps({"seq": seq, "series": [{"metric": "heart_rate", "values": [70]}]}).encode(), "invalid"


def test_storm_of_malformed_messages(tmp_path: Path, mosquitto_broker: MosquittoBroker) -> None:
    broker = mosquitto_broker
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(state.engine)
    seed_registry(state, wearables=WEARABLES, gateways=1)
    db = tmp_path / "timeseries.db"
    client_id = f"ingest-storm-{time.monotonic_ns()}"
    # the session exists (and queues) before the process starts, so nothing published early is lost
    prime_session(broker.host, broker.port, client_id, SUBSCRIPTIONS)
    # INFO: the process logs its counters ("ingest stats") when it stops
    proc = ingest_process(tmp_path, broker.url, client_id, extra_env={"AFTERCARE_LOG_LEVEL": "INFO"})
    pub = Publisher(broker.host, broker.port, client_id=f"storm-pub-{time.monotonic_ns()}")
    now = now_ms()
    t0 = now - 12 * 3_600_000
    sent = Sent()

    def good() -> tuple[str, dict[str, object]]:
        seq = len(sent.good)
        dev = 1 + seq % (WEARABLES - 1)  # w1..w3 carry the good stream; w0 gets the bad one
        return sent.hr(f"w{dev}", seq, t0 + seq * 1000, [65 + seq % 20])

    def last_good() -> tuple[str, int]:
        seq = len(sent.good) - 1
        return f"w{1 + seq % (WEARABLES - 1)}", seq

    try:
        pub.publish_all(good() for _ in range(WARMUP))
        wait_for_sentinel(db, state, last_good(), timeout=90, what="the warm-up stored")
        before = rss_with_children(proc.pid)
        assert before > rss_bytes(proc.pid), "the committer process's memory is counted too"
        expected: Counter[str] = Counter()
        storm: list[tuple[str, bytes | str | dict[str, object]]] = []
        for topic, payload, code in bad_messages(BAD, now):
            expected[code] += 1
            storm.append((topic, payload))
            storm.extend(good() for _ in range(GOOD_PER_BAD))
        pub.publish_all(storm, timeout=300)
        pub.publish_all([good()])  # the sentinel: sent after every message of the storm was acknowledged
        wait_for_sentinel(db, state, last_good(), timeout=300, what="the sentinel after the storm")
        after = rss_with_children(proc.pid)
        assert proc.poll() is None, "ingestion is still running"

        assert_stored_as_sent(db, sent)
        codes = Counter(code for _device, _seq, code in dead_letters(state))
        assert codes == expected, f"dead letters by reason: {dict(codes)} != {dict(expected)}"
        assert after - before < RSS_BOUND, f"RSS grew by {(after - before) / 2**20:.0f} MiB during the storm"
        stop(proc)
        assert proc.returncode == 0, f"ingestion stopped with status {proc.returncode}"
        stats = LoggedStats.last_in(tmp_path / "ingest.log")
        assert stats == LoggedStats(
            messages=len(sent.good) + BAD, points=len(sent.good), duplicates=0, dead_letters=BAD
        ), stats
    finally:
        pub.close()
        stop(proc)
        state.close()
