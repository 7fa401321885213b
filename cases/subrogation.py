"""Subrogation: recovering the paid loss from a liable third party, and refunding the claimant's deductible.

The recovery file moves through validated stages::

    investigation -> evidence -> demand -> negotiation -> settlement | litigation -> recovered -> closed

(a file may be closed, unrecovered, from any stage; demand may go straight to settlement,
litigation or recovery; settlement and litigation may turn into each other). The principal claimed
earns simple yearly interest from the payment date; what is recovered pays the principal first,
and the claimant's deductible is refunded in proportion to the principal recovered. The claim is
time-barred at the limitation deadline (default 3 years from the loss): an alert
``subrogation_deadline`` is raised `WARN_DAYS` before it while the file is still active. The
claimant gets a progress notification at every step and at least every `PROGRESS_EVERY_DAYS`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.errors import CaseConflict
from cases.inputs import SubrogationCreate, SubrogationEventCreate
from cases.language import lang
from cases.lifecycle import record
from cases.money import ZERO, money_number, optional_number, to_money
from cases.outbox import enqueue
from cases.texts import money, say, subrogation_stage_name
from monitor.alerts import AlertInput, active_alert, clear, raise_alert
from store.state.alert_kinds import Severity
from store.state.schema_cases import Case, Subrogation, SubrogationEvent

DAY_MS: Final = 86_400_000
STAGES: Final = (
    "investigation",
    "evidence",
    "demand",
    "negotiation",
    "settlement",
    "litigation",
    "recovered",
    "closed",
)
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "investigation": frozenset({"evidence", "closed"}),
    "evidence": frozenset({"demand", "closed"}),
    "demand": frozenset({"negotiation", "settlement", "litigation", "recovered", "closed"}),
    "negotiation": frozenset({"settlement", "litigation", "closed"}),
    "settlement": frozenset({"recovered", "litigation", "closed"}),
    "litigation": frozenset({"settlement", "recovered", "closed"}),
    "recovered": frozenset({"closed"}),
    "closed": frozenset(),
}
#: stages in which the limitation deadline still matters
ACTIVE_STAGES: Final = frozenset(STAGES) - {"recovered", "closed"}
WARN_DAYS: Final = 90
CRITICAL_DAYS: Final = 30
PROGRESS_EVERY_DAYS: Final = 30
ALERT_KIND: Final = "subrogation_deadline"


def allowed_next(stage: str) -> list[str]:
    return [s for s in STAGES if s in TRANSITIONS.get(stage, frozenset())]


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(allowed_next(current)) or "none (the file is closed)"
        raise CaseConflict(f"stage: a recovery file cannot go from {current} to {target} (allowed: {allowed})")


def interest(principal: Decimal, rate: float, from_ms: int, to_ms: int) -> Decimal:
    """Simple yearly interest on `principal` between the two instants (actual/365), in cents."""
    elapsed_ms = max(0, to_ms - from_ms)
    return to_money(principal * Decimal(str(rate)) * elapsed_ms / (DAY_MS * 365))


def refund_due(deductible: Decimal, claimed: Decimal, recovered: Decimal) -> Decimal:
    """The claimant's deductible refunded pro rata: deductible x principal recovered / principal claimed."""
    if claimed <= 0 or deductible <= 0:
        return ZERO
    return to_money(deductible * min(recovered, claimed) / claimed)


def limitation_deadline(from_ms: int, years: int) -> int:
    """`years` after the instant (29 February falls back to 28 February)."""
    start = datetime.fromtimestamp(from_ms / 1000, tz=UTC)
    try:
        end = start.replace(year=start.year + years)
    except ValueError:
        end = start.replace(year=start.year + years, day=28)
    return int(end.timestamp() * 1000)


