"""Recommend repair shops for a claim: hard filters, then a weighted score with reasons.

Hard filters: certified for the car's make (case-insensitive), handles the damage severity,
has a free bay (capacity - active jobs > 0) and lies within ``radius_km``. Then
``score = w_quality x shop score + w_distance x (1 - distance / radius) + w_load x free share
+ w_specialization x (1 if the shop specializes in the make)``; ties go to the nearer shop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.photos.exif import haversine_km
from monitor.repair.stages import SEVERITY_RANK, Severity, as_severity

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShopProfile:
    """What the recommender knows of a shop. ``score`` is its ``ShopScore.score`` (0..1);
    ``max_severity`` the worst damage it repairs; makes are compared case-insensitively."""

    shop_id: str
    lat: float
    lon: float
    certified_makes: frozenset[str]
    max_severity: Severity
    capacity: int
    active_jobs: int
    score: float
    specialized_makes: frozenset[str] = frozenset()
    name: str = ""


@dataclass(frozen=True, slots=True)
class RecommendWeights:
    """Weights of the recommendation score (they need not sum to 1)."""

    quality: float = 0.5
    distance: float = 0.25
    load: float = 0.15
    specialization: float = 0.1


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A recommended shop: ``score`` 0..1 (at equal weights), distance in km, reasons."""

    shop_id: str
    score: float
    distance_km: float
    reasons: list[str]


def _makes(makes: Iterable[str]) -> set[str]:
    return {m.strip().casefold() for m in makes}


def recommend(
    shops: Iterable[ShopProfile],
    *,
    lat: float,
    lon: float,
    make: str,
    severity: str,
    radius_km: float = 50.0,
    top: int = 3,
    weights: RecommendWeights = RecommendWeights(),
) -> list[Recommendation]:
    """The ``top`` best shops for a ``make`` car with ``severity`` damage at ``(lat, lon)``."""
    wanted = make.strip().casefold()
    rank = SEVERITY_RANK[as_severity(severity)]
    total_weight = weights.quality + weights.distance + weights.load + weights.specialization
    scored: list[Recommendation] = []
    for shop in shops:
        if wanted not in _makes(shop.certified_makes):
            continue
        if SEVERITY_RANK[shop.max_severity] < rank:
            continue
        free = shop.capacity - shop.active_jobs
        if free <= 0:
            continue
        distance = haversine_km(lat, lon, shop.lat, shop.lon)
        if distance > radius_km:
            continue
        specialized = wanted in _makes(shop.specialized_makes)
        closeness = 1.0 - distance / radius_km if radius_km > 0 else 1.0
        free_share = free / shop.capacity
        score = (
            weights.quality * shop.score
            + weights.distance * closeness
            + weights.load * free_share
            + weights.specialization * float(specialized)
        )
        reasons = [
            f"certified for {make}",
            f"{distance:.1f} km away",
            f"shop score {shop.score:.2f}",
            f"{free} of {shop.capacity} bays free",
        ]
        if specialized:
            reasons.append(f"specializes in {make}")
        scored.append(Recommendation(shop.shop_id, score / total_weight, distance, reasons))
    scored.sort(key=lambda r: (-r.score, r.distance_km, r.shop_id))
    logger.debug("%s shops eligible for %s %s within %s km", len(scored), make, severity, radius_km)
    return scored[:top]
