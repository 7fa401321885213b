"""One ordered list of everything in a case, read from every table that holds a part of it.

Sources: the payment and the case log (opening, links, services, close), plan versions, the linked
repair job's stage, hold and resume beacons and its photos, the linked patient's plan adjustments,
alerts on the job, the patient or the case, the recovery file's steps, notifications and feedback.
The claimant's view leaves out what is internal (the recovery deadline alert, delivery errors).
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cases.money import optional_number, payment_for_json
from cases.texts import money
from devices.timestamps import ms_to_iso
from store.state.schema import Alert, PhotoRow, PlanAdjustment, RepairEvent
from store.state.schema_cases import Case, CaseFeedback, CaseLogEntry, CaseNotification, CasePlan, SubrogationEvent

#: order of sources at the same instant (the cause before its consequences)
_SOURCE_ORDER: Final = {"payment": 0, "case": 1, "plan": 2, "notification": 9}
INTERNAL_ALERTS: Final = frozenset({"subrogation_deadline"})
MAX_ENTRIES: Final = 5000


def build_timeline(session: Session, case: Case, *, for_claimant: bool = False) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []

    def add(at_ms: int, source: str, kind: str, summary: str, data: dict[str, Any] | None = None) -> None:
        entries.append(
            {
                "at_ms": at_ms,
                "at": ms_to_iso(at_ms),
                "source": source,
                "kind": kind,
                "summary": summary,
                "data": data or {},
            }
        )

    payment = case.payment or {}
    add(
        case.paid_ms,
        "payment",
        "payment",
        f"paid {money(payment.get('amount', 0), payment.get('currency', ''))} by {payment.get('method')}",
        {"components": payment_for_json(payment).get("components", []), "method": payment.get("method")},
    )
    for entry in session.execute(select(CaseLogEntry).where(CaseLogEntry.case_id == case.id)).scalars():
        add(entry.at_ms, "case", entry.kind, entry.summary, {**(entry.data or {}), "by": entry.by})
    for plan in session.execute(select(CasePlan).where(CasePlan.case_id == case.id)).scalars():
        add(
            plan.created_ms,
            "plan",
            "plan_version",
            f"plan version {plan.version}: " + ", ".join(i["key"] for i in plan.items),
            {"version": plan.version, "reason": plan.reason, "changes": plan.changes},
        )
    if case.job_id is not None:
        beacons = select(RepairEvent).where(
            RepairEvent.job_id == case.job_id, RepairEvent.event.in_(("stage", "hold", "resume"))
        )
        for event in session.execute(beacons).scalars():
            label = {"stage": f"stage {event.stage}", "hold": f"on hold: {event.reason or '-'}", "resume": "resumed"}[
                event.event
            ]
            add(
                event.at_ms,
                "repair",
                event.event,
                label,
                {"job_id": event.job_id, "stage": event.stage, "note": event.note, "reason": event.reason},
            )
        for photo in session.execute(select(PhotoRow).where(PhotoRow.job_id == case.job_id)).scalars():
            add(
                photo.taken_ms,
                "photo",
                "photo",
                f"photo at stage {photo.stage}",
                {
                    "photo_id": photo.id,
                    "stage": photo.stage,
                    "flags": list(photo.flags or []),
                    "url": f"/api/v1/repair-jobs/{photo.job_id}/photos/{photo.id}",
                },
            )
    if case.patient_id is not None:
        for adj in session.execute(
            select(PlanAdjustment).where(PlanAdjustment.patient_id == case.patient_id)
        ).scalars():
            add(
                adj.created_ms,
                "rehab",
                "adjustment_proposed",
                f"rehab plan adjustment ({adj.direction}) proposed: {adj.rationale}",
                {"adjustment_id": adj.id, "direction": adj.direction},
            )
            if adj.decided_ms is not None:
                add(
                    adj.decided_ms,
                    "rehab",
                    f"adjustment_{adj.state}",
                    f"rehab plan adjustment {adj.state}",
                    {"adjustment_id": adj.id, "note": adj.decision_note},
                )
    conditions = [Alert.subject == case.id]
    if case.job_id is not None:
        conditions.append(Alert.job_id == case.job_id)
    if case.patient_id is not None:
        conditions.append(Alert.patient_id == case.patient_id)
    for alert in session.execute(select(Alert).where(or_(*conditions))).scalars():
        if for_claimant and alert.kind in INTERNAL_ALERTS:
            continue
        add(
            alert.opened_ms,
            "alert",
            alert.kind,
            alert.message,
            {"alert_id": alert.id, "state": alert.state, "severity": alert.severity},
        )
    for step in session.execute(select(SubrogationEvent).where(SubrogationEvent.case_id == case.id)).scalars():
        summary = (
            f"recovery {step.from_stage} -> {step.stage}"
            if step.from_stage and step.from_stage != step.stage
            else f"recovery {step.stage}"
        )
        add(
            step.at_ms,
            "subrogation",
            "subrogation_step",
            summary,
            {
                "stage": step.stage,
                "claimed": optional_number(step.claimed),
                "recovered": optional_number(step.recovered),
                "refund": optional_number(step.refund),
            },
        )
    for note in session.execute(select(CaseNotification).where(CaseNotification.case_id == case.id)).scalars():
        data: dict[str, Any] = {"notification_id": note.id, "state": note.state, "channel": note.channel}
        if not for_claimant:
            data.update(attempts=note.attempts, last_error=note.last_error)
        add(note.created_ms, "notification", note.kind, (note.payload or {}).get("subject", note.kind), data)
    for answer in session.execute(select(CaseFeedback).where(CaseFeedback.case_id == case.id)).scalars():
        add(
            answer.created_ms,
            "feedback",
            "feedback",
            f"{answer.milestone}: {answer.satisfaction}/5, would recommend {answer.would_recommend}/10",
            {"milestone": answer.milestone},
        )
    entries.sort(key=lambda e: (e["at_ms"], _SOURCE_ORDER.get(e["source"], 5)))
    return entries[:MAX_ENTRIES]
