"""The device contract: every payload either validates or gives a reason; nothing escapes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.topics import DeviceKind, MessageKind, TopicError, parse_topic, topic_for
from ingest.decoder import Decoded, Limits, decode
from store.state.device_registry import RegisteredDevice

NOW = 1_795_558_119_000
DEVICES = {
    "w1": RegisteredDevice("w1", DeviceKind.WEARABLE, "P1", None),
    "g1": RegisteredDevice("g1", DeviceKind.SHOP_GATEWAY, None, "S1"),
}
LIMITS = Limits(now_ms=NOW, max_future_ms=300_000, oldest_ms=NOW - 400 * 86_400_000)
TELEMETRY = "aftercare/v1/wearables/w1/telemetry"


def run(topic: str, doc: object) -> Decoded:
    payload = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return decode(topic, payload, DEVICES.get, LIMITS)


def telemetry(*series: dict[str, object], seq: int = 1) -> dict[str, object]:
    return {"seq": seq, "series": list(series)}


def test_contract_example_is_accepted() -> None:
    doc = {
        "seq": 1042,
        "series": [
            {"metric": "heart_rate", "t0": "2026-11-24T10:00:00Z", "fs": 1.0, "values": [81, 82, 82, 83, 84]},
            {"metric": "rr_interval", "t": [1795558119412, 1795558120138], "values": [731, 726]},
            {"metric": "spo2", "t0": 1795558119000, "fs": 1.0, "values": [97, 97, 96, 97, 97]},
            {
                "metric": "accel",
                "t0": "2026-11-24T10:00:00Z",
                "fs": 50.0,
                "values": [[0.01, -0.98, 0.12], [0.02, -0.97, 0.11]],
            },
        ],
    }
    out = run(TELEMETRY, doc)
    assert out.rejections == []
    chunks = out.chunks
    assert [c.metric for c in chunks] == ["heart_rate", "rr_interval", "spo2", "accel"]
    t0 = int(datetime(2026, 11, 24, 10, tzinfo=UTC).timestamp() * 1000)
    assert chunks[0].t_ms.tolist() == [t0 + i * 1000 for i in range(5)]
    assert chunks[3].values.shape == (2, 3)
    assert all(c.subject == "P1" and c.seq == 1042 for c in chunks)
    assert out.points == 14


def test_out_of_range_value_names_index_and_range_and_keeps_good_series() -> None:
    out = run(
        TELEMETRY,
        telemetry(
            {"metric": "heart_rate", "t0": NOW - 10_000, "fs": 1, "values": [80, 81, 82, 412]},
            {"metric": "spo2", "t0": NOW - 10_000, "fs": 1, "values": [97, 96]},
        ),
    )
    assert [r.reason for r in out.rejections] == ["heart_rate[3]=412 outside 20..250"]
    assert [c.metric for c in out.chunks] == ["spo2"]


def test_each_bad_input_has_its_reason() -> None:
    good = {"metric": "heart_rate", "t0": NOW - 5000, "fs": 1, "values": [70]}
    cases = {
        "bad_json": (TELEMETRY, b"{not json"),
        "invalid": (TELEMETRY, {"seq": "one", "series": [good]}),
        "unknown_metric": (TELEMETRY, telemetry({**good, "metric": "blood_sugar"})),
        "bad_time": (TELEMETRY, telemetry({**good, "t0": NOW + 3_600_000})),
        "unregistered": ("aftercare/v1/wearables/nobody/telemetry", telemetry(good)),
        "wrong_kind": ("aftercare/v1/wearables/g1/telemetry", telemetry(good)),
        "too_large": (TELEMETRY, b"{" + b" " * (300 * 1024) + b"}"),
        "topic": ("aftercare/v1/wearables/w1/secrets", telemetry(good)),
    }
    for code, (topic, doc) in cases.items():
        out = run(topic, doc)
        assert [r.code for r in out.rejections] == [code], (code, out.rejections)
        assert out.chunks == []
        assert out.rejections[0].reason


def test_future_reason_is_readable() -> None:
    out = run(TELEMETRY, telemetry({"metric": "spo2", "t0": NOW + 3_600_000, "fs": 1, "values": [97]}))
    assert "in the future" in out.rejections[0].reason


def test_too_many_values_in_a_batch() -> None:
    out = run(TELEMETRY, telemetry({"metric": "ppg", "t0": NOW - 400_000, "fs": 25, "values": [1.0] * 10_001}))
    assert out.rejections[0].code == "too_large"


def test_an_integer_past_float_range_is_refused_not_raised() -> None:
    """A 400-digit integer is valid JSON (Python parses up to 4,300 digits); it once raised OverflowError in
    the numpy conversion, which made the whole batch fail and be redelivered for ever."""
    huge = (
        b'{"seq": 7, "series": [{"metric": "heart_rate", "t0": %d, "fs": 1, "values": [60, %s]}, '
        b'{"metric": "accel", "t0": %d, "fs": 50, "values": [[0, 0, %s]]}, '
        b'{"metric": "spo2", "t0": %d, "fs": 1, "values": [97]}]}'
        % (NOW - 5000, b"9" * 400, NOW - 5000, b"9" * 400, NOW - 5000)
    )
    out = run(TELEMETRY, huge)
    assert [r.reason for r in out.rejections] == [
        "heart_rate: a value is too large to be a number (range 20..250)",
        "accel: a value is too large to be a number (range -16..16)",
    ]
    assert [c.metric for c in out.chunks] == ["spo2"]


def test_vector_shape_and_boolean_values_refused() -> None:
    out = run(
        TELEMETRY,
        telemetry(
            {"metric": "accel", "t0": NOW - 1000, "fs": 50, "values": [[1, 2]]},
            {"metric": "heart_rate", "t0": NOW - 1000, "fs": 1, "values": [True]},
        ),
    )
    reasons = [r.reason for r in out.rejections]
    assert reasons[0] == "accel: values must be [x, y, z] triples"
    assert "boolean" in reasons[1]


def test_beacon_photo_status_decode() -> None:
    beacon = run(
        "aftercare/v1/shops/g1/beacon",
        {"seq": 88, "job_id": "J-1", "event": "stage", "stage": "paint", "at": NOW - 1000, "progress": 0.55},
    )
    assert beacon.beacon is not None
    assert beacon.beacon.stage == "paint"
    img = base64.b64encode(b"\xff\xd8\xff\xe0 fake jpeg").decode()
    photo = run(
        "aftercare/v1/shops/g1/photo",
        {
            "seq": 91,
            "job_id": "J-1",
            "stage": "paint",
            "taken_at": NOW - 500,
            "content_type": "image/jpeg",
            "image_b64": img,
        },
    )
    assert photo.photo_bytes == b"\xff\xd8\xff\xe0 fake jpeg"
    bad_b64 = run(
        "aftercare/v1/shops/g1/photo",
        {
            "seq": 92,
            "job_id": "J-1",
            "stage": "paint",
            "taken_at": NOW,
            "content_type": "image/jpeg",
            "image_b64": "***",
        },
    )
    assert bad_b64.rejections[0].reason == "image_b64 is not valid base64"
    status = run("aftercare/v1/devices/w1/status", {"online": False})
    assert status.status is not None
    assert status.status.online is False
    hold = run("aftercare/v1/shops/g1/beacon", {"seq": 90, "event": "hold", "at": NOW})
    assert "needs job_id" in hold.rejections[0].reason


def test_topics_roundtrip_and_refuse_bad_ids() -> None:
    for kind in MessageKind:
        assert parse_topic(topic_for(kind, "dev_1-A")).kind is kind
    for bad in (
        "aftercare/v1/wearables/has space/telemetry",
        "aftercare/v2/wearables/w/telemetry",
        "aftercare/v1/wearables/" + "x" * 65 + "/telemetry",
        "",
        "a/b/c/d/e/f",
    ):
        with pytest.raises(TopicError, match=r"contract|device id"):
            parse_topic(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)
series_like = st.fixed_dictionaries(
    {
        "metric": st.sampled_from(["heart_rate", "accel", "spo2", "steps", "nope", 3]),
        "values": st.lists(
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.integers(),
                st.lists(st.floats(-20, 20), min_size=2, max_size=4),
            ),
            max_size=20,
        ),
    },
    optional={
        "t0": st.one_of(st.integers(-5, 2 * NOW), st.text(max_size=30)),
        "fs": st.floats(-1, 2000),
        "t": st.lists(st.integers(NOW - 10_000, NOW + 10_000), max_size=20),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    doc=st.one_of(
        json_values, st.fixed_dictionaries({"seq": st.integers(-5, 2**64), "series": st.lists(series_like, max_size=4)})
    ),
    topic=st.sampled_from(
        [TELEMETRY, "aftercare/v1/shops/g1/beacon", "aftercare/v1/shops/g1/photo", "aftercare/v1/devices/w1/status"]
    ),
)
def test_any_payload_validates_or_gives_a_reason(doc: object, topic: str) -> None:
    payload = json.dumps(doc, allow_nan=True).encode()
    out = decode(topic, payload, DEVICES.get, LIMITS)
    assert out.has_data or out.rejections
    assert all(r.reason and r.code for r in out.rejections)
    for chunk in out.chunks:
        assert chunk.t_ms.shape[0] == chunk.values.shape[0] > 0
        assert np.all(np.isfinite(chunk.values))


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=2000), topic=st.text(max_size=80))
def test_any_bytes_on_any_topic_never_raise(payload: bytes, topic: str) -> None:
    out = decode(topic, payload, DEVICES.get, LIMITS)
    assert out.has_data or out.rejections
