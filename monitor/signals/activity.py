"""Active minutes: minutes with walking cadence or accelerometer activity above a threshold.

Activity from the accelerometer is the ENMO (Euclidean norm minus one, ``max(|a| - 1 g, 0)``, in
g) averaged over each epoch minute; 0.1 g is a common moderate-activity cut point.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from monitor.signals.series import TimesMs, Values, as_series

MS_PER_MIN = 60_000


def enmo_per_minute(t_ms: ArrayLike, accel: ArrayLike) -> tuple[TimesMs, Values]:
    """(epoch minute indices, mean ENMO in g) for the minutes with accelerometer samples."""
    t, a = as_series(t_ms, accel)
    if t.shape[0] == 0 or a.ndim != 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    enmo = np.maximum(np.sqrt(np.einsum("ij,ij->i", a, a)) - 1.0, 0.0)
    uniq, inv = np.unique(t // MS_PER_MIN, return_inverse=True)
    return uniq.astype(np.int64), np.bincount(inv, weights=enmo) / np.bincount(inv)


def active_minutes(
    *,
    step_times_ms: ArrayLike | None = None,
    device_steps: tuple[ArrayLike, ArrayLike] | None = None,
    accel: tuple[ArrayLike, ArrayLike] | None = None,
    min_steps_per_min: float = 60.0,
    enmo_threshold_g: float = 0.1,
) -> NDArray[np.int64]:
    """Sorted epoch-minute indices (``t_ms // 60000``) that were active.

    A minute is active when it holds at least ``min_steps_per_min`` steps (detected step times,
    or a device ``steps`` metric binned by its sample times) or when its mean ENMO is at least
    ``enmo_threshold_g``.
    """
    found: list[NDArray[np.int64]] = []
    if step_times_ms is not None:
        st = np.asarray(step_times_ms, dtype=np.int64).ravel()
        if st.shape[0]:
            uniq, counts = np.unique(st // MS_PER_MIN, return_counts=True)
            found.append(uniq[counts >= min_steps_per_min].astype(np.int64))
    if device_steps is not None:
        t, c = as_series(*device_steps)
        if t.shape[0]:
            uniq, inv = np.unique(t // MS_PER_MIN, return_inverse=True)
            per_min = np.bincount(inv, weights=np.maximum(c, 0.0))
            found.append(uniq[per_min >= min_steps_per_min].astype(np.int64))
    if accel is not None:
        minutes, enmo = enmo_per_minute(*accel)
        found.append(minutes[enmo >= enmo_threshold_g])
    if not found:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(found)).astype(np.int64)
