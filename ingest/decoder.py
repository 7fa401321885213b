"""Turn one MQTT message into what it means, or the reasons it is refused. Pure and total.

``decode`` never raises on any topic or payload: everything wrong with a message becomes a
`Rejection` with a sentence a human understands. A telemetry batch whose series are partly bad
yields the good series as chunks plus one rejection per bad series.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from devices.messages import (
    Beacon,
    DeviceStatus,
    Photo,
    TelemetryBatch,
    check_time,
    count_values,
    describe,
    validate_series,
)
from devices.metrics import MAX_PAYLOAD_BYTES, MAX_PHOTO_BYTES, MAX_VALUES_PER_BATCH
from devices.topics import MessageKind, TopicError, parse_topic
from store.state.device_registry import RegisteredDevice
from store.timeseries.base import Chunk

DEAD_LETTER_PAYLOAD_BYTES = 4096
_MAX_PHOTO_PAYLOAD = (MAX_PHOTO_BYTES * 4) // 3 + 4096


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str  # short, for counters: topic, unregistered, wrong_kind, too_large, bad_json, invalid, ...
    reason: str  # the sentence stored with the dead letter


@dataclass(frozen=True, slots=True)
class Limits:
    now_ms: int
    max_future_ms: int = 300_000
    oldest_ms: int = 0


@dataclass(slots=True)
class Decoded:
    topic: str
    payload: bytes
    kind: MessageKind | None = None
    device: RegisteredDevice | None = None
    seq: int | None = None
    chunks: list[Chunk] = field(default_factory=list)
    beacon: Beacon | None = None
    photo: Photo | None = None
    photo_bytes: bytes | None = None
    status: DeviceStatus | None = None
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return bool(self.chunks or self.beacon or self.photo or self.status)

    @property
    def points(self) -> int:
        return sum(c.n for c in self.chunks)


Lookup = Callable[[str], RegisteredDevice | None]


def _series_code(reason: str) -> str:
    if reason.startswith("unknown metric"):
        return "unknown_metric"
    if " outside " in reason or "not a finite" in reason or "not an integer" in reason:
        return "out_of_range"
    if "in the future" in reason or "retention window" in reason:
        return "bad_time"
    return "invalid"


def decode(topic: str, payload: bytes, lookup: Lookup, limits: Limits) -> Decoded:
    """Decode, authorize and validate one message (see module docstring)."""
    out = Decoded(topic=topic, payload=payload)
    try:
        parsed = parse_topic(topic)
    except TopicError as exc:
        out.rejections.append(Rejection("topic", str(exc)))
        return out
    out.kind = parsed.kind
    device = lookup(parsed.device_id)
    if device is None:
        out.rejections.append(Rejection("unregistered", f"device {parsed.device_id!r} is not registered"))
        return out
    if parsed.publisher is not None and device.kind != parsed.publisher:
        out.rejections.append(
            Rejection(
                "wrong_kind",
                f"device {parsed.device_id!r} is a {device.kind.value}; only a {parsed.publisher.value} "
                f"may publish {parsed.kind.value}",
            )
        )
        return out
    out.device = device
    limit = _MAX_PHOTO_PAYLOAD if parsed.kind is MessageKind.PHOTO else MAX_PAYLOAD_BYTES
    if len(payload) > limit:
        out.rejections.append(Rejection("too_large", f"payload is {len(payload)} bytes, more than {limit}"))
        return out
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        out.rejections.append(Rejection("bad_json", f"payload is not JSON: {str(exc)[:200]}"))
        return out
    if not isinstance(doc, dict):
        out.rejections.append(Rejection("invalid", f"payload must be a JSON object, not {type(doc).__name__}"))
        return out
    if isinstance(doc.get("seq"), int) and not isinstance(doc.get("seq"), bool):
        out.seq = doc["seq"]
    try:
        if parsed.kind is MessageKind.TELEMETRY:
            _telemetry(out, doc, device, limits)
        elif parsed.kind is MessageKind.BEACON:
            out.beacon = Beacon.model_validate(doc)
            _event_time(out, "at", out.beacon.at, limits)
        elif parsed.kind is MessageKind.PHOTO:
            photo = Photo.model_validate(doc)
            out.photo_bytes = photo.image_bytes()
            out.photo = photo
            _event_time(out, "taken_at", photo.taken_at, limits)
        else:
            out.status = DeviceStatus.model_validate(doc)
    except ValidationError as exc:
        out.beacon = out.photo = out.status = None
        out.photo_bytes = None
        out.rejections.append(Rejection("invalid", describe(exc)))
    except ValueError as exc:  # photo bytes
        out.photo = None
        out.photo_bytes = None
        out.rejections.append(Rejection("invalid", str(exc)))
    return out


def _event_time(out: Decoded, name: str, at_ms: int, limits: Limits) -> None:
    reason = check_time(
        name, at_ms, now_ms=limits.now_ms, max_future_ms=limits.max_future_ms, oldest_ms=limits.oldest_ms
    )
    if reason is not None:
        out.beacon = None
        out.photo = None
        out.photo_bytes = None
        out.rejections.append(Rejection("bad_time", reason))


def _telemetry(out: Decoded, doc: dict[str, object], device: RegisteredDevice, limits: Limits) -> None:
    seq, series = doc.get("seq"), doc.get("series")
    if not (type(seq) is int and 0 <= seq < 2**63 and type(series) is list and len(series) <= 1000):
        batch = TelemetryBatch.model_validate(doc)  # raises with the reason
        seq, series = batch.seq, batch.series
    # else: the shape pydantic would accept, taken as it is (building the model costs more than decoding)
    total = count_values(series)
    if total > MAX_VALUES_PER_BATCH:
        out.rejections.append(Rejection("too_large", f"batch holds {total} values, more than {MAX_VALUES_PER_BATCH}"))
        return
    if not series:
        out.rejections.append(Rejection("invalid", "series: empty (a telemetry batch needs at least one series)"))
        return
    may_hold_booleans = b"true" in out.payload or b"false" in out.payload
    for part, raw in enumerate(series):
        result = validate_series(
            raw,
            index=part,
            now_ms=limits.now_ms,
            max_future_ms=limits.max_future_ms,
            oldest_ms=limits.oldest_ms,
            may_hold_booleans=may_hold_booleans,
        )
        if isinstance(result, str):
            out.rejections.append(Rejection(_series_code(result), result))
            continue
        out.chunks.append(
            Chunk(
                subject=device.subject,
                device_id=device.device_id,
                metric=result.metric,
                seq=seq,
                part=part,
                t_ms=result.t_ms,
                values=result.values,
                fs=result.fs,
            )
        )
