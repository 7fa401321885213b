"""Runs the monitors periodically in a thread: each looks at what is new since its last pass.

A monitor is anything with ``name`` and ``run_once(now_ms) -> int`` (the number of items it handled).
One failing monitor is logged and retried on the next pass; it never stops the others, and a monitor
that falls behind never blocks ingestion (they only share the stores).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from prometheus_client import Counter, Histogram

from aftercare.settings import Settings
from devices.timestamps import now_ms
from store.stores import Stores

log = logging.getLogger(__name__)

PASS_SECONDS = Histogram("aftercare_monitor_pass_seconds", "time of one monitor pass", ["monitor"])
FAILURES = Counter("aftercare_monitor_failures_total", "monitor passes that raised", ["monitor"])


class Monitor(Protocol):
    name: str

    def run_once(self, now_ms: int) -> int: ...


def default_monitors(settings: Settings, stores: Stores) -> list[Monitor]:
    from monitor.registry import build_monitors

    return build_monitors(settings, stores)


class MonitorRunner:
    def __init__(self, settings: Settings, stores: Stores, monitors: Sequence[Monitor] | None = None) -> None:
        self.interval_s = settings.monitor_interval_s
        self.monitors = list(monitors) if monitors is not None else default_monitors(settings, stores)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_pass_ms: int | None = None
        self.errors: dict[str, str] = {}  # monitor -> its last failure, until it passes again

    def run_pass(self, at_ms: int | None = None) -> dict[str, int]:
        handled: dict[str, int] = {}
        for m in self.monitors:
            started = time.perf_counter()
            try:
                handled[m.name] = m.run_once(at_ms if at_ms is not None else now_ms())
                self.errors.pop(m.name, None)
            except Exception as exc:
                FAILURES.labels(m.name).inc()
                self.errors[m.name] = str(exc)[:300]
                log.exception("monitor %s failed; retrying next pass", m.name)
            PASS_SECONDS.labels(m.name).observe(time.perf_counter() - started)
        self.last_pass_ms = now_ms()
        return handled

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="monitors", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def health(self) -> tuple[bool, str]:
        failing = "; ".join(f"{name} failing: {error}" for name, error in sorted(self.errors.items()))
        if self.last_pass_ms is None:  # the first pass is still running; a monitor may already have failed in it
            return not self.errors, "starting" + (f"; {failing}" if failing else "")
        age = (now_ms() - self.last_pass_ms) / 1000
        ok = age < max(60.0, 10 * self.interval_s) and not self.errors
        return ok, f"last pass {age:.0f} s ago" + (f"; {failing}" if failing else "")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_pass()
            self._stop.wait(self.interval_s)
