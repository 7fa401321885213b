"""Repair jobs: claim, vehicle, shop, required stages, and what the beacons and photos said."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from api.auth import Caller, Role
from api.deps import CallerDep, SessionDep, forbid
from api.errors import ERROR_RESPONSES
from api.ids import new_id
from api.pagination import LimitQ, OffsetQ, Page, paginate
from api.schemas.repair import AlertBrief, PhotoPublic, RepairJobCreate, RepairJobPublic, TimelineEntry
from api.timeparams import parse_instant
from api.visibility import get_visible
from devices.timestamps import now_ms
from monitor.photos.reuse_sides import redacted_details, scrub
from monitor.repair.stages import STAGES, default_required_stages
from store.state.schema import Alert, PhotoRow, RepairEvent, RepairJob, Shop

router = APIRouter(prefix="/repair-jobs", tags=["repair jobs"], responses=ERROR_RESPONSES)


def visible_job(session: SessionDep, caller: CallerDep, job_id: str) -> RepairJob:
    """The job if the caller may see it: 404 when missing (staff), 403 when not theirs."""
    return get_visible(
        session,
        RepairJob,
        job_id,
        caller,
        what=f"repair job {job_id!r}",
        sees=lambda j: caller.sees_job(j.id, j.shop_id),
    )


@router.post("", status_code=201, response_model=RepairJobPublic)
def create_job(body: RepairJobCreate, session: SessionDep, caller: CallerDep) -> RepairJobPublic:
    if caller.role not in (Role.ADMIN, Role.CLAIMS_HANDLER):
        raise forbid("repair job creation")
    if session.get(Shop, body.shop_id) is None:
        raise HTTPException(422, f"shop_id: shop {body.shop_id!r} does not exist")
    required = list(body.required_stages) if body.required_stages else list(default_required_stages(body.severity))
    required.sort(key=STAGES.index)
    now = now_ms()
    promised = parse_instant("promised_at", str(body.promised_at), now) if body.promised_at is not None else None
    job = RepairJob(
        id=body.id or new_id("J"),
        claim_id=body.claim_id,
        shop_id=body.shop_id,
        vehicle=body.vehicle.model_dump(),
        severity=body.severity,
        required_stages=required,
        customer=body.customer.model_dump() if body.customer else None,
        promised_ms=promised,
        current_stage=None,
        progress=0.0,
        on_hold=False,
        hold_reason=None,
        predicted_ms=None,
        delivered_ms=None,
        state={"repair_type": body.repair_type or "body"},
        created_ms=now,
        updated_ms=now,
    )
    session.add(job)
    session.flush()
    return job_view(session, job, caller)


@router.get("", response_model=Page[RepairJobPublic])
def list_jobs(
    session: SessionDep,
    caller: CallerDep,
    limit: LimitQ = 100,
    offset: OffsetQ = 0,
    shop_id: Annotated[str | None, Query(max_length=64)] = None,
    stage: Annotated[str | None, Query(max_length=32)] = None,
    claim_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[RepairJobPublic]:
    query = select(RepairJob)
    if caller.role is Role.SHOP:
        query = query.where(RepairJob.shop_id == caller.shop_id)
    elif caller.role is Role.CLAIMANT:
        query = query.where(RepairJob.id == caller.job_id)
    elif not caller.is_staff:
        raise forbid("repair jobs")
    if shop_id is not None:
        query = query.where(RepairJob.shop_id == shop_id)
    if stage is not None:
        query = query.where(RepairJob.current_stage == stage)
    if claim_id is not None:
        query = query.where(RepairJob.claim_id == claim_id)
    return paginate(
        session,
        query,
        limit=limit,
        offset=offset,
        order_by=[RepairJob.created_ms.desc(), RepairJob.id],
        view=lambda j: job_view(session, j, caller, brief=True),
    )


@router.get("/{job_id}", response_model=RepairJobPublic)
def get_job(job_id: str, session: SessionDep, caller: CallerDep) -> RepairJobPublic:
    return job_view(session, visible_job(session, caller, job_id), caller)


def photo_view(p: PhotoRow, caller: Caller) -> PhotoPublic:
    """The photo with its checks; a caller other than staff sees only its own side of a reuse."""
    checks = p.checks if caller.is_staff or p.checks is None else redacted_details(p.checks, caller.shop_id)
    return PhotoPublic(
        id=p.id,
        job_id=p.job_id,
        stage=p.stage,
        taken_ms=p.taken_ms,
        content_type=p.content_type,
        size=p.size,
        checked=p.checked,
        flags=list(p.flags or []),
        checks=checks,
        url=f"/api/v1/repair-jobs/{p.job_id}/photos/{p.id}",
    )


def job_view(session: SessionDep, job: RepairJob, caller: Caller, *, brief: bool = False) -> RepairJobPublic:
    if brief:  # lists: the job without its timeline and photos, with its active alerts
        active = session.execute(select(Alert).where(Alert.job_id == job.id, Alert.state != "resolved")).scalars()
        return RepairJobPublic(**_fields(job), alerts=[_alert(a, caller) for a in active])
    events = session.execute(
        select(RepairEvent).where(RepairEvent.job_id == job.id).order_by(RepairEvent.at_ms, RepairEvent.id)
    ).scalars()
    photos = session.execute(select(PhotoRow).where(PhotoRow.job_id == job.id).order_by(PhotoRow.taken_ms)).scalars()
    alerts = session.execute(
        select(Alert).where(Alert.job_id == job.id).order_by(Alert.opened_ms.desc()).limit(100)
    ).scalars()
    return RepairJobPublic(
        **_fields(job),
        timeline=[
            TimelineEntry(
                at_ms=e.at_ms, event=e.event, stage=e.stage, progress=e.progress, note=e.note, reason=e.reason
            )
            for e in events
        ],
        photos=[photo_view(p, caller) for p in photos],
        alerts=[_alert(a, caller) for a in alerts],
    )


def _alert(a: Alert, caller: Caller) -> AlertBrief:
    matches = (a.details or {}).get("reuse")
    message = a.message
    if not caller.is_staff and isinstance(matches, list):
        message = scrub(message, matches, caller.shop_id)
    return AlertBrief(id=a.id, kind=a.kind, state=a.state, severity=a.severity, message=message, opened_ms=a.opened_ms)


def _fields(job: RepairJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "claim_id": job.claim_id,
        "shop_id": job.shop_id,
        "vehicle": job.vehicle,
        "severity": job.severity,
        "required_stages": job.required_stages,
        "customer": job.customer,
        "promised_ms": job.promised_ms,
        "current_stage": job.current_stage,
        "progress": job.progress,
        "on_hold": job.on_hold,
        "hold_reason": job.hold_reason,
        "predicted_ms": job.predicted_ms,
        "delivered_ms": job.delivered_ms,
        "created_ms": job.created_ms,
        "state": {k: v for k, v in (job.state or {}).items() if not k.startswith("_")},
    }
