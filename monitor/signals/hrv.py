"""Heart-rate variability from RR intervals: artifact rejection, RMSSD and SDNN.

RR series: ``t_ms`` is the time of each beat (epoch ms) and ``rr_ms`` the interval that ends at
that beat (ms). Cleaning (Malik-style, vectorized):

1. a beat is rejected when its interval is outside ``[low_ms, high_ms]`` (300-2000 ms);
2. a beat is rejected when it differs from the local median (running median of the
   ``median_beats`` surrounding in-range beats) by more than ``max_deviation`` (20 %) of it, which
   removes an ectopic beat and its compensatory pause, and missed or split detections;
3. a successive difference is used only when both beats are accepted, no beat is missing
   between them (``t_i - t_{i-1}`` matches ``rr_i``, so a gap in the data is never differenced)
   and it is no larger than ``max_deviation`` of the local median.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.ndimage  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import ArrayLike, NDArray

from monitor.signals.series import TimesMs, Values, as_series

logger = logging.getLogger(__name__)

RR_LOW_MS = 300.0
RR_HIGH_MS = 2000.0


@dataclass(frozen=True, slots=True, eq=False)
class CleanRR:
    """An RR series with its cleaning verdicts.

    ``accepted[i]``: beat i is a normal-to-normal (NN) interval. ``pair_valid[i]``: the successive
    difference ``rr[i] - rr[i-1]`` may be used (always ``False`` for i = 0).
    """

    t_ms: TimesMs
    rr_ms: Values
    accepted: NDArray[np.bool_]
    pair_valid: NDArray[np.bool_]

    @property
    def nn_t_ms(self) -> TimesMs:
        """Times of the accepted beats (epoch ms)."""
        return self.t_ms[self.accepted]

    @property
    def nn_ms(self) -> Values:
        """The accepted (normal-to-normal) intervals in ms."""
        return self.rr_ms[self.accepted]

    @property
    def successive_differences_ms(self) -> Values:
        """The usable successive differences ``NN_i - NN_{i-1}`` in ms."""
        if self.rr_ms.shape[0] < 2:
            return np.zeros(0, dtype=np.float64)
        return np.diff(self.rr_ms)[self.pair_valid[1:]]

    @property
    def n_rejected(self) -> int:
        """How many beats were rejected as artifacts or ectopic."""
        return int(self.rr_ms.shape[0] - np.count_nonzero(self.accepted))


@dataclass(frozen=True, slots=True)
class HrvSummary:
    """Time-domain HRV of a window: RMSSD and SDNN in ms, with the beat counts behind them."""

    rmssd_ms: float | None
    sdnn_ms: float | None
    n_beats: int
    n_rejected: int
    n_pairs: int


def clean_rr(
    t_ms: ArrayLike,
    rr_ms: ArrayLike,
    *,
    low_ms: float = RR_LOW_MS,
    high_ms: float = RR_HIGH_MS,
    max_deviation: float = 0.2,
    median_beats: int = 11,
) -> CleanRR:
    """Reject artifacts and ectopic beats from an RR series (see the module docstring)."""
    t, rr = as_series(t_ms, rr_ms)
    n = rr.shape[0]
    if rr.ndim != 1:
        raise ValueError("rr_ms must be one-dimensional")
    if n == 0:
        empty = np.zeros(0, dtype=bool)
        return CleanRR(t, rr, empty, empty.copy())
    in_range = (rr >= low_ms) & (rr <= high_ms)
    local_median = np.full(n, np.nan)
    if np.any(in_range):
        size = max(1, min(median_beats, int(np.count_nonzero(in_range))))
        local_median[in_range] = scipy.ndimage.median_filter(rr[in_range], size=size, mode="nearest")
        # out-of-range beats take the median of the nearest in-range beat (for the pair test)
        idx = np.flatnonzero(in_range)
        nearest = idx[np.clip(np.searchsorted(idx, np.arange(n)), 0, idx.shape[0] - 1)]
        local_median = local_median[nearest]
    accepted = in_range & (np.abs(rr - local_median) <= max_deviation * local_median)
    pair_valid = np.zeros(n, dtype=bool)
    if n > 1:
        dt = np.diff(t).astype(np.float64)
        contiguous = np.abs(dt - rr[1:]) <= 0.5 * rr[1:]
        small = np.abs(np.diff(rr)) <= max_deviation * local_median[1:]
        pair_valid[1:] = accepted[1:] & accepted[:-1] & contiguous & small
    logger.debug("clean_rr: %s beats, %s rejected", n, n - int(np.count_nonzero(accepted)))
    return CleanRR(t, rr, accepted, pair_valid)


def rmssd(t_ms: ArrayLike, rr_ms: ArrayLike, *, min_pairs: int = 5) -> float | None:
    """Root mean square of successive NN differences in ms (None below ``min_pairs`` pairs)."""
    return hrv_summary(t_ms, rr_ms, min_pairs=min_pairs).rmssd_ms


def sdnn(t_ms: ArrayLike, rr_ms: ArrayLike, *, min_beats: int = 5) -> float | None:
    """Standard deviation (ddof 1) of the NN intervals in ms (None below ``min_beats`` beats)."""
    return hrv_summary(t_ms, rr_ms, min_beats=min_beats).sdnn_ms


def hrv_summary(t_ms: ArrayLike, rr_ms: ArrayLike, *, min_pairs: int = 5, min_beats: int = 5) -> HrvSummary:
    """RMSSD and SDNN of the cleaned NN series (each None when too few beats remain)."""
    return summarize_clean_rr(clean_rr(t_ms, rr_ms), min_pairs=min_pairs, min_beats=min_beats)


def summarize_clean_rr(clean: CleanRR, *, min_pairs: int = 5, min_beats: int = 5) -> HrvSummary:
    """RMSSD and SDNN of an already cleaned RR series."""
    diffs = clean.successive_differences_ms
    nn = clean.nn_ms
    rmssd_value = float(np.sqrt(np.mean(diffs**2))) if diffs.shape[0] >= max(1, min_pairs) else None
    sdnn_value = float(np.std(nn, ddof=1)) if nn.shape[0] >= max(2, min_beats) else None
    return HrvSummary(
        rmssd_ms=rmssd_value,
        sdnn_ms=sdnn_value,
        n_beats=int(nn.shape[0]),
        n_rejected=clean.n_rejected,
        n_pairs=int(diffs.shape[0]),
    )
