"""Post-claim cases: opened by claims staff when a claim is paid, followed to close by everyone it concerns.

Tenant walls: claims handlers and admins see every case; a claimant only their own (the token's
case, or the case their patient or job token serves); a rehab manager the cases linked to their
patients; a shop none (403). A case that does not exist is 404 for staff and 403 for the others,
so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from api.auth import Caller, Role
from api.deps import CallerDep, SessionDep, StaffDep, forbid, not_found
from api.errors import ERROR_RESPONSES
from api.pagination import LimitQ, OffsetQ, Page, paginate
from api.schemas.cases import (
    CaseLinks,
    CasePublic,
    CaseState,
    FeedbackPublic,
    ItemKey,
    NoticePublic,
    NotificationPublic,
    NpsPublic,
    PlanChange,
    PlanPublic,
    ServiceUpdate,
    SubrogationPublic,
    TimelinePublic,
)
from api.visibility import get_visible
from cases import lifecycle, subrogation
from cases.errors import CaseError
from cases.feedback import feedback_of, nps_view, record_feedback
from cases.inputs import CaseCreate, FeedbackCreate, Language, Line, SubrogationCreate, SubrogationEventCreate
from cases.money import payment_for_json
from cases.opening import notice_in, open_case
from cases.outbox import PENDING, notifications_of
from cases.plans import current_plan, items_with_status, plan_version, plan_versions
from cases.risk_render import render_html, render_pdf
from cases.risk_report import build_report
from cases.timeline import build_timeline
from devices.timestamps import now_ms
from store.state.schema import Patient
from store.state.schema_cases import Case, CaseNotification, CasePlan, Subrogation

router = APIRouter(prefix="/cases", tags=["cases"], responses=ERROR_RESPONSES)

_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
CaseId = Annotated[str, Path(min_length=1, max_length=64, pattern=_ID_PATTERN, description="the case id")]


@contextmanager
def committing(session: SessionDep) -> Iterator[None]:
    """Run a change and commit it before answering; a refused or concurrent change is a 4xx, nothing stored.

    The commit is explicit because the session dependency would otherwise commit only after the
    response is sent, so the client could read its own change before it exists.
    """
    try:
        yield
        session.commit()
    except CaseError as exc:
        session.rollback()
        raise HTTPException(exc.status, exc.detail) from None
    except StaleDataError:
        session.rollback()
        raise HTTPException(409, "the case was changed by another request at the same time; retry") from None


def sees_case(session: SessionDep, caller: Caller, case: Case) -> bool:
    if caller.is_staff:
        return True
    if caller.role is Role.CLAIMANT:
        return (
            caller.case_id == case.id
            or (caller.patient_id is not None and caller.patient_id == case.patient_id)
            or (caller.job_id is not None and caller.job_id == case.job_id)
        )
    if caller.role is Role.REHAB_MANAGER and case.patient_id is not None and caller.manager_id is not None:
        patient = session.get(Patient, case.patient_id)
        return patient is not None and patient.manager_id == caller.manager_id
    return False


def visible_case(session: SessionDep, caller: CallerDep, case_id: str) -> Case:
    """The case if the caller may see it: 404 when missing (staff), 403 when not theirs."""
    if caller.role is Role.SHOP:
        raise forbid("cases")
    return get_visible(
        session, Case, case_id, caller, what=f"case {case_id!r}", sees=lambda c: sees_case(session, caller, c)
    )


def case_view(session: SessionDep, case: Case, *, live: bool = True) -> CasePublic:
    figures = lifecycle.compute_figures(session, case) if live else (case.figures or {})
    return CasePublic(
        id=case.id,
        claim_id=case.claim_id,
        line=case.line,
        state=case.state,
        claimant=case.claimant,
        payment=payment_for_json(case.payment or {}),
        loss=case.loss,
        job_id=case.job_id,
        patient_id=case.patient_id,
        plan_version=case.plan_version,
        services=case.services or {},
        milestones=list(case.milestones or []),
        figures=figures,
        opened_by=case.opened_by,
        opened_ms=case.opened_ms,
        updated_ms=case.updated_ms,
        closed_ms=case.closed_ms,
    )


def plan_view(case: Case, plan: CasePlan) -> PlanPublic:
    items = items_with_status(case, plan.items) if plan.version == case.plan_version else plan.items
    return PlanPublic.model_validate(
        {
            "case_id": case.id,
            "version": plan.version,
            "items": items,
            "omitted": plan.omitted,
            "preferences": plan.preferences,
            "changes": plan.changes,
            "reason": plan.reason,
            "created_by": plan.created_by,
            "created_ms": plan.created_ms,
        }
    )


@router.post("", status_code=201, response_model=CasePublic)
def create_case(body: CaseCreate, session: SessionDep, caller: StaffDep) -> CasePublic:
    with committing(session):
        case = open_case(session, body, by=caller.name, at_ms=now_ms())
    return case_view(session, case)


@router.get("", response_model=Page[CasePublic])
def list_cases(
    session: SessionDep,
    caller: CallerDep,
    limit: LimitQ = 100,
    offset: OffsetQ = 0,
    state: CaseState | None = None,
    line: Line | None = None,
    claim_id: Annotated[str | None, Query(max_length=64, pattern=_ID_PATTERN)] = None,
) -> Page[CasePublic]:
    query = select(Case)
    if caller.role is Role.CLAIMANT:
        mine = [Case.id == caller.case_id] if caller.case_id else []
        mine += [Case.patient_id == caller.patient_id] if caller.patient_id else []
        mine += [Case.job_id == caller.job_id] if caller.job_id else []
        query = query.where(or_(*mine)) if mine else query.where(Case.id.is_(None))
    elif caller.role is Role.REHAB_MANAGER:
        query = query.join(Patient, Patient.id == Case.patient_id).where(Patient.manager_id == caller.manager_id)
    elif not caller.is_staff:
        raise forbid("cases")
    if state is not None:
        query = query.where(Case.state == state)
    if line is not None:
        query = query.where(Case.line == line)
    if claim_id is not None:
        query = query.where(Case.claim_id == claim_id)
    return paginate(
        session,
        query,
        limit=limit,
        offset=offset,
        order_by=[Case.opened_ms.desc(), Case.id],
        view=lambda c: case_view(session, c, live=False),
    )


@router.get("/nps", response_model=NpsPublic)
def get_nps(
    session: SessionDep,
    _caller: StaffDep,
    by: Annotated[Literal["shop", "manager", "line"], Query(description="group answers by")] = "line",
) -> NpsPublic:
    return NpsPublic.model_validate({"by": by, "rows": nps_view(session, by)})


@router.get("/{case_id}", response_model=CasePublic)
def get_case(case_id: CaseId, session: SessionDep, caller: CallerDep) -> CasePublic:
    return case_view(session, visible_case(session, caller, case_id))


@router.post("/{case_id}/links", response_model=CasePublic)
def link_case(case_id: CaseId, body: CaseLinks, session: SessionDep, caller: StaffDep) -> CasePublic:
    case = visible_case(session, caller, case_id)
    with committing(session):
        lifecycle.link(session, case, job_id=body.job_id, patient_id=body.patient_id, by=caller.name, at_ms=now_ms())
    return case_view(session, case)


@router.get("/{case_id}/notice", response_model=NoticePublic)
def get_notice(
    case_id: CaseId,
    session: SessionDep,
    caller: CallerDep,
    lang: Annotated[Language | None, Query(description="default: the claimant's language")] = None,
) -> NoticePublic:
    case = visible_case(session, caller, case_id)
    return NoticePublic.model_validate(notice_in(session, case, lang))


@router.get("/{case_id}/plan", response_model=PlanPublic)
def get_plan(
    case_id: CaseId,
    session: SessionDep,
    caller: CallerDep,
    version: Annotated[int | None, Query(ge=1, le=1_000_000, description="default: the current")] = None,
) -> PlanPublic:
    case = visible_case(session, caller, case_id)
    plan = plan_version(session, case.id, version) if version is not None else current_plan(session, case.id)
    if plan is None:
        raise not_found(f"version {version} of the plan of case {case_id!r}")
    return plan_view(case, plan)


@router.get("/{case_id}/plan/versions", response_model=list[PlanPublic])
def list_plan_versions(case_id: CaseId, session: SessionDep, caller: CallerDep) -> list[PlanPublic]:
    case = visible_case(session, caller, case_id)
    return [plan_view(case, p) for p in plan_versions(session, case.id)]


@router.patch("/{case_id}/plan", response_model=PlanPublic)
def change_plan(case_id: CaseId, body: PlanChange, session: SessionDep, caller: CallerDep) -> PlanPublic:
    """Change the plan (decline the courtesy car, choose another offered shop, ask for home visits...).

    The plan is regenerated by the rules with the change as a preference; the new version's
    `changes` say what changed and why. A request that changes nothing returns the current version.
    """
    case = visible_case(session, caller, case_id)
    if not (caller.is_staff or caller.role is Role.CLAIMANT):
        raise forbid("plan changes (the claimant or claims staff change a plan)")
    with committing(session):
        plan, _ = lifecycle.change_plan(
            session,
            case,
            body.model_dump(exclude_none=True),
            by=caller.name,
            by_role="claimant" if caller.role is Role.CLAIMANT else "staff",
            at_ms=now_ms(),
        )
    return plan_view(case, plan)


@router.post("/{case_id}/services/{key}", response_model=CasePublic)
def update_service(
    case_id: CaseId, key: ItemKey, body: ServiceUpdate, session: SessionDep, caller: CallerDep
) -> CasePublic:
    """Mark a plan item active or done (staff; a rehab manager for the rehab items of their patients' cases).

    A done item completes its parts (a delivered repair ends the courtesy car); when every item is
    done the case closes with its figures and risk report.
    """
    case = visible_case(session, caller, case_id)
    if not (caller.is_staff or (caller.role is Role.REHAB_MANAGER and key in lifecycle.REHAB_KEYS)):
        raise forbid(f"service {key} updates")
    with committing(session):
        lifecycle.require_open(case)
        lifecycle.set_service(
            session, case, key, body.status, by=caller.name, at_ms=now_ms(), note=body.note, strict=True
        )
    return case_view(session, case)


@router.get("/{case_id}/timeline", response_model=TimelinePublic)
def get_timeline(case_id: CaseId, session: SessionDep, caller: CallerDep) -> TimelinePublic:
    case = visible_case(session, caller, case_id)
    entries = build_timeline(session, case, for_claimant=caller.role is Role.CLAIMANT)
    return TimelinePublic.model_validate({"case_id": case.id, "entries": entries})


@router.get("/{case_id}/notifications", response_model=list[NotificationPublic])
def list_notifications(case_id: CaseId, session: SessionDep, caller: CallerDep) -> list[NotificationPublic]:
    case = visible_case(session, caller, case_id)
    return [notification_view(n) for n in notifications_of(session, case.id)]


def notification_view(n: CaseNotification) -> NotificationPublic:
    payload: dict[str, Any] = n.payload or {}
    return NotificationPublic(
        id=n.id,
        case_id=n.case_id,
        kind=n.kind,
        channel=n.channel,
        language=n.language,
        subject=str(payload.get("subject", "")),
        text=str(payload.get("text", "")),
        state=n.state,
        attempts=n.attempts,
        next_attempt_ms=n.next_attempt_ms if n.state == PENDING else None,
        last_status=n.last_status,
        last_error=n.last_error,
        created_ms=n.created_ms,
        delivered_ms=n.delivered_ms,
    )


@router.post("/{case_id}/subrogation", status_code=201, response_model=SubrogationPublic)
def open_subrogation(
    case_id: CaseId, body: SubrogationCreate, session: SessionDep, caller: StaffDep
) -> SubrogationPublic:
    case = visible_case(session, caller, case_id)
    now = now_ms()
    with committing(session):
        file = subrogation.open_file(session, case, body, by=caller.name, at_ms=now)
    return SubrogationPublic.model_validate(subrogation.file_view(session, file, now))


@router.get("/{case_id}/subrogation", response_model=SubrogationPublic)
def get_subrogation(case_id: CaseId, session: SessionDep, caller: CallerDep) -> SubrogationPublic:
    case = visible_case(session, caller, case_id)
    file = session.get(Subrogation, case.id)
    if file is None:
        raise not_found(f"a recovery file for case {case_id!r}")
    return SubrogationPublic.model_validate(subrogation.file_view(session, file, now_ms()))


@router.post("/{case_id}/subrogation/events", status_code=201, response_model=SubrogationPublic)
def add_subrogation_event(
    case_id: CaseId, body: SubrogationEventCreate, session: SessionDep, caller: StaffDep
) -> SubrogationPublic:
    case = visible_case(session, caller, case_id)
    file = session.get(Subrogation, case.id)
    if file is None:
        raise not_found(f"a recovery file for case {case_id!r}")
    now = now_ms()
    with committing(session):
        subrogation.add_event(session, case, file, body, by=caller.name, at_ms=now)
    return SubrogationPublic.model_validate(subrogation.file_view(session, file, now))


@router.post("/{case_id}/feedback", status_code=201, response_model=FeedbackPublic)
def give_feedback(case_id: CaseId, body: FeedbackCreate, session: SessionDep, caller: CallerDep) -> FeedbackPublic:
    """The claimant's answer for a milestone the case reached (a feedback request was sent for it)."""
    case = visible_case(session, caller, case_id)
    if caller.role is not Role.CLAIMANT:
        raise forbid("feedback (only the claimant answers the survey)")
    with committing(session):
        row = record_feedback(session, case, body, by=caller.name, at_ms=now_ms())
    return FeedbackPublic.model_validate(row)


@router.get("/{case_id}/feedback", response_model=list[FeedbackPublic])
def list_feedback(case_id: CaseId, session: SessionDep, caller: CallerDep) -> list[FeedbackPublic]:
    case = visible_case(session, caller, case_id)
    return [FeedbackPublic.model_validate(f) for f in feedback_of(session, case.id)]


@router.get(
    "/{case_id}/risk-report",
    response_model=None,
    responses={
        200: {
            "description": "the report as JSON, a printable HTML page or a PDF",
            "content": {"application/json": {}, "text/html": {}, "application/pdf": {}},
        }
    },
)
def get_risk_report(
    case_id: CaseId,
    session: SessionDep,
    caller: CallerDep,
    format: Annotated[Literal["json", "html", "pdf"], Query()] = "json",
    lang: Annotated[Language | None, Query(description="default: the claimant's language")] = None,
) -> Response:
    case = visible_case(session, caller, case_id)
    report = build_report(session, case, lang)
    if format == "html":
        return HTMLResponse(render_html(report))
    if format == "pdf":
        return Response(
            render_pdf(report),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="risk-report-{case.id}.pdf"'},
        )
    return JSONResponse(report)
