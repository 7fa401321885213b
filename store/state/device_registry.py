"""The device registry: which device ids exist, of which kind, bound to which patient or shop.

Ingestion asks it for every message, so lookups are cached in memory; unknown ids are cached
negatively for a short while so a flood from an unregistered device does not hammer the database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from devices.topics import DeviceKind
from store.state.engine import StateStore
from store.state.schema import Device


@dataclass(frozen=True, slots=True)
class RegisteredDevice:
    device_id: str
    kind: DeviceKind
    patient_id: str | None
    shop_id: str | None

    @property
    def subject(self) -> str:
        """Whose data it is: the patient of a wearable, the shop of a gateway."""
        return self.patient_id or self.shop_id or self.device_id


class DeviceRegistry:
    def __init__(self, state: StateStore, *, negative_ttl_s: float = 2.0) -> None:
        self._state = state
        self._known: dict[str, RegisteredDevice] = {}
        self._unknown_until: dict[str, float] = {}
        self._negative_ttl_s = negative_ttl_s
        self._lock = threading.Lock()

    def lookup(self, device_id: str) -> RegisteredDevice | None:
        found = self._known.get(device_id)
        if found is not None:
            return found
        now = time.monotonic()
        if self._unknown_until.get(device_id, 0.0) > now:
            return None
        with self._state.session() as session:
            row = session.execute(select(Device).where(Device.device_id == device_id)).scalar_one_or_none()
        with self._lock:
            if row is None:
                if len(self._unknown_until) > 100_000:
                    self._unknown_until.clear()
                self._unknown_until[device_id] = now + self._negative_ttl_s
                return None
            device = RegisteredDevice(row.device_id, DeviceKind(row.kind), row.patient_id, row.shop_id)
            self._known[device_id] = device
            self._unknown_until.pop(device_id, None)
        return device
