"""Fuzzing the payload decoder (`ingest.decoder.decode`) harder than the unit tests do.

Inputs: arbitrary bytes and topics; JSON of any shape nested deep; telemetry-shaped documents whose
every field is mutated (huge and negative integers, NaN and infinities, floats where integers
belong, unicode of every plane, long strings, wrong nesting, batches near the 10,000-value limit);
nesting far past the parser's recursion limit. Properties: ``decode`` never raises; every outcome
is data or a reason; reasons can be stored (UTF-8, non-empty); accepted chunks hold only finite
values inside the metric's range, one time per value, and at most 10,000 values per message.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from devices.metrics import MAX_VALUES_PER_BATCH, METRICS
from devices.topics import DeviceKind
from ingest.decoder import Decoded, Limits, decode
from ingest.inbound import Inbound
from ingest.pipeline import IngestPipeline
from store.state.device_registry import RegisteredDevice
from tests.support.seed import seed_registry

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

NOW = 1_795_558_119_000
LIMITS = Limits(now_ms=NOW, max_future_ms=300_000, oldest_ms=NOW - 400 * 86_400_000)
DEVICES = {
    "w1": RegisteredDevice("w1", DeviceKind.WEARABLE, "P1", None),
    "g1": RegisteredDevice("g1", DeviceKind.SHOP_GATEWAY, None, "S1"),
}
CODES = {
    "topic",
    "unregistered",
    "wrong_kind",
    "too_large",
    "bad_json",
    "invalid",
    "unknown_metric",
    "out_of_range",
    "bad_time",
    "unknown_job",
    "wrong_shop",
}
TOPICS = [
    "aftercare/v1/wearables/w1/telemetry",
    "aftercare/v1/shops/g1/beacon",
    "aftercare/v1/shops/g1/photo",
    "aftercare/v1/devices/w1/status",
    "aftercare/v1/devices/g1/status",
    "aftercare/v1/wearables/g1/telemetry",
    "aftercare/v1/wearables/ghost/telemetry",
]
FUZZ = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

# Text of every plane, lone surrogates included (JSON escapes like "\ud800" decode to them).
text = st.text(max_size=40)
nasty_ints = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([0, -1, 2**63 - 1, 2**63, -(2**63), 10**20]))
nasty_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e308, -1e308, 5e-324]))
scalars = st.one_of(st.none(), st.booleans(), nasty_ints, nasty_floats, text)
json_docs = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.dictionaries(text, inner, max_size=6)),
    max_leaves=40,
)
times = st.one_of(
    nasty_ints,
    nasty_floats,
    text,
    st.integers(NOW - 500 * 86_400_000, NOW + 3_600_000),
    st.sampled_from(
        [
            "2026-11-24T10:00:00Z",
            "2026-11-24T10:00:00",
            "2026-13-40T99:00:00Z",
            "2026-11-24T10:00:00.123456789+14:00",
            "1970-01-01T00:00:00Z",
        ]
    ),
)
values = st.one_of(
    st.lists(st.one_of(nasty_floats, nasty_ints, st.integers(20, 250)), max_size=50),
    st.lists(st.lists(st.one_of(nasty_floats, st.integers(-20, 20)), min_size=0, max_size=4), max_size=20),
    st.lists(scalars, max_size=10),
    st.integers(0, 10_050).map(lambda n: [72.0] * n),  # around the batch limit
    scalars,
)
series = st.fixed_dictionaries(
    {"metric": st.one_of(st.sampled_from(sorted(METRICS)), text)},
    optional={
        "t0": times,
        "fs": st.one_of(nasty_floats, nasty_ints, text),
        "t": st.one_of(st.lists(times, max_size=50), scalars),
        "values": values,
        "extra": json_docs,
    },
)
telemetry_docs = st.fixed_dictionaries(
    {"seq": st.one_of(nasty_ints, scalars), "series": st.one_of(st.lists(series, max_size=5), json_docs)}
)
beacon_docs = st.fixed_dictionaries(
    {
        "seq": nasty_ints,
        "event": st.one_of(st.sampled_from(["stage", "progress", "hold", "resume", "heartbeat"]), text),
        "at": times,
    },
    optional={"job_id": text, "stage": text, "progress": nasty_floats, "note": text, "reason": text},
)


def _check(out: Decoded, payload: bytes) -> None:
    assert isinstance(out, Decoded)
    assert out.has_data or out.rejections, "a message gives data or a reason"
    for r in out.rejections:
        assert r.code in CODES, r
        assert r.reason.strip(), r
        r.reason.encode("utf-8")  # storable in the dead-letter table
    points = 0
    for c in out.chunks:
        spec = METRICS[c.metric]
        assert c.t_ms.shape[0] == c.values.shape[0] > 0
        assert c.values.shape == ((c.n,) if spec.dims == 1 else (c.n, spec.dims))
        assert bool((c.values >= spec.low).all() and (c.values <= spec.high).all())
        assert all(math.isfinite(float(v)) for v in c.values.ravel())
        assert int(c.t_ms.max()) <= NOW + LIMITS.max_future_ms
        assert int(c.t_ms.min()) >= LIMITS.oldest_ms
        assert c.seq == out.seq
        assert c.subject == "P1"
        points += c.n
    assert points <= MAX_VALUES_PER_BATCH


def _decode(topic: str, payload: bytes) -> Decoded:
    out = decode(topic, payload, DEVICES.get, LIMITS)
    _check(out, payload)
    return out


@FUZZ
@given(topic=st.one_of(st.sampled_from(TOPICS), st.text(max_size=80)), payload=st.binary(max_size=4096))
def test_any_bytes_on_any_topic(topic: str, payload: bytes) -> None:
    _decode(topic, payload)


@FUZZ
@given(topic=st.sampled_from(TOPICS), doc=json_docs)
def test_any_json_document(topic: str, doc: Any) -> None:
    _decode(topic, json.dumps(doc).encode())


@FUZZ
@given(doc=telemetry_docs)
def test_mutated_telemetry(doc: dict[str, Any]) -> None:
    _decode(TOPICS[0], json.dumps(doc).encode())


@FUZZ
@given(doc=beacon_docs)
def test_mutated_beacons(doc: dict[str, Any]) -> None:
    _decode(TOPICS[1], json.dumps(doc).encode())


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(1, 120_000), kind=st.sampled_from(["list", "object"]))
def test_deep_nesting(depth: int, kind: str) -> None:
    payload = b"[" * depth + b"]" * depth if kind == "list" else b'{"a":' * depth + b"1" + b"}" * depth
    out = _decode(TOPICS[0], payload)
    if len(payload) > 256 * 1024:
        assert [r.code for r in out.rejections] == ["too_large"]


@settings(max_examples=40, deadline=None)
@given(digits=st.integers(1, 20_000))
def test_huge_integers(digits: int) -> None:
    doc = b'{"seq": %s, "series": [{"metric": "steps", "t0": %d, "fs": 1, "values": [%s]}]}' % (
        b"9" * digits,
        NOW - 10_000,
        b"1" * digits,
    )
    _decode(TOPICS[0], doc)


# Was a bug (found by this suite): a tiny fs overflowed the computed times; fs is now at least 0.001 Hz.
@settings(max_examples=150, deadline=None)
@given(fs=st.floats(min_value=5e-324, max_value=1e-3), n=st.integers(2, 50))
def test_tiny_sampling_rates(fs: float, n: int) -> None:
    doc = {
        "seq": 1,
        "series": [
            {"metric": "heart_rate", "t0": NOW - 60_000, "fs": fs, "values": [70] * n},
            {"metric": "spo2", "t0": NOW - 60_000, "fs": 1, "values": [97]},
        ],
    }
    out = _decode(TOPICS[0], json.dumps(doc).encode())
    assert [c.metric for c in out.chunks] == ["spo2"], "the good series stands"
    assert [r.code for r in out.rejections] in (["bad_time"], ["invalid"]), out.rejections
    assert out.rejections[0].reason.startswith("heart_rate"), "the reason names the series"


def test_lone_surrogate_in_a_metric_name_becomes_a_dead_letter(tmp_path: Path) -> None:
    """A JSON escape of a lone surrogate once reached the stored reason: the dead-letter insert raised
    UnicodeEncodeError and the batch was retried forever, stalling ingestion (found by this suite)."""
    stores = open_stores(Settings(data_dir=tmp_path))
    try:
        seed_registry(stores.state, wearables=1, gateways=0)
        pipeline = IngestPipeline(
            timeseries=stores.timeseries, state=stores.state, registry=stores.registry, photos=stores.photos
        )
        payload = b'{"seq": 1, "series": [{"metric": "\\ud800x", "t0": %d, "fs": 1, "values": [70]}]}' % (NOW - 10_000)
        message = Inbound(
            topic="aftercare/v1/wearables/w0/telemetry", payload=payload, mid=1, qos=1, generation=1, received_ms=NOW
        )
        result = pipeline.process([message])
        assert result.dead_letters == 1
    finally:
        stores.close()
