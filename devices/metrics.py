"""The contract's telemetry metrics: units, value shapes and valid ranges."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    unit: str
    dims: int  # 1 for a number, 3 for [x, y, z]
    low: float
    high: float
    integer: bool = False

    def range_text(self) -> str:
        return f"{self.low:g}..{self.high:g}"


_INF = float("inf")

METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("heart_rate", "beats/min", 1, 20, 250),
        MetricSpec("rr_interval", "ms", 1, 200, 2000),
        MetricSpec("spo2", "%", 1, 50, 100),
        MetricSpec("skin_temperature", "°C", 1, 25, 45),
        MetricSpec("steps", "steps", 1, 0, 1000, integer=True),
        MetricSpec("accel", "g", 3, -16, 16),
        MetricSpec("gyro", "deg/s", 3, -2000, 2000),
        MetricSpec("joint_angle", "degrees", 1, -30, 180),
        MetricSpec("ppg", "counts", 1, -_INF, _INF),
    )
}

MAX_VALUES_PER_BATCH = 10_000
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_PHOTO_BYTES = 8 * 1024 * 1024
