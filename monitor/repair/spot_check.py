"""Risk-weighted, seeded, auditable sampling of checkpoints for a human spot check.

The decision for (seed, job, stage) is a pure function: the draw is the first 8 bytes of
SHA-256 of ``"{seed}|{job_id}|{stage}"`` read as a fraction of 2**64, in [0, 1); the
checkpoint is sampled when ``draw < probability``. Anyone holding the seed can recompute
every decision, and a shop cannot predict which checkpoints will be looked at without it.

probability = base_rate x (1 + low_score_boost x (1 - shop_score)) x (flagged_boost if the
photo was flagged), clipped to [0, 1]: a perfect shop is sampled at the base rate, a shop
scoring 0 at (1 + low_score_boost) x the base rate, and a flagged photo (blurry, reused,
far from the shop...) ``flagged_boost`` times more often again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SpotCheckPolicy:
    """Multipliers raising the sampling probability for risky checkpoints."""

    low_score_boost: float = 3.0
    flagged_boost: float = 4.0


@dataclass(frozen=True, slots=True)
class SampleDecision:
    """``sampled`` iff ``draw`` (uniform in [0, 1)) < ``probability``."""

    sampled: bool
    probability: float
    draw: float


def sampling_draw(seed: int | str, job_id: str, stage: str) -> float:
    """Deterministic uniform draw in [0, 1) for one checkpoint."""
    digest = hashlib.sha256(f"{seed}|{job_id}|{stage}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sampling_probability(
    base_rate: float, shop_score: float, flagged: bool, policy: SpotCheckPolicy = SpotCheckPolicy()
) -> float:
    """The risk-weighted probability of sampling a checkpoint (see the module doc)."""
    score = min(1.0, max(0.0, shop_score))
    probability = base_rate * (1.0 + policy.low_score_boost * (1.0 - score))
    if flagged:
        probability *= policy.flagged_boost
    return min(1.0, max(0.0, probability))


def should_sample(
    seed: int | str,
    job_id: str,
    stage: str,
    base_rate: float,
    shop_score: float,
    flagged: bool,
    policy: SpotCheckPolicy = SpotCheckPolicy(),
) -> SampleDecision:
    """Decide whether the checkpoint (job, stage) goes to a spot check."""
    probability = sampling_probability(base_rate, shop_score, flagged, policy)
    draw = sampling_draw(seed, job_id, stage)
    return SampleDecision(sampled=draw < probability, probability=probability, draw=draw)
