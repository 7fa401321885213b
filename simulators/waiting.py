"""Waiting for a condition, for the simulators, the benchmarks and the tests (one loop, not one per caller)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx


def wait_until(
    predicate: Callable[[], object], timeout: float = 60, interval: float = 0.1, what: str = "condition"
) -> None:
    """Poll ``predicate`` every ``interval`` seconds until it is true; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


def http_answers(url: str, status: int = 200) -> Callable[[], bool]:
    """A predicate: ``GET url`` answers ``status`` (a refused or timed-out request is simply not yet)."""

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == status
        except httpx.HTTPError:
            return False

    return answers
