"""What the API needs from the rest of the platform, handed in by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api.events import EventHub
from store.broker_accounts import DeviceAccounts
from store.stores import Stores


@dataclass
class AppContext:
    stores: Stores
    admin_token: str
    max_photo_bytes: int = 8 * 1024 * 1024
    #: returns readiness of components running in this process (ingest: connected, store ok)
    health_checks: dict[str, Callable[[], tuple[bool, str]]] = field(default_factory=dict)
    hub: EventHub = field(default_factory=EventHub)
    #: device accounts on the broker (Mosquitto's dynamic security); None: the broker's accounts are not managed
    device_accounts: DeviceAccounts | None = None
    extras: dict[str, Any] = field(default_factory=dict)
