"""Rehab: plans and their versions, check-ins, daily metrics, and the adjustments a manager decides on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from api.auth import Caller, Role
from api.deps import CallerDep, SessionDep, forbid, not_found
from api.errors import ERROR_RESPONSES
from api.routers.patients import visible_patient
from api.schemas.rehab import (
    AdjustmentPublic,
    CheckInCreate,
    CheckInPublic,
    DayMetricsPublic,
    Decision,
    MetricsPublic,
    MilestoneUpdate,
    PlanCreate,
    PlanPublic,
)
from api.timeparams import parse_instant
from api.visibility import get_visible
from devices.timestamps import now_ms
from monitor.rehab.plan import RehabPlanContent, default_plan
from monitor.rehab_plans import current_plan, new_version, plan_versions
from store.state.schema import DailyMetrics, Patient, Plan, PlanAdjustment
from store.state.schema_rehab import CheckIn

router = APIRouter(tags=["rehab"], responses=ERROR_RESPONSES)

MANAGERS = (Role.ADMIN, Role.CLAIMS_HANDLER, Role.REHAB_MANAGER)


def _manage(session: SessionDep, caller: Caller, patient_id: str) -> Patient:
    patient = visible_patient(session, caller, patient_id)
    if caller.role not in MANAGERS:
        raise forbid("plan changes (read only)")
    return patient


def plan_view(plan: Plan, patient: Patient) -> PlanPublic:
    zone = RehabPlanContent.model_validate(plan.content).zone_bpm()
    return PlanPublic(
        patient_id=plan.patient_id,
        version=plan.version,
        content=plan.content,
        created_by=plan.created_by,
        reason=plan.reason,
        created_ms=plan.created_ms,
        hr_zone_bpm=[round(zone[0], 1), round(zone[1], 1)],
    )


@router.post("/patients/{patient_id}/plans", status_code=201, response_model=PlanPublic)
def create_plan(patient_id: str, body: PlanCreate, session: SessionDep, caller: CallerDep) -> PlanPublic:
    patient = _manage(session, caller, patient_id)
    content = body.content or default_plan(patient.resting_hr or 65.0, patient.max_hr or 175.0)
    plan = new_version(session, patient.id, content.model_dump(mode="json"), by=caller.name, reason=body.reason)
    return plan_view(plan, patient)


@router.get("/patients/{patient_id}/plans/current", response_model=PlanPublic)
def get_current_plan(patient_id: str, session: SessionDep, caller: CallerDep) -> PlanPublic:
    patient = visible_patient(session, caller, patient_id)
    plan = current_plan(session, patient.id)
    if plan is None:
        raise not_found(f"a plan for patient {patient_id!r}")
    return plan_view(plan, patient)


@router.get("/patients/{patient_id}/plans", response_model=list[PlanPublic])
def list_plans(patient_id: str, session: SessionDep, caller: CallerDep) -> list[PlanPublic]:
    patient = visible_patient(session, caller, patient_id)
    return [plan_view(p, patient) for p in plan_versions(session, patient.id)]


@router.post("/patients/{patient_id}/checkins", status_code=201, response_model=CheckInPublic)
def record_checkin(patient_id: str, body: CheckInCreate, session: SessionDep, caller: CallerDep) -> CheckIn:
    """Record a psychological check-in's outcome; the plan's next check-in moves on by its interval."""
    patient = _manage(session, caller, patient_id)
    row = CheckIn(
        patient_id=patient.id,
        held_ms=parse_instant("held_at", str(body.held_at), now_ms()),
        outcome=body.outcome,
        mood=body.mood,
        note=body.note,
        recorded_by=caller.name,
    )
    session.add(row)
    session.flush()
    plan = current_plan(session, patient.id)
    if plan is not None:
        content = RehabPlanContent.model_validate(plan.content)
        checks = content.psychological.check_ins
        held = datetime.fromtimestamp(row.held_ms / 1000, tz=UTC).date()
        nxt = max(checks.next_date, held + timedelta(days=checks.every_days))
        if nxt != checks.next_date:
            doc = content.model_dump(mode="json")
            doc["psychological"]["check_ins"]["next_date"] = nxt.isoformat()
            new_version(
                session,
                patient.id,
                doc,
                by=caller.name,
                reason=f"check-in held {held.isoformat()} ({body.outcome}); next on {nxt.isoformat()}",
            )
    return row


@router.post("/patients/{patient_id}/milestones/{index}", response_model=PlanPublic)
def update_milestone(
    patient_id: str, index: int, body: MilestoneUpdate, session: SessionDep, caller: CallerDep
) -> PlanPublic:
    """Mark a daily-life milestone done (or not); a new plan version records who and why."""
    patient = _manage(session, caller, patient_id)
    plan = current_plan(session, patient.id)
    if plan is None:
        raise not_found(f"a plan for patient {patient_id!r}")
    doc = RehabPlanContent.model_validate(plan.content).model_dump(mode="json")
    milestones = doc["daily_life"]["milestones"]
    if not 0 <= index < len(milestones):
        raise HTTPException(404, f"milestone {index} not found (the plan has {len(milestones)})")
    milestones[index]["done"] = body.done
    name = milestones[index]["name"]
    reason = f"milestone '{name}' {'reached' if body.done else 'reopened'}" + (f": {body.note}" if body.note else "")
    return plan_view(new_version(session, patient.id, doc, by=caller.name, reason=reason), patient)


@router.get("/patients/{patient_id}/checkins", response_model=list[CheckInPublic])
def list_checkins(patient_id: str, session: SessionDep, caller: CallerDep) -> list[CheckIn]:
    patient = visible_patient(session, caller, patient_id)
    return list(
        session.execute(
            select(CheckIn).where(CheckIn.patient_id == patient.id).order_by(CheckIn.held_ms.desc())
        ).scalars()
    )


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


@router.get("/patients/{patient_id}/metrics", response_model=MetricsPublic)
def get_metrics(
    patient_id: str,
    session: SessionDep,
    caller: CallerDep,
    start: Annotated[str | None, Query(description="RFC 3339 or ms; default 30 days ago")] = None,
    end: Annotated[str | None, Query(description="RFC 3339 or ms; default now")] = None,
) -> MetricsPublic:
    patient = visible_patient(session, caller, patient_id)
    end_ms = parse_instant("end", end, now_ms())
    start_ms = parse_instant("start", start, end_ms - 30 * 86_400_000)
    if start_ms > end_ms:
        raise HTTPException(422, "start must not be after end")
    rows = session.execute(
        select(DailyMetrics)
        .where(
            DailyMetrics.patient_id == patient.id, DailyMetrics.day >= _day(start_ms), DailyMetrics.day <= _day(end_ms)
        )
        .order_by(DailyMetrics.day)
    ).scalars()
    return MetricsPublic(
        patient_id=patient.id,
        days=[DayMetricsPublic(day=r.day, metrics=r.metrics, computed_ms=r.computed_ms) for r in rows],
    )


@router.get("/patients/{patient_id}/plan-adjustments", response_model=list[AdjustmentPublic])
def list_adjustments(
    patient_id: str,
    session: SessionDep,
    caller: CallerDep,
    state: Annotated[str | None, Query(pattern="^(proposed|approved|rejected|superseded)$")] = None,
) -> list[PlanAdjustment]:
    patient = visible_patient(session, caller, patient_id)
    query = select(PlanAdjustment).where(PlanAdjustment.patient_id == patient.id)
    if state is not None:
        query = query.where(PlanAdjustment.state == state)
    return list(session.execute(query.order_by(PlanAdjustment.created_ms.desc())).scalars())


@router.post(
    "/patients/{patient_id}/plan-adjustments/propose",
    response_model=AdjustmentPublic | None,
    description="Run the weekly adjustment rules now (on demand); null when there is nothing to propose",
)
def propose_now(patient_id: str, session: SessionDep, caller: CallerDep) -> PlanAdjustment | None:
    from monitor.rehab_monitor import propose_for_patient

    patient = _manage(session, caller, patient_id)
    return propose_for_patient(session, patient, now_ms(), force=True)


def _decide(session: SessionDep, caller: Caller, adjustment_id: str) -> tuple[PlanAdjustment, Patient]:
    # the adjustment is behind its patient's wall, checked next (with the patient's name in the detail)
    adj = get_visible(
        session,
        PlanAdjustment,
        adjustment_id,
        caller,
        what=f"plan adjustment {adjustment_id!r}",
        sees=lambda _adj: True,
    )
    patient = visible_patient(session, caller, adj.patient_id)
    if caller.role not in (Role.ADMIN, Role.REHAB_MANAGER):
        raise forbid("plan adjustment decisions (rehab managers decide)")
    if adj.state != "proposed":
        raise HTTPException(409, f"plan adjustment {adj.id} is already {adj.state}")
    return adj, patient


@router.post("/plan-adjustments/{adjustment_id}/approve", response_model=AdjustmentPublic)
def approve(adjustment_id: str, session: SessionDep, caller: CallerDep, body: Decision | None = None) -> PlanAdjustment:
    from store.state.events import publish

    adj, patient = _decide(session, caller, adjustment_id)
    plan = current_plan(session, patient.id)
    if plan is None or plan.version != adj.base_version:
        adj.state = "superseded"
        raise HTTPException(
            409,
            f"the plan changed since this adjustment was proposed (it was based on version "
            f"{adj.base_version}); it is superseded",
        )
    new_version(
        session, patient.id, adj.new_content, by=caller.name, reason=f"approved adjustment {adj.id}: {adj.rationale}"
    )
    adj.state, adj.decided_by, adj.decided_ms = "approved", caller.name, now_ms()
    adj.decision_note = body.note if body else None
    publish(session, "adjustment_approved", {"adjustment_id": adj.id, "patient_id": patient.id}, patient_id=patient.id)
    return adj


@router.post("/plan-adjustments/{adjustment_id}/reject", response_model=AdjustmentPublic)
def reject(adjustment_id: str, session: SessionDep, caller: CallerDep, body: Decision | None = None) -> PlanAdjustment:
    from store.state.events import publish

    adj, patient = _decide(session, caller, adjustment_id)
    adj.state, adj.decided_by, adj.decided_ms = "rejected", caller.name, now_ms()
    adj.decision_note = body.note if body else None
    publish(session, "adjustment_rejected", {"adjustment_id": adj.id, "patient_id": patient.id}, patient_id=patient.id)
    return adj
