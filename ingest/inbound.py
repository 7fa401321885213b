"""The library's MQTT message turned into a plain frozen value at the boundary."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int  # which connection delivered it; acks of an older connection are meaningless
    received_ms: int
