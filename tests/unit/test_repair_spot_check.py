"""Seeded, auditable, risk-weighted spot-check sampling."""

from __future__ import annotations

import pytest

from monitor.repair.spot_check import (
    SpotCheckPolicy,
    sampling_draw,
    sampling_probability,
    should_sample,
)


def test_decision_is_deterministic_and_auditable() -> None:
    first = should_sample(42, "J-1", "paint", 0.1, 0.9, False)
    again = should_sample(42, "J-1", "paint", 0.1, 0.9, False)
    assert first == again
    assert first.draw == sampling_draw(42, "J-1", "paint")
    assert first.sampled == (first.draw < first.probability)
    assert should_sample(43, "J-1", "paint", 0.1, 0.9, False).draw != first.draw
    assert should_sample(42, "J-1", "body", 0.1, 0.9, False).draw != first.draw


def test_probability_rises_for_low_scores_and_flags() -> None:
    assert sampling_probability(0.1, 1.0, False) == pytest.approx(0.1)
    assert sampling_probability(0.1, 0.0, False) == pytest.approx(0.4)
    assert sampling_probability(0.1, 0.5, True) == pytest.approx(0.1 * 2.5 * 4)
    assert sampling_probability(0.5, 0.0, True) == 1.0
    custom = SpotCheckPolicy(low_score_boost=0.0, flagged_boost=1.0)
    assert sampling_probability(0.2, 0.0, True, custom) == pytest.approx(0.2)


def test_draws_are_uniform_and_rates_are_met() -> None:
    draws = [sampling_draw(7, f"J-{i}", "paint") for i in range(10_000)]
    assert all(0.0 <= d < 1.0 for d in draws)
    assert sum(d < 0.25 for d in draws) / len(draws) == pytest.approx(0.25, abs=0.02)
    good = sum(should_sample(7, f"J-{i}", "paint", 0.05, 1.0, False).sampled for i in range(10_000))
    poor = sum(should_sample(7, f"J-{i}", "paint", 0.05, 0.2, False).sampled for i in range(10_000))
    assert good / 10_000 == pytest.approx(0.05, abs=0.008)
    assert poor / 10_000 == pytest.approx(0.05 * 3.4, abs=0.015)


def test_a_sampled_checkpoint_stays_sampled_when_risk_rises() -> None:
    """Monotone: raising the probability never un-samples a checkpoint (same draw)."""
    for i in range(500):
        low = should_sample(1, f"J-{i}", "body", 0.1, 0.9, False)
        high = should_sample(1, f"J-{i}", "body", 0.1, 0.3, True)
        assert not low.sampled or high.sampled
