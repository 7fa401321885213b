"""Pydantic models of every payload of the device contract, and the checks that give a reason per series.

Structure is validated by pydantic; values by numpy over the whole series at once, so a series of
10,000 samples costs microseconds. Every failure becomes a sentence a human understands, e.g.
``heart_rate[3]=412 outside 20..250``.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from devices.metrics import MAX_PHOTO_BYTES, MAX_VALUES_PER_BATCH, METRICS, MetricSpec
from devices.timestamps import EpochMs, ms_to_iso

Stage = Literal[
    "intake",
    "estimate",
    "parts_ordered",
    "disassembly",
    "structural",
    "body",
    "paint",
    "reassembly",
    "adas_calibration",
    "quality_check",
    "detail",
    "ready",
    "delivered",
]
JOB_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
#: The slowest regular sampling accepted (Hz): with at most 10,000 values a series then spans < 4 months,
#: so computed times can never leave the range of epoch milliseconds.
MIN_FS = 0.001


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SeriesIn(_Model):
    """One series as sent: ``t0`` + ``fs`` (regular) or ``t`` (one time per value)."""

    metric: str = Field(max_length=64)
    t0: EpochMs | None = None
    fs: float | None = Field(None, ge=MIN_FS, le=10_000, description="Hz; at least one sample per 1000 s")
    t: list[EpochMs] | None = None
    values: list[Any]

    @model_validator(mode="after")
    def _timing(self) -> SeriesIn:
        if self.t is not None:
            if self.t0 is not None or self.fs is not None:
                raise ValueError("give either t0 + fs or t, not both")
            if len(self.t) != len(self.values):
                raise ValueError(f"t has {len(self.t)} times for {len(self.values)} values")
        elif self.t0 is None or self.fs is None:
            raise ValueError("a series needs t0 and fs, or t")
        return self


class TelemetryBatch(_Model):
    seq: int = Field(ge=0, le=2**63 - 1)
    series: list[dict[str, Any]] = Field(max_length=1000)


class Beacon(_Model):
    seq: int = Field(ge=0, le=2**63 - 1)
    event: Literal["stage", "progress", "hold", "resume", "heartbeat"]
    at: EpochMs
    job_id: str | None = Field(None, pattern=JOB_ID_PATTERN)
    stage: Stage | None = None
    progress: float | None = Field(None, ge=0, le=1)
    note: str | None = Field(None, max_length=2000)
    reason: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _fields_per_event(self) -> Beacon:
        if self.event != "heartbeat" and self.job_id is None:
            raise ValueError(f"a {self.event} beacon needs job_id")
        if self.event == "stage" and self.stage is None:
            raise ValueError("a stage beacon needs stage")
        if self.event == "progress" and self.progress is None:
            raise ValueError("a progress beacon needs progress (0..1)")
        return self


class Photo(_Model):
    seq: int = Field(ge=0, le=2**63 - 1)
    job_id: str = Field(pattern=JOB_ID_PATTERN)
    stage: Stage
    taken_at: EpochMs
    content_type: Literal["image/jpeg", "image/png"]
    image_b64: str = Field(max_length=(MAX_PHOTO_BYTES * 4) // 3 + 8)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)

    def image_bytes(self) -> bytes:
        try:
            data = base64.b64decode(self.image_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("image_b64 is not valid base64") from None
        if len(data) > MAX_PHOTO_BYTES:
            raise ValueError(f"image is {len(data)} bytes, more than {MAX_PHOTO_BYTES}")
        if not data:
            raise ValueError("image_b64 is empty")
        return data


class DeviceStatus(_Model):
    online: bool
    battery: float | None = Field(None, ge=0, le=100)
    firmware: str | None = Field(None, max_length=64)
    at: EpochMs | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """A validated series: times in epoch ms and values (n,) or (n, 3), float64."""

    metric: str
    t_ms: NDArray[np.int64]
    values: NDArray[np.float64]
    fs: float | None

    @property
    def n(self) -> int:
        return int(self.t_ms.shape[0])


def describe(exc: ValidationError, *, prefix: str = "") -> str:
    """A compact one-line reason from a pydantic error: ``seq: Input should be a valid integer``."""
    parts = []
    for err in exc.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{prefix}{loc}: {msg}" if loc else f"{prefix}{msg}".strip())
    return "; ".join(parts)


def _regular(raw: dict[str, Any]) -> bool:
    """The common, well-formed shape (``t0`` as epoch ms, ``fs``, a list of values), checked without pydantic."""
    t0, fs = raw.get("t0"), raw.get("fs")
    return (
        isinstance(raw.get("metric"), str)
        and type(raw.get("values")) is list
        and "t" not in raw
        and isinstance(t0, int)
        and type(t0) is int
        and 0 <= t0 < 10**14
        and isinstance(fs, int | float)
        and type(fs) in (int, float)
        and MIN_FS <= fs <= 10_000
    )


SMALL_SERIES = 32
"""Up to this many scalar values, plain Python checks a series faster than numpy's per-call overhead allows."""


def _small_series(
    spec: MetricSpec, raw_values: list[Any], t0: int, fs: float, *, now_ms: int, max_future_ms: int, oldest_ms: int
) -> Series | None:
    """A short, clean scalar series validated without numpy; None when anything needs the full checks.

    Only vouches for what it can: every value an int or float (so no bool), their sum finite (so no NaN,
    no infinity, no integer too large for a float), within range, whole where the metric counts. Anything
    else returns None and `validate_series` goes on to find and word the reason exactly as before.
    """
    if not all(type(v) is int or type(v) is float for v in raw_values):
        return None
    try:
        if not math.isfinite(math.fsum(raw_values)):
            return None
    except OverflowError:
        return None
    if not (spec.low <= min(raw_values) and max(raw_values) <= spec.high):
        return None
    if spec.integer and not all(type(v) is int or v.is_integer() for v in raw_values):
        return None
    step = 1000.0 / fs
    times = [t0 + round(k * step) for k in range(len(raw_values))]  # round half to even, as np.round
    if times[-1] > now_ms + max_future_ms or t0 < oldest_ms:
        return None
    return Series(
        metric=spec.name, t_ms=np.array(times, dtype=np.int64), values=np.array(raw_values, dtype=np.float64), fs=fs
    )


