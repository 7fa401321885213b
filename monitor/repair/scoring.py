"""Shop quality score from its track record, ranking by evidence, not by raw rates.

Each rate is scored by the lower bound of its Wilson score interval (95 % by default): the
rate the shop achieves at least, given how many cases it is based on. So a shop with 3 of 3
spot checks passed (lower bound 0.44) ranks below one with 290 of 300 (0.94), and a shop
with no record starts at 0, earning its score with evidence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


def wilson_lower_bound(passes: int, total: int, z: float = 1.96) -> float:
    """Lower bound of the Wilson score interval of ``passes`` / ``total`` (0 when total is 0).

    ``z`` is the normal quantile of the confidence level (1.96: two-sided 95 %).
    """
    if total <= 0:
        return 0.0
    if not 0 <= passes <= total:
        raise ValueError(f"passes must be within 0..total: {passes}/{total}")
    p = passes / total
    z2 = z * z
    centre = p + z2 / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    return max(0.0, (centre - margin) / (1 + z2 / total))


DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "spot_checks": 0.35,
        "on_time": 0.25,
        "alerts": 0.15,
        "rework": 0.15,
        "feedback": 0.10,
    }
)
"""Weights of the score's components; missing components (no feedback) are left out and the
other weights renormalized."""


@dataclass(frozen=True, slots=True)
class ShopScore:
    """``score`` 0..1, each component 0..1 by name, and the reasons in plain words."""

    score: float
    components: Mapping[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


def shop_score(
    spot_pass: int,
    spot_total: int,
    on_time: int,
    jobs_done: int,
    alerts: int,
    jobs: int,
    rework: int,
    feedback_mean: float | None,
    *,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    z: float = 1.96,
) -> ShopScore:
    """Score a shop from its counts.

    - spot_checks: Wilson lower bound of ``spot_pass`` / ``spot_total``.
    - on_time: Wilson lower bound of ``on_time`` / ``jobs_done`` (delivered by the promise).
    - alerts: Wilson lower bound of alert-free jobs, ``max(jobs - alerts, 0)`` / ``jobs``
      (each alert counted against one job).
    - rework: Wilson lower bound of ``jobs_done - rework`` / ``jobs_done``.
    - feedback: customer feedback mean on the 1..5 scale mapped to 0..1; None leaves it out.
    """
    components = {
        "spot_checks": wilson_lower_bound(spot_pass, spot_total, z),
        "on_time": wilson_lower_bound(on_time, jobs_done, z),
        "alerts": wilson_lower_bound(max(jobs - alerts, 0), jobs, z),
        "rework": wilson_lower_bound(max(jobs_done - rework, 0), jobs_done, z),
    }
    reasons = [
        f"spot checks: {spot_pass}/{spot_total} passed (at least {components['spot_checks']:.0%})",
        f"on time: {on_time}/{jobs_done} jobs (at least {components['on_time']:.0%})",
        f"alerts: {alerts} over {jobs} jobs (alert-free at least {components['alerts']:.0%})",
        f"rework: {rework} of {jobs_done} jobs (rework-free at least {components['rework']:.0%})",
    ]
    if feedback_mean is not None:
        components["feedback"] = min(1.0, max(0.0, (feedback_mean - 1.0) / 4.0))
        reasons.append(f"customer feedback: {feedback_mean:.1f}/5")
    total_weight = sum(weights[name] for name in components)
    score = sum(weights[name] * value for name, value in components.items()) / total_weight
    reasons.insert(0, f"score {score:.2f}")
    return ShopScore(score=score, components=MappingProxyType(components), reasons=tuple(reasons))
