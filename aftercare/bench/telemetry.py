"""Contract telemetry for load: wearables registered straight into a state store, and their messages.

Messages follow the device contract (``aftercare/v1/wearables/{device_id}/telemetry``, a telemetry
batch with ``seq`` increasing per device). Timestamps are recent (well inside the retention window,
never in the future) so ingestion stores every message; nothing random, so runs compare.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from devices.timestamps import now_ms
from store.state.engine import StateStore
from store.state.schema import Device, Patient

TOPIC = "aftercare/v1/wearables/{device_id}/telemetry"


def device_id(index: int) -> str:
    return f"bw{index:04d}"


def patient_id(index: int) -> str:
    return f"BP{index:04d}"


def register_wearables(state: StateStore, count: int) -> None:
    """Register ``count`` patients with one wearable each (ids from `patient_id` and `device_id`)."""
    created = now_ms()
    with state.session() as s:
        for i in range(count):
            s.add(
                Patient(
                    id=patient_id(i),
                    name=f"Bench patient {i}",
                    claim_id=f"BC{i:04d}",
                    manager_id="BM1",
                    resting_hr=60,
                    max_hr=180,
                    created_ms=created,
                )
            )
        s.flush()
        for i in range(count):
            s.add(Device(device_id=device_id(i), kind="wearable", patient_id=patient_id(i), created_ms=created))


def heart_rate_batch(seq: int, t0_ms: int, samples: int) -> bytes:
    """One telemetry message: a heart-rate series of ``samples`` values at 1 Hz from ``t0_ms``."""
    values = [60 + (seq + k) % 60 for k in range(samples)]
    doc = {"seq": seq, "series": [{"metric": "heart_rate", "t0": t0_ms, "fs": 1.0, "values": values}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def stream(
    total: int, *, devices: int, samples: int, start_ms: int | None = None, seq_offset: int = 0
) -> Iterator[tuple[str, bytes]]:
    """``total`` messages round-robin over ``devices`` wearables; message i of a device has seq i + offset.

    Each device's messages follow each other in time (``samples`` seconds each), starting a day ago.
    """
    start = start_ms if start_ms is not None else now_ms() - 86_400_000
    for i in range(total):
        dev, k = i % devices, i // devices
        seq = k + seq_offset
        yield TOPIC.format(device_id=device_id(dev)), heart_rate_batch(seq, start + seq * samples * 1000, samples)
