"""Query parameters of time: RFC 3339 or epoch ms for instants, ``30s``/``5m``/``1h``/``1d`` for durations."""

from __future__ import annotations

import re

from fastapi import HTTPException

from devices.timestamps import to_epoch_ms

_DURATION = re.compile(r"^(\d{1,9})(ms|s|m|h|d)?$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, None: 1000}


def parse_instant(name: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return to_epoch_ms(int(value) if value.isdigit() else value)
    except ValueError as exc:
        raise HTTPException(422, f"{name}: {exc}") from None


def parse_duration_ms(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    match = _DURATION.match(value.strip())
    if match is None:
        raise HTTPException(422, f"{name}: {value[:40]!r} is not a duration like 30s, 5m, 1h or 1d")
    ms = int(match.group(1)) * _UNIT_MS[match.group(2)]
    if ms <= 0:
        raise HTTPException(422, f"{name}: must be positive")
    return ms
