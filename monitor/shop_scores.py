"""Shop scores from the state store: computed from spot checks, punctuality, alerts, rework and feedback,
kept over time, and the profiles the recommender ranks."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.repair.recommend import ShopProfile
from monitor.repair.scoring import ShopScore, shop_score
from monitor.repair.stages import SEVERITY_RANK, Severity
from store.state.alert_kinds import Severity as AlertSeverity
from store.state.schema import Alert, RepairJob, Shop
from store.state.schema_repair import ShopScoreRow, SpotCheck

NEUTRAL_SCORE = 0.5
_SEVERITIES = frozenset(s.value for s in Severity)

#: Where claimant feedback comes from (the cases package registers itself); None: no feedback yet.
FeedbackMean = Callable[[Session, str], float | None]


def _no_feedback(_session: Session, _shop_id: str) -> float | None:
    return None


def compute_shop_score(
    session: Session, shop_id: str, *, feedback: FeedbackMean = _no_feedback
) -> tuple[ShopScore, dict[str, int]]:
    spot = dict(
        session.execute(
            select(SpotCheck.state, func.count()).where(SpotCheck.shop_id == shop_id).group_by(SpotCheck.state)
        ).all()
    )
    jobs = session.execute(select(RepairJob).where(RepairJob.shop_id == shop_id)).scalars().all()
    done = [j for j in jobs if j.delivered_ms is not None]
    on_time = sum(1 for j in done if j.promised_ms is None or (j.delivered_ms or 0) <= j.promised_ms)
    job_ids = [j.id for j in jobs]
    mine = (Alert.shop_id == shop_id) | Alert.job_id.in_(job_ids)
    alerts = (
        session.execute(
            select(func.count()).select_from(Alert).where(Alert.severity != AlertSeverity.INFO, mine)
        ).scalar_one()
        if job_ids
        else 0
    )
    rework = (
        session.execute(
            select(func.count()).select_from(Alert).where(Alert.kind == "stage_backwards", Alert.job_id.in_(job_ids))
        ).scalar_one()
        if job_ids
        else 0
    )
    counts = {
        "spot_pass": int(spot.get("passed", 0)),
        "spot_total": int(spot.get("passed", 0)) + int(spot.get("failed", 0)),
        "on_time": on_time,
        "jobs_done": len(done),
        "alerts": int(alerts),
        "jobs": len(jobs),
        "rework": int(rework),
    }
    score = shop_score(
        counts["spot_pass"],
        counts["spot_total"],
        counts["on_time"],
        counts["jobs_done"],
        counts["alerts"],
        counts["jobs"],
        counts["rework"],
        feedback(session, shop_id),
    )
    return score, counts


def record_scores(session: Session, now_ms: int, *, feedback: FeedbackMean = _no_feedback) -> int:
    shops = session.execute(select(Shop.id)).scalars().all()
    for shop_id in shops:
        score, counts = compute_shop_score(session, shop_id, feedback=feedback)
        session.add(
            ShopScoreRow(
                shop_id=shop_id,
                at_ms=now_ms,
                score=score.score,
                components=dict(score.components),
                reasons=list(score.reasons),
                counts=counts,
            )
        )
    return len(shops)


def current_score(session: Session, shop_id: str) -> ShopScoreRow | None:
    return session.execute(
        select(ShopScoreRow)
        .where(ShopScoreRow.shop_id == shop_id)
        .order_by(ShopScoreRow.at_ms.desc(), ShopScoreRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def shop_profiles(session: Session) -> list[ShopProfile]:
    """What the recommender knows of every certified shop: its latest score, load and makes."""
    active = {
        shop_id: int(count)
        for shop_id, count in session.execute(
            select(RepairJob.shop_id, func.count()).where(RepairJob.delivered_ms.is_(None)).group_by(RepairJob.shop_id)
        )
    }
    makes: dict[str, dict[str, int]] = {}
    for shop_id, vehicle in session.execute(select(RepairJob.shop_id, RepairJob.vehicle)):
        make = str((vehicle or {}).get("make", "")).casefold()
        makes.setdefault(shop_id, {})[make] = makes.setdefault(shop_id, {}).get(make, 0) + 1
    profiles = []
    for shop in session.execute(select(Shop).where(Shop.certified.is_(True)).order_by(Shop.id)).scalars():
        severities = [Severity(s) for s in shop.severities if s in _SEVERITIES]
        if not severities:
            continue
        latest = current_score(session, shop.id)
        profiles.append(
            ShopProfile(
                shop_id=shop.id,
                lat=shop.lat,
                lon=shop.lon,
                certified_makes=frozenset(shop.makes),
                max_severity=max(severities, key=lambda s: SEVERITY_RANK[s]),
                capacity=shop.capacity,
                active_jobs=active.get(shop.id, 0),
                score=latest.score if latest else NEUTRAL_SCORE,
                specialized_makes=_specialities(makes.get(shop.id, {})),
                name=shop.name,
            )
        )
    return profiles


def _specialities(jobs_by_make: dict[str, int], *, min_jobs: int = 3, min_share: float = 0.4) -> frozenset[str]:
    """The makes a shop mostly repairs: at least ``min_jobs`` jobs and ``min_share`` of its work."""
    total = sum(jobs_by_make.values())
    return frozenset(m for m, n in jobs_by_make.items() if n >= min_jobs and n >= min_share * total)
