"""Oxygen saturation (SpO2, %, ~1 Hz): desaturation events and time below 90 %.

Method: a 5-sample running median removes dips of one or two samples (sensor noise); a sample is
desaturated when it is below ``threshold_pct`` (90 %) or at least ``drop_pct`` (4) points below
the baseline (the median of the window, or the patient's baseline when passed). Holes of at most
``merge_s`` seconds inside a desaturation are closed; an event is a desaturated run of at least
``min_duration_s`` (10 s) that does not cross a gap in the data longer than ``max_gap_s``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.ndimage  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import ArrayLike, NDArray

from monitor.signals.runs import fill_short_false_runs
from monitor.signals.series import TimesMs, Values, as_series, nominal_period_ms, sample_durations_ms

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Desaturation:
    """One desaturation event: ``[start_ms, end_ms)`` epoch ms, its lowest SpO2 (%) and when."""

    start_ms: int
    end_ms: int
    nadir_pct: float
    nadir_ms: int
    baseline_pct: float

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0


def smoothed_spo2(t_ms: ArrayLike, spo2: ArrayLike) -> tuple[TimesMs, Values]:
    """The cleaned SpO2 series after a 5-sample running median (1-2 sample dips removed)."""
    t, v = as_series(t_ms, spo2)
    if v.shape[0] >= 3:
        v = np.asarray(scipy.ndimage.median_filter(v, size=5, mode="nearest"), dtype=np.float64)
    return t, v


def desaturations(
    t_ms: ArrayLike,
    spo2: ArrayLike,
    *,
    baseline_pct: float | None = None,
    threshold_pct: float = 90.0,
    drop_pct: float = 4.0,
    min_duration_s: float = 10.0,
    merge_s: float = 3.0,
    max_gap_s: float = 5.0,
) -> tuple[Desaturation, ...]:
    """Desaturation events of an SpO2 series (see the module docstring for the rule)."""
    t, v = smoothed_spo2(t_ms, spo2)
    n = t.shape[0]
    if n == 0:
        return ()
    base = float(np.median(v)) if baseline_pct is None else float(baseline_pct)
    starts, stops = low_runs(
        t, v, baseline_pct=base, threshold_pct=threshold_pct, drop_pct=drop_pct, merge_s=merge_s, max_gap_s=max_gap_s
    )
    period = nominal_period_ms(t)
    duration = t[stops - 1] - t[starts] + period
    keep = duration >= min_duration_s * 1000.0
    events = []
    for a, b in zip(starts[keep], stops[keep], strict=True):
        k = a + int(np.argmin(v[a:b]))
        events.append(
            Desaturation(
                start_ms=int(t[a]),
                end_ms=int(t[b - 1] + period),
                nadir_pct=float(v[k]),
                nadir_ms=int(t[k]),
                baseline_pct=base,
            )
        )
    logger.debug("desaturations: %s events, baseline %s", len(events), base)
    return tuple(events)


def low_runs(
    t: TimesMs,
    smoothed: Values,
    *,
    baseline_pct: float,
    threshold_pct: float = 90.0,
    drop_pct: float = 4.0,
    merge_s: float = 3.0,
    max_gap_s: float = 5.0,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The runs ``[start, stop)`` of a smoothed series below the threshold or the drop from the baseline,
    short recoveries merged, broken at gaps: the candidates `desaturations` keeps when long enough."""
    low = (smoothed < threshold_pct) | (smoothed <= baseline_pct - drop_pct)
    low = fill_short_false_runs(low, t, merge_s * 1000.0 + 1.0)
    brk = np.concatenate(([False], np.diff(t) > max_gap_s * 1000.0))
    prev_ok = np.concatenate(([False], low[:-1])) & ~brk
    next_ok = np.concatenate((low[1:] & ~brk[1:], [False]))
    return np.flatnonzero(low & ~prev_ok), np.flatnonzero(low & ~next_ok) + 1


def minutes_below(t_ms: ArrayLike, spo2: ArrayLike, *, threshold_pct: float = 90.0) -> float:
    """Minutes with (median-smoothed) SpO2 below ``threshold_pct``; gaps do not count."""
    t, v = smoothed_spo2(t_ms, spo2)
    if t.shape[0] == 0:
        return 0.0
    durations = sample_durations_ms(t)
    return float(durations[v < threshold_pct].sum() / 60_000.0)
