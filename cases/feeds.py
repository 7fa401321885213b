"""Claimant notifications from what happens in the repair and rehab halves (the `events` table).

The repair monitor writes ``stage_change`` and ``warranty_issued`` events (with ``job_id``), alerts
write ``alert`` events, rehab plan versions write ``plan_version`` events (with ``patient_id``). For
every such event of a job or patient that serves a case, the case's claimant gets a notification:
the stage reached, the car ready, a delay, the warranty, the rehab plan ready or changed. Each
notification's dedup key names the event, so reading the same events twice (a restart before the
cursor was saved) sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.language import lang
from cases.outbox import enqueue
from cases.texts import day_text, say, stage_name
from store.state.alert_kinds import is_late
from store.state.schema import EventRow
from store.state.schema_cases import Case

log = logging.getLogger(__name__)

BATCH: Final = 1000


def notify_from_events(session: Session, after_event_id: int, *, limit: int = BATCH) -> int:
    """Turn events after `after_event_id` into notifications; returns the id of the last event examined.

    The return value is the cursor to pass next time (it equals `after_event_id` when nothing is new).
    """
    events = list(
        session.execute(
            select(EventRow).where(EventRow.id > after_event_id).order_by(EventRow.id).limit(limit)
        ).scalars()
    )
    if not events:
        return after_event_id
    jobs = {e.job_id for e in events if e.job_id and e.kind in ("stage_change", "alert", "warranty_issued")}
    patients = {e.patient_id for e in events if e.patient_id and e.kind == "plan_version"}
    by_job = {c.job_id: c for c in session.execute(select(Case).where(Case.job_id.in_(jobs))).scalars()}
    by_patient = {c.patient_id: c for c in session.execute(select(Case).where(Case.patient_id.in_(patients))).scalars()}
    made = 0
    for event in events:
        data = event.data or {}
        if event.kind == "stage_change" and event.job_id in by_job:
            made += _stage(session, by_job[event.job_id], event, data)
        elif event.kind == "alert" and event.job_id in by_job and _is_late(data):
            made += _late(session, by_job[event.job_id], event, data)
        elif event.kind == "warranty_issued" and event.job_id in by_job:
            made += _warranty(session, by_job[event.job_id], event, data)
        elif event.kind == "plan_version" and event.patient_id in by_patient:
            made += _rehab_plan(session, by_patient[event.patient_id], event, data)
    if made:
        log.info("%s claimant notification(s) from events %s..%s", made, events[0].id, events[-1].id)
    return events[-1].id


def _stage(session: Session, case: Case, event: EventRow, data: dict[str, Any]) -> int:
    stage = data.get("stage") or data.get("to") or data.get("current_stage")
    if not isinstance(stage, str):
        return 0
    lg = lang(case)
    if stage == "ready":
        pickup = _planned(session, case, "pickup_delivery")
        kind, subject = "car_ready", say(lg, "n.car_ready")
        text = say(lg, "n.car_ready.delivery" if pickup else "n.car_ready.text")
    else:
        name = stage_name(stage, lg)
        kind, subject, text = (
            "repair_stage",
            say(lg, "n.repair_stage", stage=name),
            say(lg, "n.repair_stage.text", stage=name),
        )
    row = enqueue(
        session,
        case,
        kind,
        subject=subject,
        text=text,
        data={"job_id": event.job_id, "stage": stage, "event_id": event.id},
        dedup_key=f"event:{event.id}:{case.id}",
        at_ms=event.at_ms,
    )
    return int(row is not None)


def _is_late(data: dict[str, Any]) -> bool:
    """An alert the claimant should hear about as a delay (a kind flagged ``late`` in the alert table)."""
    return is_late(str(data.get("kind", "")))


def _late(session: Session, case: Case, event: EventRow, data: dict[str, Any]) -> int:
    lg = lang(case)
    details = data.get("details") or {}
    stage = details.get("stage") if isinstance(details, dict) else None
    row = enqueue(
        session,
        case,
        "repair_late",
        subject=say(lg, "n.repair_late"),
        text=say(lg, "n.repair_late.text", stage=stage_name(stage, lg) if stage else data.get("kind", "-")),
        data={"job_id": event.job_id, "alert_id": data.get("alert_id"), "event_id": event.id},
        dedup_key=f"event:{event.id}:{case.id}",
        at_ms=event.at_ms,
    )
    return int(row is not None)


def _warranty(session: Session, case: Case, event: EventRow, data: dict[str, Any]) -> int:
    lg = lang(case)
    expires = data.get("expires_at_ms")
    until = day_text(datetime.fromtimestamp(expires / 1000, tz=UTC).date(), lg) if isinstance(expires, int) else "-"
    row = enqueue(
        session,
        case,
        "warranty",
        subject=say(lg, "n.warranty"),
        text=say(lg, "n.warranty.text", months=data.get("months", "-"), until=until),
        data={"job_id": event.job_id, "months": data.get("months"), "expires_at_ms": expires, "event_id": event.id},
        dedup_key=f"event:{event.id}:{case.id}",
        at_ms=event.at_ms,
    )
    return int(row is not None)


def _rehab_plan(session: Session, case: Case, event: EventRow, data: dict[str, Any]) -> int:
    lg = lang(case)
    version = int(data.get("version") or 0)
    key = "n.rehab_plan" if version <= 1 else "n.rehab_plan_changed"
    row = enqueue(
        session,
        case,
        "rehab_plan_ready" if version <= 1 else "rehab_plan_changed",
        subject=say(lg, key),
        text=say(lg, f"{key}.text", version=version, reason=data.get("reason") or "-"),
        data={"patient_id": event.patient_id, "version": version, "event_id": event.id},
        dedup_key=f"event:{event.id}:{case.id}",
        at_ms=event.at_ms,
    )
    return int(row is not None)


def _planned(session: Session, case: Case, key: str) -> bool:
    from cases.plans import current_plan

    plan = current_plan(session, case.id)
    return plan is not None and any(i["key"] == key for i in plan.items)
