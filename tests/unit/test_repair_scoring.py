"""Shop scores: Wilson lower bounds rank evidence above lucky streaks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.repair.scoring import shop_score, wilson_lower_bound


def test_wilson_lower_bound_known_values() -> None:
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(3, 3) == pytest.approx(0.4385, abs=1e-4)
    assert wilson_lower_bound(290, 300) == pytest.approx(0.9398, abs=1e-3)
    assert wilson_lower_bound(50, 100) == pytest.approx(0.4038, abs=1e-3)
    assert wilson_lower_bound(0, 10) == 0.0


def test_three_of_three_ranks_below_290_of_300() -> None:
    few = shop_score(3, 3, 3, 3, 0, 3, 0, None)
    many = shop_score(290, 300, 290, 300, 10, 300, 10, None)
    assert few.score < many.score
    assert few.components["spot_checks"] < many.components["spot_checks"]


@given(st.integers(0, 500), st.integers(0, 500), st.floats(1.0, 3.0))
def test_lower_bound_is_within_0_and_the_rate(passes: int, extra: int, z: float) -> None:
    total = passes + extra
    bound = wilson_lower_bound(passes, total, z)
    assert 0.0 <= bound <= (passes / total if total else 0.0) + 1e-12


def test_more_evidence_at_the_same_rate_raises_the_bound() -> None:
    bounds = [wilson_lower_bound(9 * n, 10 * n) for n in (1, 10, 100)]
    assert bounds == sorted(bounds)


def test_passes_beyond_total_are_refused() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.total"):
        wilson_lower_bound(5, 3)


def test_shop_score_components_and_reasons() -> None:
    result = shop_score(95, 100, 80, 100, 20, 100, 5, 4.5)
    assert set(result.components) == {"spot_checks", "on_time", "alerts", "rework", "feedback"}
    assert result.components["feedback"] == pytest.approx(0.875)
    assert 0.0 < result.score < 1.0
    assert result.reasons[0] == f"score {result.score:.2f}"
    assert "spot checks: 95/100 passed (at least 89%)" in result.reasons
    assert "customer feedback: 4.5/5" in result.reasons


def test_missing_feedback_is_left_out_not_counted_as_zero() -> None:
    with_feedback = shop_score(95, 100, 90, 100, 5, 100, 2, 5.0)
    without = shop_score(95, 100, 90, 100, 5, 100, 2, None)
    assert "feedback" not in without.components
    assert without.score == pytest.approx((with_feedback.score - 0.10 * 1.0) / 0.90, rel=1e-9)


def test_worse_record_scores_lower() -> None:
    good = shop_score(95, 100, 90, 100, 5, 100, 2, 4.6)
    bad = shop_score(60, 100, 50, 100, 80, 100, 30, 2.1)
    assert bad.score < good.score
    assert shop_score(0, 0, 0, 0, 0, 0, 0, None).score == 0.0
