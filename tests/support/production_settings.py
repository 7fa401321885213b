"""The least a production `Settings` needs (secrets of the lengths production asks for, a TLS broker, PostgreSQL):
tests of one production check start from it and change one thing, so a new check elsewhere does not break them."""

from __future__ import annotations

from typing import Final

PRODUCTION: Final[dict[str, str]] = {
    "mode": "production",
    "admin_token": "a-production-admin-token-0123456789",
    "spot_check_seed": "a-spot-check-secret-of-32-bytes-or-more",
    "mqtt_url": "mqtts://aftercare-ingest:pw@mosquitto:8883",
    "state_url": "postgresql://aftercare:pw@postgres:5432/aftercare",
}
