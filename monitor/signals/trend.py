"""Robust trends of daily values: the Theil-Sen slope with its confidence interval."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import ArrayLike


@dataclass(frozen=True, slots=True)
class Trend:
    """A Theil-Sen line: slope (value units per x unit, e.g. bpm/day) with its confidence
    interval ``[slope_lo, slope_hi]`` at ``confidence``, the intercept and the points used."""

    slope: float
    intercept: float
    slope_lo: float
    slope_hi: float
    confidence: float
    n: int


def theil_sen_trend(x: ArrayLike, y: ArrayLike, *, confidence: float = 0.95, min_points: int = 3) -> Trend | None:
    """Theil-Sen slope of ``y`` over ``x`` (``scipy.stats.theilslopes``): the median of all
    pairwise slopes, insensitive to a few outlying days. Pairs with NaN are dropped; None with
    fewer than ``min_points`` points or when all ``x`` are equal."""
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in length: {xa.shape[0]} != {ya.shape[0]}")
    keep = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[keep], ya[keep]
    if xa.shape[0] < max(2, min_points) or np.ptp(xa) == 0:
        return None
    res = scipy.stats.theilslopes(ya, xa, alpha=confidence)
    return Trend(
        slope=float(res.slope),
        intercept=float(res.intercept),
        slope_lo=float(res.low_slope),
        slope_hi=float(res.high_slope),
        confidence=confidence,
        n=int(xa.shape[0]),
    )
