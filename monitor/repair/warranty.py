"""Repair warranty: the term per repair type and severity, extension, expiry from delivery.

Terms are whole calendar months counted from the delivery date (UTC): a warranty delivered
on 31 January with a 1-month term ends on 28 (or 29) February, the day clamped to the month.
An extended warranty lasts 1.5 x the base term, rounded up to whole months.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from monitor.repair.stages import Severity, as_severity

EXTENSION_FACTOR = 1.5

BASE_TERM_MONTHS: Mapping[str, Mapping[Severity, int]] = MappingProxyType(
    {
        "body": MappingProxyType({Severity.MINOR: 12, Severity.MODERATE: 24, Severity.SEVERE: 24}),
        "paint": MappingProxyType({Severity.MINOR: 24, Severity.MODERATE: 36, Severity.SEVERE: 36}),
        "structural": MappingProxyType({Severity.MINOR: 36, Severity.MODERATE: 60, Severity.SEVERE: 60}),
        "mechanical": MappingProxyType({Severity.MINOR: 12, Severity.MODERATE: 12, Severity.SEVERE: 24}),
        "glass": MappingProxyType({Severity.MINOR: 12, Severity.MODERATE: 12, Severity.SEVERE: 12}),
        "adas_calibration": MappingProxyType({Severity.MINOR: 12, Severity.MODERATE: 12, Severity.SEVERE: 12}),
    }
)
"""Base warranty months per repair type and severity (configurable: pass your own table)."""


@dataclass(frozen=True, slots=True)
class Warranty:
    """A repair's warranty: ``months`` of term, valid from delivery to expiry (epoch ms)."""

    repair_type: str
    severity: Severity
    months: int
    extended: bool
    starts_at_ms: int
    expires_at_ms: int

    def covers(self, at_ms: int) -> bool:
        """True when ``at_ms`` falls within the warranty."""
        return self.starts_at_ms <= at_ms < self.expires_at_ms


def add_months(at_ms: int, months: int) -> int:
    """``at_ms`` moved ``months`` calendar months later (UTC), the day clamped to the month."""
    moment = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return round(moment.replace(year=year, month=month, day=day).timestamp() * 1000)


def term_months(
    repair_type: str,
    severity: str,
    *,
    extended: bool = False,
    table: Mapping[str, Mapping[Severity, int]] = BASE_TERM_MONTHS,
) -> int:
    """Warranty months for ``repair_type`` at ``severity``; 1.5x rounded up when extended."""
    try:
        base = table[repair_type][as_severity(severity)]
    except KeyError:
        raise ValueError(f"unknown repair type {repair_type!r}; expected one of {', '.join(table)}") from None
    return math.ceil(base * EXTENSION_FACTOR) if extended else base


def warranty(
    repair_type: str,
    severity: str,
    *,
    delivered_at_ms: int,
    extended: bool = False,
    table: Mapping[str, Mapping[Severity, int]] = BASE_TERM_MONTHS,
) -> Warranty:
    """The warranty of a repair delivered at ``delivered_at_ms``."""
    months = term_months(repair_type, severity, extended=extended, table=table)
    return Warranty(
        repair_type=repair_type,
        severity=as_severity(severity),
        months=months,
        extended=extended,
        starts_at_ms=delivered_at_ms,
        expires_at_ms=add_months(delivered_at_ms, months),
    )
