"""Versioned rehab plans: every change, by a manager or an approved adjustment, is a new version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.timestamps import now_ms
from store.state.events import publish
from store.state.schema import Plan


def current_plan(session: Session, patient_id: str) -> Plan | None:
    return session.execute(
        select(Plan).where(Plan.patient_id == patient_id).order_by(Plan.version.desc()).limit(1)
    ).scalar_one_or_none()


def plan_versions(session: Session, patient_id: str) -> list[Plan]:
    return list(
        session.execute(select(Plan).where(Plan.patient_id == patient_id).order_by(Plan.version.desc())).scalars()
    )


def new_version(
    session: Session, patient_id: str, content: dict[str, Any], *, by: str, reason: str, at_ms: int | None = None
) -> Plan:
    current = current_plan(session, patient_id)
    plan = Plan(
        patient_id=patient_id,
        version=(current.version + 1) if current else 1,
        content=content,
        created_by=by,
        reason=reason,
        created_ms=at_ms if at_ms is not None else now_ms(),
    )
    session.add(plan)
    session.flush()
    publish(
        session,
        "plan_version",
        {"patient_id": patient_id, "version": plan.version, "by": by, "reason": reason},
        patient_id=patient_id,
    )
    return plan
