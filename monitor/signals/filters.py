"""Zero-phase Butterworth filtering (second-order sections), with the designs cached.

Designs are keyed by (order, cutoff, type, sampling rate rounded to 0.01 Hz), so filtering many
segments at the same rate designs the filter once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.signal  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray

from monitor.signals.series import Values


@lru_cache(maxsize=64)
def _design(order: int, cutoff: float | tuple[float, float], btype: str, fs: float) -> NDArray[np.float64]:
    return np.asarray(scipy.signal.butter(order, cutoff, btype=btype, fs=fs, output="sos"), dtype=np.float64)


def butter_sos(order: int, cutoff_hz: float | tuple[float, float], btype: str, fs_hz: float) -> NDArray[np.float64]:
    """Second-order sections of a Butterworth ``btype`` filter ("lowpass", "highpass",
    "bandpass") with cutoff(s) in Hz at sampling rate ``fs_hz``."""
    return _design(order, cutoff_hz, btype, round(fs_hz, 2))


def zero_phase(
    x: Values, order: int, cutoff_hz: float | tuple[float, float], btype: str, fs_hz: float
) -> Values | None:
    """``x`` filtered forward and backward (no delay, squared magnitude response), or None
    when ``x`` is too short for the filter's padding."""
    sos = butter_sos(order, cutoff_hz, btype, fs_hz)
    if x.shape[0] <= 3 * (2 * sos.shape[0] + 1):
        return None
    return np.asarray(scipy.signal.sosfiltfilt(sos, x), dtype=np.float64)
