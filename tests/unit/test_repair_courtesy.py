"""Courtesy-car entitlement."""

from __future__ import annotations

from monitor.repair.courtesy import DAY_MS, courtesy_entitlement

NOW = 1_795_500_000_000


def test_not_drivable_is_always_entitled() -> None:
    result = courtesy_entitlement(drivable=False, now_ms=NOW, predicted_completion_ms=NOW + DAY_MS // 2)
    assert result.entitled
    assert result.reason == "car not drivable; repair predicted to take 0.5 days"
    assert result.days == 1


def test_long_repair_is_entitled() -> None:
    result = courtesy_entitlement(drivable=True, now_ms=NOW, predicted_completion_ms=NOW + 4 * DAY_MS + DAY_MS // 2)
    assert result.entitled
    assert result.reason == "repair predicted to take 4.5 days > 3 days"
    assert result.days == 5


def test_short_repair_of_a_drivable_car_is_not() -> None:
    result = courtesy_entitlement(drivable=True, now_ms=NOW, predicted_completion_ms=NOW + 2 * DAY_MS)
    assert not result.entitled
    assert result.reason == "car drivable and repair predicted to take 2.0 days <= 3 days"
    assert result.days == 0
    exactly = courtesy_entitlement(drivable=True, now_ms=NOW, predicted_completion_ms=NOW + 3 * DAY_MS)
    assert not exactly.entitled
    lower = courtesy_entitlement(
        drivable=True, now_ms=NOW, predicted_completion_ms=NOW + 2 * DAY_MS, threshold_days=1.5
    )
    assert lower.entitled
