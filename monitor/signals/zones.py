"""Heart-rate training zones: the Karvonen formula and time spent in a zone."""

from __future__ import annotations

from typing import NamedTuple

from numpy.typing import ArrayLike

from monitor.signals.series import as_series, sample_durations_ms


class HrZone(NamedTuple):
    """A heart-rate zone ``[lo_bpm, hi_bpm]`` (a plain 2-tuple too)."""

    lo_bpm: float
    hi_bpm: float


def karvonen(resting: float, max_hr: float, intensity_lo: float, intensity_hi: float) -> HrZone:
    """Target zone by the Karvonen (heart-rate reserve) formula, in bpm.

    ``target = resting + intensity * (max_hr - resting)`` for each intensity (fractions 0..1,
    e.g. 0.4 and 0.6 for a moderate rehab zone).
    """
    if not 0.0 <= intensity_lo <= intensity_hi <= 1.0:
        raise ValueError(f"intensities must satisfy 0 <= lo <= hi <= 1: {intensity_lo}, {intensity_hi}")
    if max_hr <= resting:
        raise ValueError(f"max_hr must exceed resting: {max_hr} <= {resting}")
    reserve = max_hr - resting
    return HrZone(resting + intensity_lo * reserve, resting + intensity_hi * reserve)


def time_in_zone_minutes(t_ms: ArrayLike, bpm: ArrayLike, zone: tuple[float, float]) -> float:
    """Minutes with ``lo <= HR <= hi``; each sample stands for the time to the next one, capped
    at 1.5 nominal periods so that gaps in the data do not count."""
    t, v = as_series(t_ms, bpm)
    if t.shape[0] == 0:
        return 0.0
    lo, hi = zone
    durations = sample_durations_ms(t)
    inside = (v >= lo) & (v <= hi)
    return float(durations[inside].sum() / 60_000.0)
