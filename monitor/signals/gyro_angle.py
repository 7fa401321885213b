"""A knee flexion angle (degrees) from a shank gyroscope (deg/s), for exercise without a brace.

Method, per gap-free segment:

1. project the 3-axis rate on the sagittal axis: the given ``axis``, or the principal axis of
   the rotation (the eigenvector of the largest eigenvalue of the rates' covariance), which works
   whatever the sensor's orientation on the leg;
2. remove the gyro bias (the median rate: flexion and extension cancel) and integrate
   (cumulative trapezoid, degrees);
3. remove the remaining drift, a high-pass that keeps the repetitions intact: subtract the
   rolling lower envelope of the angle (the minimum over ``baseline_s``, then averaged over the
   same window), which follows the resting angle between reps. The sign is chosen so that
   flexion, the excursion away from rest, is positive: the orientation in which the angle stays
   closest to its lower envelope (the patient rests more than he flexes).

The absolute angle is unknown, only its changes, which is what repetition counting and ROM
(peak minus trough) need.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import ArrayLike

from monitor.signals.series import TimesMs, Values, as_series, contiguous_segments


def _above_envelope(angle: Values, size: int) -> Values:
    low = scipy.ndimage.minimum_filter1d(angle, size=size, mode="nearest")
    baseline = scipy.ndimage.uniform_filter1d(low, size=size, mode="nearest")
    return np.asarray(angle - baseline, dtype=np.float64)


def sagittal_angle_from_gyro(
    t_ms: ArrayLike,
    gyro_dps: ArrayLike,
    *,
    axis: int | None = None,
    baseline_s: float = 10.0,
    max_gap_ms: float = 200.0,
    min_segment_s: float = 10.0,
) -> tuple[TimesMs, Values]:
    """(t_ms, relative flexion angle in degrees) from a gyroscope; see the module docstring."""
    t, g = as_series(t_ms, gyro_dps)
    if t.shape[0] < 3 or g.ndim != 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    out_t: list[TimesMs] = []
    out_a: list[Values] = []
    for start, stop in contiguous_segments(t, max_gap_ms):
        seg_t = t[start:stop]
        if seg_t.shape[0] < 3 or seg_t[-1] - seg_t[0] < min_segment_s * 1000.0:
            continue
        seg_g = g[start:stop]
        if axis is None:
            _, vectors = np.linalg.eigh(np.cov(seg_g.T))
            rate = seg_g @ vectors[:, -1]
        else:
            rate = seg_g[:, axis]
        rate = rate - np.median(rate)
        secs = (seg_t - seg_t[0]).astype(np.float64) / 1000.0
        angle = np.concatenate(([0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(secs))))
        fs = 1000.0 / float(np.median(np.diff(seg_t)))
        size = max(3, int(baseline_s * fs))
        up = _above_envelope(angle, size)
        down = _above_envelope(-angle, size)
        out_t.append(seg_t)
        out_a.append(up if np.median(up) <= np.median(down) else down)
    if not out_t:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(out_t), np.concatenate(out_a)
