"""Heart rate: from RR intervals, resting heart rate, recovery after exercise, sustained peaks.

Heart-rate series are ``(t_ms, bpm)`` pairs, usually at 1 Hz. RR series are ``(t_ms, rr_ms)``
with one time per beat (see :mod:`monitor.signals.hrv`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from monitor.signals.hrv import clean_rr
from monitor.signals.runs import fill_short_false_runs
from monitor.signals.series import TimesMs, Values, as_series, nominal_period_ms

logger = logging.getLogger(__name__)

MS_PER_MIN = 60_000
_EMPTY_T: TimesMs = np.zeros(0, dtype=np.int64)
_EMPTY_V: Values = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class SessionHeartRate:
    """Heart rate around one exercise session (bpm).

    ``recovery_bpm`` is the heart-rate recovery: HR at the session end minus HR ``delay_s``
    (60 s) later, each the median of the samples within +/- 5 s; None when either is missing.
    """

    start_ms: int
    end_ms: int
    mean_bpm: float | None
    max_bpm: float | None
    hr_end_bpm: float | None
    hr_after_bpm: float | None
    recovery_bpm: float | None


@dataclass(frozen=True, slots=True)
class SustainedHr:
    """The highest heart rate held for a whole window: every sample in the window was >= bpm."""

    bpm: float
    start_ms: int
    duration_s: float


@dataclass(frozen=True, slots=True)
class HrEpisode:
    """A stretch of time with heart rate above a threshold (bpm), start and end in epoch ms."""

    start_ms: int
    end_ms: int
    peak_bpm: float
    mean_bpm: float

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0


def hr_from_rr(
    t_ms: ArrayLike,
    rr_ms: ArrayLike,
    *,
    window_s: float = 8.0,
    min_beats: int = 3,
) -> tuple[TimesMs, Values]:
    """Heart rate in bpm at 1 Hz (whole epoch seconds) from beat-to-beat RR intervals.

    The RR series is cleaned first (:func:`monitor.signals.hrv.clean_rr`). At each whole second
    ``g`` the heart rate is ``60000 * n / sum(NN)`` over the ``n`` accepted beats in
    ``[g - window_s/2, g + window_s/2]``: the beat count over the time those beats took, which
    averages out respiratory sinus arrhythmia. Seconds with fewer than ``min_beats`` beats in
    their window (gaps) are left out.
    """
    clean = clean_rr(t_ms, rr_ms)
    bt = clean.nn_t_ms
    ibi = clean.nn_ms
    if bt.shape[0] < max(1, min_beats):
        return _EMPTY_T.copy(), _EMPTY_V.copy()
    first = -(-int(bt[0]) // 1000) * 1000
    last = int(bt[-1]) // 1000 * 1000
    if last < first:
        grid = np.array([int(bt[0]) // 1000 * 1000], dtype=np.int64)
    elif last - first <= 8 * 86_400_000:
        grid = np.arange(first, last + 1, 1000, dtype=np.int64)
    else:  # very long spans: only the seconds that hold a beat
        grid = np.unique(bt // 1000 * 1000)
    # each interval is placed at its midpoint, so the window is centred on the beats it averages
    mid = np.maximum.accumulate(bt.astype(np.float64) - ibi / 2.0)
    half = window_s * 500.0
    lo = np.searchsorted(mid, grid - half, side="left")
    hi = np.searchsorted(mid, grid + half, side="right")
    count = hi - lo
    cum = np.concatenate(([0.0], np.cumsum(ibi)))
    total = cum[hi] - cum[lo]
    ok = count >= min_beats
    bpm = 60_000.0 * count[ok] / total[ok]
    return grid[ok], bpm.astype(np.float64)


def minute_means(t_ms: ArrayLike, bpm: ArrayLike) -> tuple[TimesMs, Values]:
    """Mean of the samples in each epoch minute: (minute index = t_ms // 60000, mean bpm)."""
    t, v = as_series(t_ms, bpm)
    if t.shape[0] == 0:
        return _EMPTY_T.copy(), _EMPTY_V.copy()
    minutes = t // MS_PER_MIN
    uniq, inv = np.unique(minutes, return_inverse=True)
    sums = np.bincount(inv, weights=v)
    counts = np.bincount(inv)
    return uniq.astype(np.int64), sums / counts


def resting_hr(
    t_ms: ArrayLike,
    bpm: ArrayLike,
    *,
    active_minutes: ArrayLike | None = None,
    window_min: int = 5,
    percentile: float = 10.0,
    recovery_min: int = 10,
) -> float | None:
    """Resting heart rate in bpm: a low percentile of the rolling ``window_min``-minute means.

    Method: minute means of the heart rate; minutes listed in ``active_minutes`` (epoch minute
    indices, e.g. walking or exercise) and the ``recovery_min`` minutes after each are left out;
    the means of every run of ``window_min`` consecutive remaining minutes are formed and their
    ``percentile`` (10th) is returned. That is close to the lowest 5-minute mean but not driven
    by one noisy window. Falls back to the percentile of the minute means when no full window
    exists; None without data.
    """
    minutes, means = minute_means(t_ms, bpm)
    if minutes.shape[0] == 0:
        return None
    base = int(minutes[0])
    span = int(minutes[-1]) - base + 1
    dense = np.full(span, np.nan)
    dense[minutes - base] = means
    if active_minutes is not None:
        act = np.asarray(active_minutes, dtype=np.int64).ravel() - base
        act = act[(act >= 0) & (act < span)]
        if act.shape[0]:
            marks = np.zeros(span, dtype=np.int64)
            marks[act] = 1
            cum = np.concatenate(([0], np.cumsum(marks)))
            idx = np.arange(span)
            recent = cum[idx + 1] - cum[np.maximum(idx - recovery_min, 0)]
            dense[recent > 0] = np.nan
    remaining = dense[np.isfinite(dense)]
    if remaining.shape[0] == 0:
        return None
    if span >= window_min:
        rolling = sliding_window_view(dense, window_min).mean(axis=1)
        rolling = rolling[np.isfinite(rolling)]
        if rolling.shape[0]:
            return float(np.percentile(rolling, percentile))
    return float(np.percentile(remaining, percentile))


def _median_near(t: TimesMs, v: Values, at_ms: float, half_ms: float) -> float | None:
    lo = int(np.searchsorted(t, at_ms - half_ms, side="left"))
    hi = int(np.searchsorted(t, at_ms + half_ms, side="right"))
    if hi <= lo:
        return None
    return float(np.median(v[lo:hi]))


def hr_recovery(
    t_ms: ArrayLike,
    bpm: ArrayLike,
    end_ms: int,
    *,
    delay_s: float = 60.0,
    half_window_s: float = 5.0,
) -> float | None:
    """Heart-rate recovery in bpm: HR at ``end_ms`` minus HR ``delay_s`` later.

    Each HR is the median of the samples within +/- ``half_window_s``; None when either is missing.
    """
    return session_heart_rate(t_ms, bpm, end_ms, end_ms, delay_s=delay_s, half_window_s=half_window_s).recovery_bpm


def session_heart_rate(
    t_ms: ArrayLike,
    bpm: ArrayLike,
    start_ms: int,
    end_ms: int,
    *,
    delay_s: float = 60.0,
    half_window_s: float = 5.0,
) -> SessionHeartRate:
    """Mean and max HR during ``[start_ms, end_ms]`` and the recovery after it (see the class)."""
    t, v = as_series(t_ms, bpm)
    lo = int(np.searchsorted(t, start_ms, side="left"))
    hi = int(np.searchsorted(t, end_ms, side="right"))
    inside = v[lo:hi]
    half = half_window_s * 1000.0
    at_end = _median_near(t, v, end_ms, half)
    after = _median_near(t, v, end_ms + delay_s * 1000.0, half)
    return SessionHeartRate(
        start_ms=int(start_ms),
        end_ms=int(end_ms),
        mean_bpm=float(inside.mean()) if inside.shape[0] else None,
        max_bpm=float(inside.max()) if inside.shape[0] else None,
        hr_end_bpm=at_end,
        hr_after_bpm=after,
        recovery_bpm=None if at_end is None or after is None else at_end - after,
    )


def per_second(t_ms: TimesMs, v: Values, *, max_fill_s: int = 5) -> tuple[int, Values]:
    """Resample a sorted series onto whole epoch seconds: (first second, dense values).

    Each second holds the mean of its samples; a missing second takes the last value when that
    is at most ``max_fill_s`` seconds old, otherwise NaN (a gap).
    """
    sec = t_ms // 1000
    base = int(sec[0])
    span = int(sec[-1]) - base + 1
    idx = sec - base
    sums = np.bincount(idx, weights=v, minlength=span)
    counts = np.bincount(idx, minlength=span)
    dense = np.divide(sums, counts, out=np.full(span, np.nan), where=counts > 0)
    valid = counts > 0
    last = np.maximum.accumulate(np.where(valid, np.arange(span), -1))
    age = np.arange(span) - last
    fill = (~valid) & (last >= 0) & (age <= max_fill_s)
    dense[fill] = dense[last[fill]]
    return base, dense


def max_sustained_hr(
    t_ms: ArrayLike, bpm: ArrayLike, *, min_duration_s: int = 60, max_fill_s: int = 5
) -> SustainedHr | None:
    """The highest heart rate sustained for ``min_duration_s`` seconds (bpm).

    The series is put on a 1 s grid (:func:`per_second`); for every window of ``min_duration_s``
    seconds with no gap the minimum is taken, and the largest of those minima is returned with
    the start of its window. None when no gap-free window of that length exists.
    """
    t, v = as_series(t_ms, bpm)
    if t.shape[0] == 0 or min_duration_s < 1:
        return None
    if int(t[-1] - t[0]) > 40 * 86_400_000:
        logger.warning("max_sustained_hr: span over 40 days, skipped")
        return None
    base, dense = per_second(t, v, max_fill_s=max_fill_s)
    if dense.shape[0] < min_duration_s:
        return None
    windows = sliding_window_view(np.where(np.isfinite(dense), dense, -np.inf), min_duration_s)
    minima = windows.min(axis=1)
    best = int(np.argmax(minima))
    if not np.isfinite(minima[best]):
        return None
    return SustainedHr(bpm=float(minima[best]), start_ms=(base + best) * 1000, duration_s=float(min_duration_s))


def sustained_above(
    t_ms: ArrayLike,
    bpm: ArrayLike,
    threshold_bpm: float,
    *,
    min_duration_s: float = 60.0,
    max_gap_s: float = 5.0,
    max_dip_s: float = 5.0,
) -> tuple[HrEpisode, ...]:
    """Episodes with heart rate above ``threshold_bpm`` lasting at least ``min_duration_s``.

    Dips below the threshold of at most ``max_dip_s`` do not end an episode (noise); a gap in
    the data longer than ``max_gap_s`` does.
    """
    t, v = as_series(t_ms, bpm)
    n = t.shape[0]
    if n == 0:
        return ()
    mask = fill_short_false_runs(v > threshold_bpm, t, max_dip_s * 1000.0 + 1.0)
    brk = np.concatenate(([False], np.diff(t) > max_gap_s * 1000.0))
    prev_ok = np.concatenate(([False], mask[:-1])) & ~brk
    next_ok = np.concatenate((mask[1:] & ~brk[1:], [False]))
    starts = np.flatnonzero(mask & ~prev_ok)
    stops = np.flatnonzero(mask & ~next_ok) + 1
    period = nominal_period_ms(t)
    duration = t[stops - 1] - t[starts] + period
    keep = duration >= min_duration_s * 1000.0
    episodes = []
    for a, b in zip(starts[keep], stops[keep], strict=True):
        seg = v[a:b]
        episodes.append(
            HrEpisode(
                start_ms=int(t[a]),
                end_ms=int(t[b - 1] + period),
                peak_bpm=float(seg.max()),
                mean_bpm=float(seg.mean()),
            )
        )
    return tuple(episodes)
