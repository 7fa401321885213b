"""Courtesy-car entitlement: when the claimant gets a replacement car during the repair.

Entitled when the car is not drivable (it cannot be used while waiting for a bay either), or
when the predicted repair takes longer than ``threshold_days`` (calendar days, from the
prediction's elapsed hours). Otherwise not, and the reason says by how much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor.repair.prediction import HOUR_MS

DEFAULT_THRESHOLD_DAYS = 3.0
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True, slots=True)
class CourtesyEntitlement:
    """Whether a courtesy car is due, why, and for how many days (the predicted repair
    duration rounded up; 0 when not entitled)."""

    entitled: bool
    reason: str
    predicted_days: float
    days: int


def courtesy_entitlement(
    *,
    drivable: bool,
    now_ms: int,
    predicted_completion_ms: int,
    threshold_days: float = DEFAULT_THRESHOLD_DAYS,
) -> CourtesyEntitlement:
    """Decide the courtesy-car entitlement of a job predicted to finish at the given time."""
    predicted_days = max(0.0, (predicted_completion_ms - now_ms) / DAY_MS)
    days = max(1, math.ceil(predicted_days))
    if not drivable:
        return CourtesyEntitlement(
            True, f"car not drivable; repair predicted to take {predicted_days:.1f} days", predicted_days, days
        )
    if predicted_days > threshold_days:
        return CourtesyEntitlement(
            True, f"repair predicted to take {predicted_days:.1f} days > {threshold_days:g} days", predicted_days, days
        )
    return CourtesyEntitlement(
        False,
        f"car drivable and repair predicted to take {predicted_days:.1f} days <= {threshold_days:g} days",
        predicted_days,
        0,
    )
