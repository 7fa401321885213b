"""Shop recommendations: hard filters first, then a weighted score with reasons."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from monitor.repair.recommend import RecommendWeights, ShopProfile, recommend
from monitor.repair.stages import Severity
from simulators.photos import offset_position

HOME = (48.8566, 2.3522)


def shop(shop_id: str, km: float, **overrides: Any) -> ShopProfile:
    lat, lon = offset_position(*HOME, km, 45.0)
    base = ShopProfile(
        shop_id=shop_id,
        lat=lat,
        lon=lon,
        certified_makes=frozenset({"Toyota", "Renault"}),
        max_severity=Severity.SEVERE,
        capacity=10,
        active_jobs=5,
        score=0.8,
    )
    return replace(base, **overrides)


def test_hard_filters() -> None:
    shops = [
        shop("ok", 5),
        shop("other-make", 5, certified_makes=frozenset({"BMW"})),
        shop("minor-only", 5, max_severity=Severity.MINOR),
        shop("full", 5, active_jobs=10),
        shop("over-full", 5, active_jobs=12),
        shop("far", 80),
    ]
    found = recommend(shops, lat=HOME[0], lon=HOME[1], make="toyota", severity="moderate", top=10)
    assert [r.shop_id for r in found] == ["ok"]


def test_make_is_case_insensitive_and_severity_ranked() -> None:
    shops = [shop("mod", 5, max_severity=Severity.MODERATE, certified_makes=frozenset({"TOYOTA"}))]
    assert recommend(shops, lat=HOME[0], lon=HOME[1], make=" Toyota ", severity="minor")
    assert not recommend(shops, lat=HOME[0], lon=HOME[1], make="toyota", severity="severe")


def test_ranking_weighs_quality_distance_load_and_specialization() -> None:
    shops = [
        shop("near-poor", 2, score=0.3),
        shop("far-good", 40, score=0.95),
        shop("mid-good-specialist", 15, score=0.9, specialized_makes=frozenset({"toyota"})),
        shop("mid-good-busy", 15, score=0.9, active_jobs=9),
    ]
    found = recommend(shops, lat=HOME[0], lon=HOME[1], make="Toyota", severity="severe")
    assert [r.shop_id for r in found] == ["mid-good-specialist", "mid-good-busy", "far-good"]
    best = found[0]
    assert best.distance_km == pytest.approx(15.0, abs=0.01)
    assert best.reasons == [
        "certified for Toyota",
        "15.0 km away",
        "shop score 0.90",
        "5 of 10 bays free",
        "specializes in Toyota",
    ]
    assert 0.0 < best.score <= 1.0


def test_top_and_distance_tiebreak() -> None:
    shops = [shop(f"s{i}", 10 + i) for i in range(6)]
    found = recommend(shops, lat=HOME[0], lon=HOME[1], make="renault", severity="minor", top=2)
    assert [r.shop_id for r in found] == ["s0", "s1"]


def test_weights_are_configurable() -> None:
    shops = [shop("near-poor", 2, score=0.3), shop("far-good", 40, score=0.95)]
    distance_only = RecommendWeights(quality=0, distance=1, load=0, specialization=0)
    found = recommend(shops, lat=HOME[0], lon=HOME[1], make="Toyota", severity="minor", weights=distance_only)
    assert found[0].shop_id == "near-poor"
    assert found[0].score == pytest.approx(1 - 2 / 50, abs=1e-3)
