"""Heart beats and heart rate from a photoplethysmogram (PPG, raw counts, e.g. 25-50 Hz).

Method, per gap-free segment: remove the mean, band-pass 0.5-5 Hz (2nd-order Butterworth,
zero-phase so beat timing is not shifted), find candidate peaks with ``scipy.signal.find_peaks``
(minimum distance one beat at ``max_hr_bpm``), keep those whose prominence is at least
``rel_prominence`` x the largest prominence among the 9 surrounding candidates (systolic peaks
stand out; the dicrotic wave and noise do not; this adapts to the pulse amplitude), refine each
peak time by parabolic interpolation (sub-sample precision at 25 Hz), and take the inter-beat
intervals (IBI, ms). Heart rate then follows as from RR
intervals, including the ectopic/artifact rejection of :mod:`monitor.signals.hrv`.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.ndimage  # type: ignore[import-untyped, unused-ignore]
import scipy.signal  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import ArrayLike

from monitor.signals.filters import zero_phase
from monitor.signals.heart import hr_from_rr
from monitor.signals.series import TimesMs, Values, as_series, contiguous_segments

logger = logging.getLogger(__name__)

_EMPTY_T: TimesMs = np.zeros(0, dtype=np.int64)
_EMPTY_V: Values = np.zeros(0, dtype=np.float64)


def ppg_beats(
    t_ms: ArrayLike,
    ppg: ArrayLike,
    *,
    band_hz: tuple[float, float] = (0.5, 5.0),
    max_hr_bpm: float = 220.0,
    rel_prominence: float = 0.5,
    min_segment_s: float = 5.0,
) -> tuple[TimesMs, Values]:
    """Beat times (epoch ms) and the inter-beat interval ending at each beat (ms).

    The first beat of every gap-free segment has no interval and is not returned, so no interval
    spans a gap. Segments shorter than ``min_segment_s`` or sampled below 2.5 x the upper band
    edge are skipped.
    """
    t, v = as_series(t_ms, ppg)
    if t.shape[0] < 3 or v.ndim != 1:
        return _EMPTY_T.copy(), _EMPTY_V.copy()
    period_ms = float(np.median(np.diff(t)))
    beat_times: list[Values] = []
    intervals: list[Values] = []
    for start, stop in contiguous_segments(t, 2.5 * period_ms):
        seg_t = t[start:stop]
        if seg_t.shape[0] < 3:
            continue
        dt_ms = float(np.median(np.diff(seg_t)))
        fs = 1000.0 / dt_ms
        if (seg_t[-1] - seg_t[0]) < min_segment_s * 1000.0 or fs < 2.5 * band_hz[1]:
            continue
        x = v[start:stop] - v[start:stop].mean()
        y = zero_phase(x, 2, band_hz, "bandpass", fs)
        if y is None:
            continue
        distance = max(1, int(np.floor(fs * 60.0 / max_hr_bpm)))
        peaks, props = scipy.signal.find_peaks(y, distance=distance, prominence=0.0)
        if peaks.shape[0] == 0:
            continue
        # a systolic peak stands out from its neighbours; a dicrotic wave or noise does not
        prom = props["prominences"]
        local_max = scipy.ndimage.maximum_filter1d(prom, size=9, mode="nearest")
        peaks = peaks[prom >= rel_prominence * local_max]
        peaks = peaks[(peaks > 0) & (peaks < y.shape[0] - 1)]
        if peaks.shape[0] < 2:
            continue
        y0, y1, y2 = y[peaks - 1], y[peaks], y[peaks + 1]
        denom = y0 - 2.0 * y1 + y2
        offset = np.divide(0.5 * (y0 - y2), denom, out=np.zeros_like(denom), where=denom != 0)
        offset = np.clip(offset, -0.5, 0.5)
        times = seg_t[peaks].astype(np.float64) + offset * dt_ms
        beat_times.append(times[1:])
        intervals.append(np.diff(times))
    if not beat_times:
        return _EMPTY_T.copy(), _EMPTY_V.copy()
    bt = np.concatenate(beat_times)
    ibi = np.concatenate(intervals)
    logger.debug("ppg_beats: %s beats", bt.shape[0])
    return np.round(bt).astype(np.int64), ibi


def hr_from_ppg(t_ms: ArrayLike, ppg: ArrayLike, *, window_s: float = 8.0) -> tuple[TimesMs, Values]:
    """Heart rate in bpm at 1 Hz from a PPG: :func:`ppg_beats` then
    :func:`monitor.signals.heart.hr_from_rr` (beat count over beat time in a centred window)."""
    beat_t, ibi = ppg_beats(t_ms, ppg)
    return hr_from_rr(beat_t, ibi, window_s=window_s)
