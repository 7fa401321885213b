"""Shop quality: the three-shop recommendation, scorecards over time, and the spot-check queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from api.auth import Role
from api.deps import CallerDep, SessionDep, StaffDep, forbid, not_found
from api.errors import ERROR_RESPONSES
from api.pagination import LimitQ, OffsetQ, OrderBy, Page, paginate
from api.routers.shops import visible_shop
from api.schemas.shops_quality import (
    RecommendationPublic,
    ScorePoint,
    ShopScorePublic,
    SpotCheckPublic,
    SpotCheckResult,
    SpotCheckShopPublic,
)
from devices.fields import Severity
from devices.timestamps import now_ms
from monitor.repair.recommend import recommend
from monitor.shop_scores import shop_profiles
from store.state.events import publish
from store.state.schema_repair import ShopScoreRow, SpotCheck

router = APIRouter(tags=["shop quality"], responses=ERROR_RESPONSES)


@router.get("/shops/recommendations", response_model=list[RecommendationPublic])
def recommendations(
    session: SessionDep,
    _caller: StaffDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    make: Annotated[str, Query(min_length=1, max_length=64)],
    severity: Severity,
    radius_km: Annotated[float, Query(gt=0, le=500)] = 50.0,
    top: Annotated[int, Query(ge=1, le=10)] = 3,
) -> list[RecommendationPublic]:
    """The best certified shops for a new claim: hard filters, then quality, distance, load and speciality."""
    profiles = shop_profiles(session)
    names = {p.shop_id: p.name for p in profiles}
    ranked = recommend(profiles, lat=lat, lon=lon, make=make, severity=severity, radius_km=radius_km, top=top)
    return [
        RecommendationPublic(
            shop_id=r.shop_id,
            name=names.get(r.shop_id, r.shop_id),
            score=round(r.score, 3),
            distance_km=round(r.distance_km, 2),
            reasons=list(r.reasons),
        )
        for r in ranked
    ]


@router.get("/shops/{shop_id}/score", response_model=ShopScorePublic)
def shop_scorecard(
    shop_id: str, session: SessionDep, caller: CallerDep, history: Annotated[int, Query(ge=1, le=1000)] = 90
) -> ShopScorePublic:
    visible_shop(session, caller, shop_id)
    rows = list(
        session.execute(
            select(ShopScoreRow)
            .where(ShopScoreRow.shop_id == shop_id)
            .order_by(ShopScoreRow.at_ms.desc(), ShopScoreRow.id.desc())
            .limit(history)
        ).scalars()
    )
    latest = rows[0] if rows else None
    return ShopScorePublic(
        shop_id=shop_id,
        score=latest.score if latest else None,
        at_ms=latest.at_ms if latest else None,
        components=latest.components if latest else {},
        reasons=latest.reasons if latest else [],
        counts=latest.counts if latest else {},
        history=[ScorePoint(at_ms=r.at_ms, score=r.score) for r in reversed(rows)],
    )


@router.get("/spot-checks", response_model=Page[SpotCheckPublic] | Page[SpotCheckShopPublic])
def list_spot_checks(
    session: SessionDep,
    caller: CallerDep,
    limit: LimitQ = 100,
    offset: OffsetQ = 0,
    state: Annotated[str | None, Query(pattern="^(pending|passed|failed)$")] = None,
    job_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[SpotCheckPublic] | Page[SpotCheckShopPublic]:
    """Spot checks: staff see how each was drawn; a shop sees only its own, without the draw."""
    query = select(SpotCheck)
    if caller.role is Role.SHOP:
        query = query.where(SpotCheck.shop_id == caller.shop_id)
    elif not caller.is_staff:
        raise forbid("spot checks")
    if state is not None:
        query = query.where(SpotCheck.state == state)
    if job_id is not None:
        query = query.where(SpotCheck.job_id == job_id)
    order: OrderBy = [SpotCheck.created_ms.desc(), SpotCheck.id]
    if caller.is_staff:
        return paginate(session, query, limit=limit, offset=offset, order_by=order, view=SpotCheckPublic.model_validate)
    return paginate(session, query, limit=limit, offset=offset, order_by=order, view=SpotCheckShopPublic.model_validate)


@router.post("/spot-checks/{check_id}/result", response_model=SpotCheckPublic)
def record_result(check_id: str, body: SpotCheckResult, session: SessionDep, caller: StaffDep) -> SpotCheck:
    """An inspector's verdict on a sampled checkpoint (claims staff inspect; shops cannot judge themselves)."""
    check = session.get(SpotCheck, check_id)
    if check is None:
        raise not_found(f"spot check {check_id!r}")
    if check.state != "pending":
        raise HTTPException(409, f"spot check {check_id} already {check.state}")
    check.state = "passed" if body.passed else "failed"
    check.inspector, check.note, check.decided_ms = caller.name, body.note, now_ms()
    publish(
        session,
        "spot_check_result",
        {"job_id": check.job_id, "check_id": check.id, "state": check.state},
        job_id=check.job_id,
        shop_id=check.shop_id,
    )
    return check
