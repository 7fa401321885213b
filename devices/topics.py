"""Topic grammar of the device contract (``aftercare/v1/...``), see docs/device-contract.md."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TOPIC_PREFIX = "aftercare/v1"


class MessageKind(StrEnum):
    TELEMETRY = "telemetry"
    BEACON = "beacon"
    PHOTO = "photo"
    STATUS = "status"


class DeviceKind(StrEnum):
    WEARABLE = "wearable"
    SHOP_GATEWAY = "shop_gateway"


# (collection segment, leaf) -> message kind, and which device kinds may publish it (None: any)
_ROUTES: dict[tuple[str, str], tuple[MessageKind, DeviceKind | None]] = {
    ("wearables", "telemetry"): (MessageKind.TELEMETRY, DeviceKind.WEARABLE),
    ("shops", "beacon"): (MessageKind.BEACON, DeviceKind.SHOP_GATEWAY),
    ("shops", "photo"): (MessageKind.PHOTO, DeviceKind.SHOP_GATEWAY),
    ("devices", "status"): (MessageKind.STATUS, None),
}

#: What ingestion subscribes to: everything under the prefix, so that a message on a topic outside
#: the contract's table (a misconfigured device) is dead-lettered with its reason, not silently lost.
SUBSCRIPTIONS: tuple[str, ...] = ("aftercare/#",)


class TopicError(ValueError):
    """A topic outside the contract; ``str()`` is the reason stored with the dead letter."""


@dataclass(frozen=True, slots=True)
class Topic:
    kind: MessageKind
    device_id: str
    publisher: DeviceKind | None  # the device kind allowed to publish here; None: any registered device


def parse_topic(topic: str) -> Topic:
    """Split a contract topic into its kind and device id, or raise TopicError with the reason."""
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != TOPIC_PREFIX:
        raise TopicError(f"topic {topic[:200]!r} is outside the contract (expected {TOPIC_PREFIX}/<kind>/<id>/<leaf>)")
    route = _ROUTES.get((parts[2], parts[4]))
    if route is None:
        raise TopicError(f"topic {topic[:200]!r} is outside the contract (unknown {parts[2]}/.../{parts[4]})")
    device_id = parts[3]
    if not DEVICE_ID_RE.match(device_id):
        raise TopicError(f"device id {device_id[:80]!r} is not 1-64 characters of A-Z a-z 0-9 _ -")
    return Topic(kind=route[0], device_id=device_id, publisher=route[1])


def topic_for(kind: MessageKind, device_id: str) -> str:
    """The topic a device of ``device_id`` publishes ``kind`` messages on."""
    collection = {"telemetry": "wearables", "beacon": "shops", "photo": "shops", "status": "devices"}[kind.value]
    return f"{TOPIC_PREFIX}/{collection}/{device_id}/{kind.value}"
