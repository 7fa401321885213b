"""The certified shops offered for a motor case's repair, ranked by the repair monitor's recommender.

`monitor.repair.recommend.recommend` filters (certified for the make, handles the severity, a free
bay, within the radius) and scores the shops; the profiles come from `monitor.shop_scores`, whose
quality score combines spot checks, punctuality, alerts, rework and the claimants' feedback.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cases.plan_rules import OFFER_RADIUS_KM, OFFERS
from monitor.repair.recommend import recommend
from monitor.shop_scores import shop_profiles


def shop_offers(session: Session, *, lat: float, lon: float, make: str, severity: str) -> list[dict[str, Any]]:
    """The best certified shops for this repair, best first: shop_id, name, score, distance_km, reasons."""
    profiles = shop_profiles(session)
    ranked = recommend(profiles, lat=lat, lon=lon, make=make, severity=severity, radius_km=OFFER_RADIUS_KM, top=OFFERS)
    names = {p.shop_id: p.name for p in profiles}
    return [
        {
            "shop_id": r.shop_id,
            "name": names.get(r.shop_id) or r.shop_id,
            "score": round(float(r.score), 3),
            "distance_km": round(float(r.distance_km), 2),
            "reasons": [str(x) for x in r.reasons],
        }
        for r in ranked
    ]
