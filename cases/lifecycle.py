"""What happens to an open case: links to its services, plan changes, services done, milestones, close.

Each function changes the case inside the caller's session and, in the same transaction, writes the
case log (its timeline), the claimant's notifications (the outbox) and the live feed event, so
either all of it is committed or none of it is.
"""

from __future__ import annotations

import logging
from statistics import fmean
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.errors import CaseConflict, CaseInvalid
from cases.language import lang
from cases.metrics import mean_adherence
from cases.money import money_number
from cases.outbox import enqueue
from cases.plan_rules import PART_OF, Preference, diff, preferences_from_json
from cases.plans import current_plan, draft_for, store_version
from cases.risk_report import build_report
from cases.texts import joined, say
from store.state.events import publish
from store.state.schema import Device, Patient, Plan, RepairJob
from store.state.schema_cases import Case, CaseFeedback, CaseLogEntry, CasePlan, Subrogation

log = logging.getLogger(__name__)

DAY_MS: Final = 86_400_000
_ORDER: Final = {"pending": 0, "active": 1, "done": 2}
REPAIR_KEYS: Final = frozenset({"repair", "courtesy_car", "extended_warranty", "pickup_delivery"})
REHAB_KEYS: Final = frozenset({"rehab", "wearable_kit", "home_visits"})


def record(
    session: Session, case: Case, kind: str, summary: str, *, by: str, at_ms: int, data: dict[str, Any] | None = None
) -> None:
    """Write a case log entry and the matching live feed event."""
    session.add(CaseLogEntry(case_id=case.id, at_ms=at_ms, kind=kind, summary=summary, data=data or {}, by=by))
    # case_id: staff and the claimant see it live; patient_id: so does the rehab manager of a linked patient
    # (never job_id: shops see nothing of cases)
    publish(
        session,
        f"case_{kind}",
        {"case_id": case.id, "summary": summary, **(data or {})},
        case_id=case.id,
        patient_id=case.patient_id,
    )
    case.updated_ms = max(case.updated_ms, at_ms)


def require_open(case: Case) -> None:
    if case.state != "open":
        raise CaseConflict(f"case {case.id} is {case.state}")


# --- links -------------------------------------------------------------------------------------------


def link(session: Session, case: Case, *, job_id: str | None, patient_id: str | None, by: str, at_ms: int) -> None:
    """Attach the repair job and/or the rehab patient that serve the case."""
    require_open(case)
    plan = current_plan(session, case.id)
    keys = {i["key"] for i in (plan.items if plan else [])}
    if job_id is not None:
        if session.get(RepairJob, job_id) is None:
            raise CaseInvalid("job_id", f"repair job {job_id!r} does not exist")
        if "repair" not in keys:
            raise CaseInvalid("job_id", f"the plan of case {case.id} has no repair")
        other = session.execute(select(Case.id).where(Case.job_id == job_id, Case.id != case.id)).scalar()
        if other is not None:
            raise CaseConflict(f"repair job {job_id!r} already serves case {other}")
    if patient_id is not None:
        if session.get(Patient, patient_id) is None:
            raise CaseInvalid("patient_id", f"patient {patient_id!r} does not exist")
        if "rehab" not in keys:
            raise CaseInvalid("patient_id", f"the plan of case {case.id} has no rehab")
        other = session.execute(select(Case.id).where(Case.patient_id == patient_id, Case.id != case.id)).scalar()
        if other is not None:
            raise CaseConflict(f"patient {patient_id!r} already serves case {other}")
    if job_id is not None and job_id != case.job_id:
        case.job_id = job_id
        record(
            session, case, "linked", f"repair job {job_id} serves the case", by=by, at_ms=at_ms, data={"job_id": job_id}
        )
        set_service(session, case, "repair", "active", by=by, at_ms=at_ms, note=f"repair job {job_id}")
    if patient_id is not None and patient_id != case.patient_id:
        case.patient_id = patient_id
        record(
            session,
            case,
            "linked",
            f"patient {patient_id} is enrolled in rehab",
            by=by,
            at_ms=at_ms,
            data={"patient_id": patient_id},
        )
        set_service(session, case, "rehab", "active", by=by, at_ms=at_ms, note=f"patient {patient_id}")
    sync_services(session, case, at_ms)


# --- plan changes ------------------------------------------------------------------------------------


