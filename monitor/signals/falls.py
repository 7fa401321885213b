"""Fall detection from a body-worn accelerometer (g, [x, y, z], ~50 Hz around events).

Method (impact, then lying still, then a changed posture):

1. impact: the magnitude ``|a|`` exceeds ``impact_g`` (2.5 g); samples above it within
   ``refractory_s`` of each other are one impact, timed at its highest sample;
2. stillness: within ``window_s`` (2 s) after the impact a window of ``still_s`` (2 s) starts in
   which the magnitude's standard deviation is below ``still_std_g`` and its mean is near 1 g
   (the body at rest on the floor);
3. orientation (optional, on by default): the mean acceleration vector of that still window
   differs from the one 3 s to 1 s before the impact by at least ``min_orientation_change_deg``
   (upright to lying). When no samples exist before the impact the test is not applied.

Walking (peaks 1.2-2 g), sitting down hard (1.5-2 g) and exercise stay below the impact
threshold; a stumble or jump above it is followed by movement, not stillness.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from monitor.signals.series import TimesMs, Values, as_series

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Fall:
    """A detected fall: impact time (epoch ms), impact peak (g), posture change (degrees)."""

    at_ms: int
    peak_g: float
    orientation_change_deg: float | None
    still_from_ms: int


def _still_window(
    t: TimesMs,
    mag: Values,
    cum: Values,
    cum2: Values,
    impact_ms: int,
    *,
    window_s: float,
    still_s: float,
    still_std_g: float,
) -> tuple[int, int] | None:
    """The first still window ``[j, k)`` starting within ``window_s`` after the impact."""
    first = int(np.searchsorted(t, impact_ms + 300, side="left"))
    last = int(np.searchsorted(t, impact_ms + window_s * 1000.0, side="right"))
    if last <= first:
        return None
    j = np.arange(first, last)
    k = np.searchsorted(t, t[j] + still_s * 1000.0, side="right")
    count = k - j
    covered = t[np.maximum(k - 1, j)] - t[j] >= 0.9 * still_s * 1000.0
    safe = np.maximum(count, 1)
    mean = (cum[k] - cum[j]) / safe
    var = np.maximum((cum2[k] - cum2[j]) / safe - mean**2, 0.0)
    ok = covered & (count >= 3) & (np.sqrt(var) < still_std_g) & (np.abs(mean - 1.0) < 0.3)
    hits = np.flatnonzero(ok)
    if hits.shape[0] == 0:
        return None
    return int(j[hits[0]]), int(k[hits[0]])


def detect_falls(
    t_ms: ArrayLike,
    accel: ArrayLike,
    *,
    impact_g: float = 2.5,
    window_s: float = 2.0,
    still_s: float = 2.0,
    still_std_g: float = 0.05,
    min_orientation_change_deg: float | None = 30.0,
    refractory_s: float = 5.0,
) -> tuple[Fall, ...]:
    """Falls in an accelerometer series (see the module docstring for the rule)."""
    t, a = as_series(t_ms, accel)
    if t.shape[0] < 3 or a.ndim != 2:
        return ()
    mag = np.sqrt(np.einsum("ij,ij->i", a, a))
    above = np.flatnonzero(mag > impact_g)
    if above.shape[0] == 0:
        return ()
    cluster_start = np.concatenate(([True], np.diff(t[above]) > refractory_s * 1000.0))
    bounds = np.flatnonzero(cluster_start)
    cum = np.concatenate(([0.0], np.cumsum(mag)))
    cum2 = np.concatenate(([0.0], np.cumsum(mag**2)))
    falls: list[Fall] = []
    for c0, c1 in zip(bounds, np.concatenate((bounds[1:], [above.shape[0]])), strict=True):
        members = above[c0:c1]
        i = int(members[np.argmax(mag[members])])
        impact_ms = int(t[i])
        still = _still_window(t, mag, cum, cum2, impact_ms, window_s=window_s, still_s=still_s, still_std_g=still_std_g)
        if still is None:
            continue
        j, k = still
        change: float | None = None
        p0 = int(np.searchsorted(t, impact_ms - 3000, side="left"))
        p1 = int(np.searchsorted(t, impact_ms - 1000, side="right"))
        if p1 > p0:
            before = a[p0:p1].mean(axis=0)
            after = a[j:k].mean(axis=0)
            cos = float(before @ after / (np.linalg.norm(before) * np.linalg.norm(after) + 1e-12))
            change = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
            if min_orientation_change_deg is not None and change < min_orientation_change_deg:
                logger.debug("impact at %s: posture change %s deg too small", impact_ms, change)
                continue
        falls.append(
            Fall(
                at_ms=impact_ms,
                peak_g=float(mag[i]),
                orientation_change_deg=change,
                still_from_ms=int(t[j]),
            )
        )
    logger.debug("detect_falls: %s impacts, %s falls", bounds.shape[0], len(falls))
    return tuple(falls)
