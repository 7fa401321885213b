"""Alerts of both halves, filtered to what the caller may see, and their lifecycle."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import Select, false, or_, select

from api.auth import Caller, Role
from api.deps import CallerDep, SessionDep, forbid, not_found
from api.errors import ERROR_RESPONSES
from api.pagination import LimitQ, OffsetQ, Page, paginate
from api.schemas.alerts import AlertAction, AlertPublic, AlertStateQ, ShelveRequest
from api.timeparams import parse_instant
from devices.timestamps import now_ms
from monitor import alerts as lifecycle
from monitor.photos.reuse_sides import redacted_details, scrub
from store.state.alert_kinds import alert_kind, may_close
from store.state.schema import Alert, Patient, RepairJob

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=ERROR_RESPONSES)


def scope(query: Select[Any], caller: Caller) -> Select[Any]:
    """Only the alerts of the caller's tenant."""
    if caller.is_staff:
        return query
    if caller.role is Role.REHAB_MANAGER:
        mine = select(Patient.id).where(Patient.manager_id == caller.manager_id)
        return query.where(Alert.patient_id.in_(mine))
    if caller.role is Role.SHOP:
        jobs = select(RepairJob.id).where(RepairJob.shop_id == caller.shop_id)
        return query.where(or_(Alert.shop_id == caller.shop_id, Alert.job_id.in_(jobs)))
    if caller.role is Role.CLAIMANT:
        conds = []
        if caller.patient_id:
            conds.append(Alert.patient_id == caller.patient_id)
        if caller.job_id:
            conds.append(Alert.job_id == caller.job_id)
        return query.where(or_(*conds)) if conds else query.where(false())
    return query.where(false())


def allowed_actions(alert: Alert, caller: Caller) -> list[str]:
    """What the caller may do with the alert in its present state (the rules `_mine` and the routes enforce)."""
    state = lifecycle.AlertState
    if caller.role is Role.CLAIMANT or alert.state == state.RESOLVED:
        return []
    actions = ["ack"] if alert.state == state.OPEN else []
    if may_close(alert.kind, caller.role.value):
        actions.append("resolve")
        if alert.state != state.SHELVED:
            actions.append("shelve")
    return actions


def alert_view(alert: Alert, caller: Caller) -> AlertPublic:
    """The alert as the caller may see it: staff all of it; others only their own side of a photo reuse; with
    the actions the caller may take on it."""
    public = AlertPublic.model_validate(alert).model_copy(update={"actions": allowed_actions(alert, caller)})
    matches = (alert.details or {}).get("reuse")
    if caller.is_staff or not isinstance(matches, list) or not matches:
        return public
    return public.model_copy(
        update={
            "details": redacted_details(alert.details, caller.shop_id),
            "message": scrub(alert.message, matches, caller.shop_id),
        }
    )


@router.get("", response_model=Page[AlertPublic])
def list_alerts(
    session: SessionDep,
    caller: CallerDep,
    limit: LimitQ = 100,
    offset: OffsetQ = 0,
    state: Annotated[AlertStateQ | None, Query(description="active = not resolved")] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    subject: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(description="opened at or after (RFC 3339 or ms)")] = None,
    until: Annotated[str | None, Query(description="opened before (RFC 3339 or ms)")] = None,
) -> Page[AlertPublic]:
    query = scope(select(Alert), caller)
    if state == "active":
        query = query.where(Alert.state.in_(lifecycle.ACTIVE))
    elif state is not None:
        query = query.where(Alert.state == state)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if subject is not None:
        query = query.where(Alert.subject == subject)
    if since is not None:
        query = query.where(Alert.opened_ms >= parse_instant("since", since, 0))
    if until is not None:
        query = query.where(Alert.opened_ms < parse_instant("until", until, 0))
    return paginate(
        session,
        query,
        limit=limit,
        offset=offset,
        order_by=[Alert.opened_ms.desc(), Alert.id],
        view=lambda alert: alert_view(alert, caller),
    )


def _mine(session: SessionDep, caller: Caller, alert_id: str) -> Alert:
    alert: Alert | None = session.execute(scope(select(Alert).where(Alert.id == alert_id), caller)).scalar_one_or_none()
    if alert is None:
        if session.get(Alert, alert_id) is None:
            raise not_found(f"alert {alert_id!r}")
        raise forbid(f"alert {alert_id!r}")
    if caller.role is Role.CLAIMANT:
        raise forbid("alert actions (claimants read only)")
    return alert


def _closable(session: SessionDep, caller: Caller, alert_id: str) -> Alert:
    """The alert if the caller may resolve or shelve it: its kind's ``closed_by`` decides (403 otherwise)."""
    alert = _mine(session, caller, alert_id)
    if not may_close(alert.kind, caller.role.value):
        kind = alert_kind(alert.kind)
        roles = ", ".join(sorted(kind.closed_by)) if kind is not None and kind.closed_by else "staff"
        raise HTTPException(
            403, f"role {caller.role.value} may acknowledge a {alert.kind} alert but only {roles} resolve or shelve it"
        )
    return alert


@router.post("/{alert_id}/ack", response_model=AlertPublic)
def acknowledge(alert_id: str, session: SessionDep, caller: CallerDep, body: AlertAction | None = None) -> AlertPublic:
    alert = _mine(session, caller, alert_id)
    try:
        return alert_view(lifecycle.acknowledge(session, alert, by=caller.name, now_ms=now_ms()), caller)
    except lifecycle.LifecycleError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/{alert_id}/resolve", response_model=AlertPublic)
def resolve(alert_id: str, session: SessionDep, caller: CallerDep, body: AlertAction | None = None) -> AlertPublic:
    alert = _closable(session, caller, alert_id)
    note = body.note if body else None
    try:
        return alert_view(lifecycle.resolve(session, alert, by=caller.name, now_ms=now_ms(), note=note), caller)
    except lifecycle.LifecycleError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/{alert_id}/shelve", response_model=AlertPublic)
def shelve(alert_id: str, body: ShelveRequest, session: SessionDep, caller: CallerDep) -> AlertPublic:
    alert = _closable(session, caller, alert_id)
    now = now_ms()
    if body.until is not None:
        until = parse_instant("until", str(body.until), now)
    elif body.for_seconds is not None:
        until = now + body.for_seconds * 1000
    else:
        raise HTTPException(422, "until or for_seconds: a shelved alert needs an expiry")
    try:
        shelved = lifecycle.shelve(session, alert, by=caller.name, now_ms=now, reason=body.reason, until_ms=until)
        return alert_view(shelved, caller)
    except lifecycle.LifecycleError as exc:
        raise HTTPException(409, str(exc)) from None
