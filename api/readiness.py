"""Readiness of one process: its stores answer and each component it runs says it is ready.

The API's `/readyz` and the health server of `aftercare ingest` / `aftercare monitor`
(`aftercare/health_server.py`) answer with the same checks, in the same JSON shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from store.stores import Stores

log = logging.getLogger(__name__)

HealthCheck = Callable[[], tuple[bool, str]]


def readiness(stores: Stores, health_checks: Mapping[str, HealthCheck]) -> tuple[bool, dict[str, object]]:
    """``(ready, body)``: body is ``{"ready": ..., "checks": {name: {"ok": ..., "detail": ...}}}``."""
    checks: dict[str, dict[str, object]] = {
        "state_store": {"ok": stores.state.ping()},
        "timeseries_store": {"ok": stores.timeseries.ping()},
    }
    for name, check in health_checks.items():
        try:
            ok, detail = check()
        except Exception as exc:  # a failing check is "not ready", never an error page
            log.warning("health check %s raised: %s", name, exc)
            # the exception's text (hosts, database names) goes to the log only: /readyz is unauthenticated
            ok, detail = False, f"check raised {type(exc).__name__}"
        checks[name] = {"ok": ok, "detail": detail}
    ready = all(bool(c["ok"]) for c in checks.values())
    return ready, {"ready": ready, "checks": checks}