def open_file(session: Session, case: Case, body: SubrogationCreate, *, by: str, at_ms: int) -> Subrogation:
    """Open the recovery file of a case whose loss names a liable third party."""
    if not (case.loss or {}).get("third_party_liable"):
        raise CaseConflict(f"case {case.id}: the loss names no liable third party (loss.third_party_liable is false)")
    if session.get(Subrogation, case.id) is not None:
        raise CaseConflict(f"case {case.id} already has a recovery file")
    payment = case.payment or {}
    deductible = body.deductible if body.deductible is not None else to_money(payment.get("deductible") or 0)
    claimed = body.claimed if body.claimed is not None else to_money(payment["amount"]) + deductible
    start = case.loss_ms if case.loss_ms is not None else case.paid_ms
    file = Subrogation(
        case_id=case.id,
        stage="investigation",
        third_party=body.third_party.model_dump(mode="json"),
        currency=payment["currency"],
        claimed=claimed,
        interest_rate=body.interest_rate,
        interest_from_ms=case.paid_ms,
        recovered=ZERO,
        recovered_ms=None,
        deductible=deductible,
        deductible_refunded=ZERO,
        deadline_ms=limitation_deadline(start, body.limitation_years),
        last_progress_ms=at_ms,
        opened_by=by,
        opened_ms=at_ms,
        updated_ms=at_ms,
    )
    session.add(file)
    session.add(
        SubrogationEvent(
            case_id=case.id,
            at_ms=at_ms,
            from_stage=None,
            stage="investigation",
            claimed=claimed,
            recovered=None,
            refund=None,
            note=body.note,
            by=by,
        )
    )
    session.flush()
    record(
        session,
        case,
        "subrogation",
        f"recovery file opened against {body.third_party.name}",
        by=by,
        at_ms=at_ms,
        data={"stage": "investigation", "claimed": money_number(claimed)},
    )
    _progress_notice(session, case, file, at_ms=at_ms)
    check_deadline(session, case, file, at_ms)
    return file


def add_event(
    session: Session, case: Case, file: Subrogation, body: SubrogationEventCreate, *, by: str, at_ms: int
) -> SubrogationEvent:
    """A step of the file: a stage change, a new principal claimed, an amount recovered (or several)."""
    if file.stage == "closed":
        raise CaseConflict(f"the recovery file of case {case.id} is closed")
    target = body.stage if body.stage is not None and body.stage != file.stage else None
    if target is not None:
        check_transition(file.stage, target)
    if body.claimed is not None and file.stage == "recovered":
        raise CaseConflict("claimed: the file is recovered; the principal can no longer change")
    recovered_now = body.recovered or ZERO
    if target == "recovered" and file.recovered + recovered_now <= 0:
        raise CaseConflict("stage: nothing has been recovered; give the amount recovered")
    previous = file.stage
    if body.claimed is not None:
        file.claimed = body.claimed
    refund: Decimal | None = None
    if recovered_now > 0:
        file.recovered = file.recovered + recovered_now
        file.recovered_ms = at_ms
        due = refund_due(file.deductible, file.claimed, file.recovered)
        refund = max(ZERO, due - file.deductible_refunded)
        file.deductible_refunded = file.deductible_refunded + refund
    if target is not None:
        file.stage = target
    file.updated_ms = at_ms
    event = SubrogationEvent(
        case_id=case.id,
        at_ms=at_ms,
        from_stage=previous,
        stage=file.stage,
        claimed=body.claimed,
        recovered=recovered_now or None,
        refund=refund,
        note=body.note,
        by=by,
    )
    session.add(event)
    session.flush()
    parts = [f"{previous} -> {file.stage}" if target else f"stage {file.stage}"]
    if body.claimed is not None:
        parts.append(f"claimed {money(body.claimed, file.currency)}")
    if recovered_now:
        parts.append(f"recovered {money(recovered_now, file.currency)}")
    if refund:
        parts.append(f"deductible refund {money(refund, file.currency)}")
    record(
        session,
        case,
        "subrogation",
        "; ".join(parts),
        by=by,
        at_ms=at_ms,
        data={
            "stage": file.stage,
            "from_stage": previous,
            "claimed": optional_number(body.claimed),
            "recovered": optional_number(recovered_now or None),
            "refund": optional_number(refund),
        },
    )
    _progress_notice(session, case, file, at_ms=at_ms)
    if file.stage in ACTIVE_STAGES:
        check_deadline(session, case, file, at_ms)
    else:
        clear(session, ALERT_KIND, case.id, now_ms=at_ms, note=f"recovery file {file.stage}")
    return event