def change_plan(
    session: Session, case: Case, change: dict[str, Any], *, by: str, by_role: str, at_ms: int
) -> tuple[CasePlan, bool]:
    """Apply a change request (fields of `PlanChange`); returns the plan and whether a new version was made."""
    require_open(case)
    plan = current_plan(session, case.id)
    assert plan is not None, "every case has a plan from its opening"
    keys = {i["key"] for i in plan.items} | {o["key"] for o in plan.omitted}
    prefs = preferences_from_json(plan.preferences)
    offers = list(case.offers or [])
    vehicle = (case.loss or {}).get("vehicle") or {}
    if change.get("shop_rank") is not None:
        rank = int(change["shop_rank"])
        if "repair" not in keys or not offers:
            raise CaseInvalid("shop_rank", "the plan offers no shops")
        if rank > len(offers):
            raise CaseInvalid("shop_rank", f"only {len(offers)} shop(s) were offered")
        change = {**change, "shop_id": offers[rank - 1]["shop_id"]}
    if change.get("shop_id") is not None and change["shop_id"] not in {o["shop_id"] for o in offers}:
        offered = ", ".join(o["shop_id"] for o in offers) or "none"
        raise CaseInvalid("shop_id", f"{change['shop_id']!r} is not one of the offered shops ({offered})")
    for name in ("courtesy_car", "pickup_delivery", "extended_warranty"):
        if change.get(name) is not None and "repair" not in keys:
            raise CaseInvalid(name, f"the plan of case {case.id} has no repair")
    if change.get("courtesy_car") is True and vehicle.get("drivable", True):
        raise CaseInvalid("courtesy_car", "a courtesy car is offered only when the vehicle cannot be driven")
    if change.get("home_visits") is not None and "rehab" not in keys:
        raise CaseInvalid("home_visits", f"the plan of case {case.id} has no rehab")
    for name in ("courtesy_car", "shop_id", "pickup_delivery", "home_visits", "extended_warranty"):
        if change.get(name) is not None:
            prefs[name] = Preference(value=change[name], by=by_role)
    reason = change.get("note") or f"change requested by {by}"
    preview = diff(plan.items, draft_for(case, prefs), lang(case))
    if not preview:
        return plan, False
    services = case.services or {}
    for item in preview:
        if item["change"] != "added" and (services.get(item["key"]) or {}).get("status") == "done":
            raise CaseConflict(f"{item['key']} is already done; it cannot be {item['change']}")
    new = store_version(session, case, prefs, by=by, reason=reason, at_ms=at_ms)
    record(
        session,
        case,
        "plan_changed",
        f"plan version {new.version}: " + "; ".join(f"{c['change']} {c['key']}" for c in new.changes),
        by=by,
        at_ms=at_ms,
        data={"version": new.version, "changes": [{"key": c["key"], "change": c["change"]} for c in new.changes]},
    )
    titles = {i["key"]: i["title"] for i in plan.items + new.items}
    text = say(
        lang(case),
        "n.plan_changed.text",
        version=new.version,
        changes="; ".join(
            say(lang(case), f"n.change.{c['change']}", title=titles.get(c["key"], c["key"]), reason=c["reason"])
            for c in new.changes
        ),
    )
    enqueue(
        session,
        case,
        "plan_changed",
        subject=say(lang(case), "n.plan_changed"),
        text=text,
        data={"version": new.version, "changes": new.changes},
        at_ms=at_ms,
    )
    _forget_status_of_removed(case, new)
    try_close(session, case, by=by, at_ms=at_ms)
    return new, True


def _forget_status_of_removed(case: Case, plan: CasePlan) -> None:
    keys = {i["key"] for i in plan.items}
    services = dict(case.services or {})
    if any(k not in keys for k in services):
        case.services = {k: v for k, v in services.items() if k in keys}


# --- services and milestones -------------------------------------------------------------------------


def set_service(
    session: Session,
    case: Case,
    key: str,
    status: str,
    *,
    by: str,
    at_ms: int,
    note: str | None = None,
    strict: bool = False,
) -> list[str]:
    """Move a plan item forward (pending -> active -> done); done also completes its parts. Returns keys moved."""
    plan = current_plan(session, case.id)
    items = {i["key"]: i for i in (plan.items if plan else [])}
    if key not in items:
        if strict:
            raise CaseInvalid("key", f"the plan of case {case.id} has no {key!r}")
        return []
    services = dict(case.services or {})
    targets = [key] + ([k for k, parent in PART_OF.items() if parent == key and k in items] if status == "done" else [])
    moved: list[str] = []
    for k in targets:
        current = (services.get(k) or {}).get("status", "pending")
        if _ORDER[status] < _ORDER[current]:
            if strict and k == key:
                raise CaseConflict(f"{key} is already {current}")
            continue
        if _ORDER[status] == _ORDER[current]:
            continue
        services[k] = {"status": status, "at_ms": at_ms, "by": by, **({"note": note} if note else {})}
        moved.append(k)
    if not moved:
        return []
    case.services = services
    for k in moved:
        record(
            session,
            case,
            "service",
            f"{items[k]['title']}: {status}",
            by=by,
            at_ms=at_ms,
            data={"key": k, "status": status, **({"note": note} if note else {})},
        )
        milestone = items[k].get("milestone")
        if status == "done" and milestone:
            reach_milestone(session, case, milestone, at_ms=at_ms)
    if status == "done":
        try_close(session, case, by=by, at_ms=at_ms)
    return moved