def validate_series(
    raw: object, *, index: int, now_ms: int, max_future_ms: int, oldest_ms: int, may_hold_booleans: bool = True
) -> Series | str:
    """Validate one raw series; return it, or the reason it is refused (never raises).

    ``may_hold_booleans=False`` (the payload has no ``true``/``false`` at all) skips the per-value boolean
    check, the one check numpy cannot do for us.
    """
    if not isinstance(raw, dict):
        return f"series[{index}] is not an object"
    t_list: list[int] | None
    fs_in: float | None
    if _regular(raw):
        metric, raw_values, t0, fs_in, t_list = raw["metric"], raw["values"], raw["t0"], float(raw["fs"]), None
    else:
        try:
            model = SeriesIn.model_validate(raw)
        except ValidationError as exc:
            name = raw.get("metric") if isinstance(raw.get("metric"), str) else f"series[{index}]"
            return describe(exc, prefix=f"{str(name)[:64]}: ")
        metric, raw_values, t0, fs_in, t_list = model.metric, model.values, model.t0, model.fs, model.t
    spec = METRICS.get(metric)
    if spec is None:
        return f"unknown metric {metric[:64]!r} (known: {', '.join(METRICS)})"
    n = len(raw_values)
    if n == 0:
        return f"{spec.name}: no values"
    if t_list is None and n <= SMALL_SERIES and spec.dims == 1:
        assert t0 is not None
        assert fs_in is not None
        small = _small_series(
            spec, raw_values, t0, fs_in, now_ms=now_ms, max_future_ms=max_future_ms, oldest_ms=oldest_ms
        )
        if small is not None:
            return small
    try:
        values = np.asarray(raw_values, dtype=np.float64)
    except OverflowError:  # an integer past float range (JSON allows 4,300 digits): refused, never raised
        return f"{spec.name}: a value is too large to be a number (range {spec.range_text()})"
    except (ValueError, TypeError):
        shape = "numbers" if spec.dims == 1 else "[x, y, z] triples"
        return f"{spec.name}: values must be {shape}"
    expected_shape = (n,) if spec.dims == 1 else (n, spec.dims)
    if values.shape != expected_shape:
        shape = "numbers" if spec.dims == 1 else "[x, y, z] triples"
        return f"{spec.name}: values must be {shape}"
    if may_hold_booleans and any(type(v) is bool or (type(v) is list and bool in map(type, v)) for v in raw_values):
        return f"{spec.name}: values must be numbers, not booleans"
    low, high = values.min(), values.max()
    if not (spec.low <= low and high <= spec.high and math.isfinite(low) and math.isfinite(high)):
        bad = ~np.isfinite(values) | (values < spec.low) | (values > spec.high)
        flat = int(np.argmax(bad.reshape(n, -1).any(axis=1)))
        shown = values[flat]
        text = f"{shown:g}" if spec.dims == 1 else "[" + ", ".join(f"{v:g}" for v in shown) + "]"
        if not np.all(np.isfinite(values[flat])):
            return f"{spec.name}[{flat}]={text} is not a finite number"
        return f"{spec.name}[{flat}]={text} outside {spec.range_text()}"
    if spec.integer and not np.all(values == np.round(values)):
        flat = int(np.argmax(values != np.round(values)))
        return f"{spec.name}[{flat}]={values[flat]:g} is not an integer"
    if t_list is not None:
        t_ms = np.asarray(t_list, dtype=np.int64)
        fs = None
        last, first = int(t_ms.max()), int(t_ms.min())
    else:
        assert t0 is not None
        assert fs_in is not None
        t_ms = t0 + np.round(np.arange(n, dtype=np.float64) * (1000.0 / fs_in)).astype(np.int64)
        fs = fs_in
        first, last = t0, int(t_ms[-1])
    if last > now_ms + max_future_ms:
        return f"{spec.name}: time {ms_to_iso(last)} is more than {max_future_ms // 1000} s in the future"
    if first < oldest_ms:
        return f"{spec.name}: time {ms_to_iso(first)} is older than the retention window"
    return Series(metric=spec.name, t_ms=t_ms, values=values, fs=fs)


def check_time(name: str, at_ms: int, *, now_ms: int, max_future_ms: int, oldest_ms: int) -> str | None:
    """The reason a single event time is refused, or None."""
    if at_ms > now_ms + max_future_ms:
        return f"{name} {ms_to_iso(at_ms)} is more than {max_future_ms // 1000} s in the future"
    if at_ms < oldest_ms:
        return f"{name} {ms_to_iso(at_ms)} is older than the retention window"
    return None


def count_values(series: list[dict[str, Any]]) -> int:
    total = 0
    for raw in series:
        values = raw.get("values") if isinstance(raw, dict) else None
        if isinstance(values, list):
            total += len(values)
    return total


__all__ = [
    "MAX_VALUES_PER_BATCH",
    "Beacon",
    "DeviceStatus",
    "Photo",
    "Series",
    "SeriesIn",
    "Stage",
    "TelemetryBatch",
    "check_time",
    "count_values",
    "describe",
    "validate_series",
]
