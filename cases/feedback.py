"""The claimant's survey answers after each milestone, and the satisfaction and NPS views built on them.

An answer about the repair is attributed to the shop of the case's repair job (so the repair
scoring can read `shop_feedback_mean`), an answer about the rehab to the patient's rehab manager;
every answer counts for its line. NPS is the share of promoters (9-10) minus the share of
detractors (0-6), in points from -100 to 100.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import case as when

from cases.errors import CaseConflict
from cases.inputs import FeedbackCreate
from cases.lifecycle import record
from store.state.schema import Patient, RepairJob
from store.state.schema_cases import Case, CaseFeedback

GROUPS: Final = {"shop": CaseFeedback.shop_id, "manager": CaseFeedback.manager_id, "line": CaseFeedback.line}


def record_feedback(session: Session, case: Case, body: FeedbackCreate, *, by: str, at_ms: int) -> CaseFeedback:
    """Store an answer for a milestone the case has reached (one answer per milestone)."""
    reached = case.milestones or []
    if body.milestone not in reached:
        raise CaseConflict(f"milestone: {body.milestone} is not reached yet (reached: {', '.join(reached) or 'none'})")
    if session.execute(
        select(CaseFeedback.id).where(CaseFeedback.case_id == case.id, CaseFeedback.milestone == body.milestone)
    ).first():
        raise CaseConflict(f"milestone: feedback for {body.milestone} was already given")
    shop_id = manager_id = None
    if body.milestone == "repair":
        job = session.get(RepairJob, case.job_id) if case.job_id else None
        shop_id = job.shop_id if job is not None else _chosen_shop(case)
    if body.milestone == "rehab" and case.patient_id is not None:
        patient = session.get(Patient, case.patient_id)
        manager_id = patient.manager_id if patient is not None else None
    row = CaseFeedback(
        case_id=case.id,
        milestone=body.milestone,
        satisfaction=body.satisfaction,
        would_recommend=body.would_recommend,
        comment=body.comment,
        line=case.line,
        shop_id=shop_id,
        manager_id=manager_id,
        created_ms=at_ms,
    )
    session.add(row)
    session.flush()
    record(
        session,
        case,
        "feedback",
        f"{body.milestone}: satisfaction {body.satisfaction}/5, would recommend {body.would_recommend}/10",
        by=by,
        at_ms=at_ms,
        data={"milestone": body.milestone, "satisfaction": body.satisfaction, "would_recommend": body.would_recommend},
    )
    if case.figures is not None:
        from cases.lifecycle import compute_figures

        case.figures = {**case.figures, "feedback": compute_figures(session, case)["feedback"]}
    return row


def _chosen_shop(case: Case) -> str | None:
    offers = case.offers or []
    return offers[0]["shop_id"] if offers else None


def shop_feedback_mean(session: Session, shop_id: str) -> float | None:
    """Claimants' mean satisfaction (1-5) with the shop's repairs; None before the first answer."""
    value = session.execute(select(func.avg(CaseFeedback.satisfaction)).where(CaseFeedback.shop_id == shop_id)).scalar()
    return None if value is None else round(float(value), 3)


def feedback_of(session: Session, case_id: str) -> list[CaseFeedback]:
    return list(
        session.execute(
            select(CaseFeedback)
            .where(CaseFeedback.case_id == case_id)
            .order_by(CaseFeedback.created_ms, CaseFeedback.id)
        ).scalars()
    )


def nps_view(session: Session, by: str) -> list[dict[str, Any]]:
    """Satisfaction and NPS per shop, per rehab manager or per line (answers without that key are left out)."""
    key = GROUPS[by]
    promoters = func.sum(when((CaseFeedback.would_recommend >= 9, 1), else_=0)).cast(Integer)
    detractors = func.sum(when((CaseFeedback.would_recommend <= 6, 1), else_=0)).cast(Integer)
    rows = session.execute(
        select(key, func.count(), func.avg(CaseFeedback.satisfaction), promoters, detractors)
        .where(key.is_not(None))
        .group_by(key)
        .order_by(key)
    ).all()
    out = []
    for group, count, mean, pro, det in rows:
        count, pro, det = int(count), int(pro or 0), int(det or 0)
        out.append(
            {
                "key": group,
                "answers": count,
                "satisfaction_mean": round(float(mean), 2),
                "promoters": pro,
                "passives": count - pro - det,
                "detractors": det,
                "nps": round(100.0 * (pro - det) / count, 1),
            }
        )
    return out