def reach_milestone(session: Session, case: Case, milestone: str, *, at_ms: int) -> None:
    """Record the milestone and ask the claimant for feedback on it (once)."""
    if milestone in (case.milestones or []):
        return
    case.milestones = [*(case.milestones or []), milestone]
    lg = lang(case)
    enqueue(
        session,
        case,
        "feedback_request",
        subject=say(lg, "n.feedback_request"),
        text=say(lg, "n.feedback_request.text", milestone=say(lg, f"milestone.{milestone}")),
        data={"milestone": milestone, "feedback_url": f"/api/v1/cases/{case.id}/feedback"},
        dedup_key=f"feedback:{case.id}:{milestone}",
        at_ms=at_ms,
    )


def sync_services(session: Session, case: Case, at_ms: int) -> int:
    """Read the linked job and patient: a delivered car completes the repair, a registered wearable the kit."""
    if case.state != "open":
        return 0
    moved = 0
    if case.job_id is not None:
        job = session.get(RepairJob, case.job_id)
        if job is not None:
            if job.delivered_ms is not None or job.current_stage == "delivered":
                moved += len(
                    set_service(
                        session,
                        case,
                        "repair",
                        "done",
                        by="repair monitor",
                        at_ms=job.delivered_ms or at_ms,
                        note="car delivered",
                    )
                )
            elif job.current_stage is not None:
                moved += len(set_service(session, case, "repair", "active", by="repair monitor", at_ms=at_ms))
    if case.patient_id is not None and case.state == "open":
        wearable = session.execute(
            select(Device.device_id).where(Device.patient_id == case.patient_id, Device.kind == "wearable").limit(1)
        ).scalar()
        if wearable is not None:
            moved += len(
                set_service(
                    session,
                    case,
                    "wearable_kit",
                    "done",
                    by="rehab monitor",
                    at_ms=at_ms,
                    note=f"wearable {wearable} registered",
                )
            )
        has_plan = session.execute(select(Plan.id).where(Plan.patient_id == case.patient_id).limit(1)).scalar()
        if has_plan is not None:
            moved += len(set_service(session, case, "rehab", "active", by="rehab monitor", at_ms=at_ms))
    return moved


# --- close -------------------------------------------------------------------------------------------


def try_close(session: Session, case: Case, *, by: str, at_ms: int) -> bool:
    """Close the case when every service of its plan is done; returns whether it closed now."""
    if case.state != "open":
        return False
    plan = current_plan(session, case.id)
    services = case.services or {}
    if plan is None or any((services.get(i["key"]) or {}).get("status") != "done" for i in plan.items):
        return False
    case.state = "closed"
    case.closed_ms = at_ms
    case.figures = compute_figures(session, case, at_ms=at_ms)
    case.risk_report = build_report(session, case, lang(case), at_ms=at_ms)
    record(
        session, case, "closed", "every service of the plan is done", by=by, at_ms=at_ms, data={"figures": case.figures}
    )
    lg = lang(case)
    enqueue(
        session,
        case,
        "case_closed",
        subject=say(lg, "n.case_closed"),
        text=say(lg, "n.case_closed.text", claim_id=case.claim_id),
        data={"figures": case.figures},
        at_ms=at_ms,
    )
    advice = [a["text"] for a in case.risk_report.get("advice", [])][:3]
    if advice:
        enqueue(
            session,
            case,
            "risk_report",
            subject=say(lg, "n.risk_report"),
            text=say(lg, "n.risk_report.text", advice=joined(advice, lg) if lg == "zh" else " ".join(advice)),
            data={"report_url": f"/api/v1/cases/{case.id}/risk-report?format=html"},
            at_ms=at_ms,
        )
    reach_milestone(session, case, "closure", at_ms=at_ms)
    log.info("case %s closed", case.id)
    return True


def compute_figures(session: Session, case: Case, *, at_ms: int | None = None) -> dict[str, Any]:
    """Days to keys, rehab adherence, amount recovered and feedback, as far as the case has them."""
    figures: dict[str, Any] = {
        "days_to_keys": None,
        "rehab_adherence": None,
        "amount_recovered": None,
        "feedback": None,
    }
    services = case.services or {}
    if case.job_id is not None:
        job = session.get(RepairJob, case.job_id)
        if job is not None and job.delivered_ms is not None:
            figures["days_to_keys"] = round((job.delivered_ms - case.paid_ms) / DAY_MS, 1)
    if figures["days_to_keys"] is None and (services.get("repair") or {}).get("status") == "done":
        figures["days_to_keys"] = round((services["repair"]["at_ms"] - case.paid_ms) / DAY_MS, 1)
    if case.patient_id is not None:
        figures["rehab_adherence"] = mean_adherence(session, case.patient_id)
    file = session.get(Subrogation, case.id)
    if file is not None:
        figures["amount_recovered"] = money_number(file.recovered)
        figures["deductible_refunded"] = money_number(file.deductible_refunded)
    answers = list(session.execute(select(CaseFeedback).where(CaseFeedback.case_id == case.id)).scalars())
    if answers:
        promoters = sum(a.would_recommend >= 9 for a in answers)
        detractors = sum(a.would_recommend <= 6 for a in answers)
        figures["feedback"] = {
            "answers": len(answers),
            "satisfaction_mean": round(fmean(a.satisfaction for a in answers), 2),
            "nps": round(100 * (promoters - detractors) / len(answers), 1),
        }
    return figures