def check_deadline(session: Session, case: Case, file: Subrogation, now_ms: int, *, warn_days: int = WARN_DAYS) -> bool:
    """Raise (or escalate) the deadline alert once the limitation deadline is near; True when one is active."""
    if file.stage not in ACTIVE_STAGES:
        return False
    days_left = (file.deadline_ms - now_ms) // DAY_MS
    if days_left > warn_days:
        return False
    severity = Severity.CRITICAL if days_left <= CRITICAL_DAYS else Severity.WARNING
    current = active_alert(session, ALERT_KIND, case.id)
    if current is not None and current.severity == severity:
        return True
    deadline = datetime.fromtimestamp(file.deadline_ms / 1000, tz=UTC).date().isoformat()
    party = (file.third_party or {}).get("name", "the third party")
    message = (
        f"recovery against {party} for case {case.id} is time-barred on {deadline} "
        f"({'overdue' if days_left < 0 else f'{days_left} days left'}; stage {file.stage})"
    )
    alert, _ = raise_alert(
        session,
        AlertInput(
            kind=ALERT_KIND,
            subject=case.id,
            subject_type="case",
            severity=severity,
            message=message,
            at_ms=now_ms,
            value=float(days_left),
            details={
                "case_id": case.id,
                "deadline": deadline,
                "stage": file.stage,
                "claimed": money_number(file.claimed),
                "recovered": money_number(file.recovered),
            },
        ),
    )
    alert.severity = severity
    return True


def progress_reminder(
    session: Session, case: Case, file: Subrogation, now_ms: int, *, every_days: int = PROGRESS_EVERY_DAYS
) -> bool:
    """Tell the claimant where the file stands when the last progress notice is `every_days` old."""
    if file.stage == "closed" or now_ms - file.last_progress_ms < every_days * DAY_MS:
        return False
    _progress_notice(session, case, file, at_ms=now_ms, reminder=True)
    return True


def _progress_notice(session: Session, case: Case, file: Subrogation, *, at_ms: int, reminder: bool = False) -> None:
    lg = lang(case)
    stage = subrogation_stage_name(file.stage, lg)
    text = say(
        lg,
        "n.subrogation_progress.text",
        party=(file.third_party or {}).get("name", "-"),
        stage=stage,
        recovered=money(file.recovered, file.currency),
        refunded=money(file.deductible_refunded, file.currency),
    )
    if reminder:
        text = f"{say(lg, 'n.subrogation_progress.reminder')} {text}"
    enqueue(
        session,
        case,
        "subrogation_progress",
        subject=say(lg, "n.subrogation_progress", stage=stage),
        text=text,
        data={
            "stage": file.stage,
            "recovered": money_number(file.recovered),
            "deductible_refunded": money_number(file.deductible_refunded),
            "currency": file.currency,
            "reminder": reminder,
        },
        dedup_key=f"subrogation:{case.id}:{file.last_progress_ms}" if reminder else None,
        at_ms=at_ms,
    )
    file.last_progress_ms = at_ms


def file_view(session: Session, file: Subrogation, now_ms: int) -> dict[str, Any]:
    """The recovery file with its computed amounts and steps (the shape of `SubrogationPublic`)."""
    steps = list(
        session.execute(
            select(SubrogationEvent)
            .where(SubrogationEvent.case_id == file.case_id)
            .order_by(SubrogationEvent.at_ms, SubrogationEvent.id)
        ).scalars()
    )
    until = file.recovered_ms if file.stage in ("recovered", "closed") and file.recovered_ms else now_ms
    accrued = interest(file.claimed, file.interest_rate, file.interest_from_ms, until)
    total = file.claimed + accrued
    return {
        "case_id": file.case_id,
        "stage": file.stage,
        "allowed_next": allowed_next(file.stage),
        "third_party": file.third_party,
        "currency": file.currency,
        "claimed": file.claimed,
        "interest_rate": file.interest_rate,
        "interest": accrued,
        "total_due": total,
        "recovered": file.recovered,
        "outstanding": max(ZERO, total - file.recovered),
        "deductible": file.deductible,
        "deductible_refund_due": refund_due(file.deductible, file.claimed, file.recovered),
        "deductible_refunded": file.deductible_refunded,
        "deadline_ms": file.deadline_ms,
        "days_to_deadline": int((file.deadline_ms - now_ms) // DAY_MS),
        "last_progress_ms": file.last_progress_ms,
        "opened_ms": file.opened_ms,
        "updated_ms": file.updated_ms,
        "steps": [
            {
                "at_ms": s.at_ms,
                "from_stage": s.from_stage,
                "stage": s.stage,
                "claimed": s.claimed,
                "recovered": s.recovered,
                "refund": s.refund,
                "note": s.note,
                "by": s.by,
            }
            for s in steps
        ],
    }


def deadline_date(file: Subrogation) -> date:
    return datetime.fromtimestamp(file.deadline_ms / 1000, tz=UTC).date()
