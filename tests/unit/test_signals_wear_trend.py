"""Wear time and gaps; Theil-Sen trends with confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.signals.trend import theil_sen_trend
from monitor.signals.wear import wear_time

T0 = 1_795_000_000_000
DAY0 = T0 - T0 % 86_400_000


def test_wear_hours_and_gaps() -> None:
    secs = np.arange(0, 86_400)
    worn = (secs < 3 * 3600) | (secs >= 5 * 3600)  # off from 03:00 to 05:00
    t = DAY0 + secs[worn] * 1000
    wear = wear_time([t], bounds_ms=(DAY0, DAY0 + 86_400_000))
    assert wear.wear_hours == pytest.approx(22.0)
    assert len(wear.gaps) == 1
    gap = wear.gaps[0]
    assert gap.start_ms == DAY0 + 3 * 3_600_000
    assert gap.end_ms == DAY0 + 5 * 3_600_000
    assert gap.hours == pytest.approx(2.0)


def test_wear_union_of_series_and_edges_of_the_day() -> None:
    a = DAY0 + np.arange(6 * 3600, 9 * 3600) * 1000
    b = DAY0 + np.arange(9 * 3600, 12 * 3600, 5) * 1000  # a second series, 0.2 Hz, continues
    wear = wear_time([a, b], bounds_ms=(DAY0, DAY0 + 86_400_000), min_gap_min=30)
    assert wear.wear_hours == pytest.approx(6.0)
    assert [g.hours for g in wear.gaps] == pytest.approx([6.0, 12.0], abs=0.01)
    assert wear_time([a, b], min_gap_min=30).gaps == ()  # without bounds, only inner gaps


def test_short_gaps_are_not_listed() -> None:
    t = DAY0 + np.concatenate((np.arange(0, 600), np.arange(900, 1800))) * 1000  # 5 min hole
    assert wear_time([t], min_gap_min=10).gaps == ()
    assert len(wear_time([t], min_gap_min=4).gaps) == 1


def test_wear_edge_cases() -> None:
    assert wear_time([]).wear_hours == 0.0
    assert wear_time([np.zeros(0, dtype=np.int64)]).gaps == ()
    whole = wear_time([np.zeros(0, dtype=np.int64)], bounds_ms=(DAY0, DAY0 + 86_400_000))
    assert whole.wear_hours == 0.0
    assert whole.gaps[0].hours == pytest.approx(24.0)
    single = wear_time([np.array([DAY0 + 1000])])
    assert single.worn_minutes == 1
    with_nan = wear_time([np.array([np.nan, float(DAY0)])])
    assert with_nan.worn_minutes == 1


def test_theil_sen_slope_and_interval() -> None:
    rng = np.random.default_rng(0)
    days = np.arange(14.0)
    values = 60 + 0.8 * days + rng.normal(0, 0.5, 14)
    values[5] = 90.0  # one odd day does not move a robust slope
    trend = theil_sen_trend(days, values)
    assert trend is not None
    assert trend.slope == pytest.approx(0.8, abs=0.15)
    assert trend.slope_lo < trend.slope < trend.slope_hi
    assert trend.slope_lo > 0.4
    assert trend.n == 14


def test_theil_sen_flat_series_has_interval_around_zero() -> None:
    rng = np.random.default_rng(1)
    trend = theil_sen_trend(np.arange(10.0), 62 + rng.normal(0, 1, 10))
    assert trend is not None
    assert trend.slope_lo < 0 < trend.slope_hi


def test_theil_sen_edge_cases() -> None:
    assert theil_sen_trend([], []) is None
    assert theil_sen_trend([1.0], [2.0]) is None
    assert theil_sen_trend([1.0, 2.0, 3.0], [np.nan, 2.0, np.nan]) is None
    assert theil_sen_trend([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None
    constant = theil_sen_trend([0.0, 1.0, 2.0, 3.0], [5.0, 5.0, 5.0, 5.0])
    assert constant is not None
    assert constant.slope == 0.0
    with pytest.raises(ValueError, match="length"):
        theil_sen_trend([1.0, 2.0], [1.0])
