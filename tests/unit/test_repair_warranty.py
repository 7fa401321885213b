"""Warranty terms and expiry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.repair.stages import Severity
from monitor.repair.warranty import add_months, term_months, warranty


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def test_base_and_extended_terms() -> None:
    assert term_months("paint", "moderate") == 36
    assert term_months("paint", "moderate", extended=True) == 54
    assert term_months("mechanical", "minor", extended=True) == 18
    table = {"glass": {Severity.MINOR: 3, Severity.MODERATE: 3, Severity.SEVERE: 3}}
    assert term_months("glass", "minor", extended=True, table=table) == 5  # 4.5 rounded up


def test_expiry_from_delivery() -> None:
    w = warranty("body", "minor", delivered_at_ms=ms(2026, 11, 24, 15, 30))
    assert (w.months, w.extended, w.severity) == (12, False, Severity.MINOR)
    assert w.expires_at_ms == ms(2027, 11, 24, 15, 30)
    assert w.covers(ms(2027, 11, 24, 15, 29))
    assert not w.covers(ms(2027, 11, 24, 15, 30))
    assert not w.covers(ms(2026, 11, 24, 15, 29))
    extended = warranty("body", "minor", delivered_at_ms=ms(2026, 11, 24), extended=True)
    assert extended.expires_at_ms == ms(2028, 5, 24)


def test_month_end_is_clamped() -> None:
    assert add_months(ms(2027, 1, 31), 1) == ms(2027, 2, 28)
    assert add_months(ms(2028, 1, 31), 1) == ms(2028, 2, 29)
    assert add_months(ms(2026, 12, 15), 14) == ms(2028, 2, 15)


def test_unknown_repair_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown repair type 'teleport'"):
        term_months("teleport", "minor")
