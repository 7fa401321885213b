"""Versions of a case's service plan: generated from the rules, stored, and diffed against the last one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.plan_rules import CaseFacts, PlanDraft, Preferences, RehabOutline, diff, generate, preferences_to_json
from cases.texts import dimension_name
from monitor.rehab.plan import default_plan
from store.state.schema_cases import Case, CasePlan


def facts_of(case: Case, lang: str | None = None) -> CaseFacts:
    claimant = dict(case.claimant)
    if lang is not None:
        claimant["language"] = lang
    return CaseFacts.of(claimant, case.loss, case.line)


def rehab_outline(lang: str) -> RehabOutline:
    """The dimensions of the default rehab plan (`monitor.rehab.plan`), named in the claimant's language."""
    plan = default_plan(65.0, 175.0).model_dump(mode="json")
    keys = [k for k, v in plan.items() if isinstance(v, dict)]
    return RehabOutline(dimensions=tuple(dimension_name(k, lang) for k in keys), plan=plan)


def draft_for(case: Case, prefs: Preferences, *, lang: str | None = None) -> PlanDraft:
    facts = facts_of(case, lang)
    needs_rehab = facts.line == "health" or facts.injury is not None
    return generate(facts, prefs, list(case.offers or []), rehab=rehab_outline(facts.language) if needs_rehab else None)


def current_plan(session: Session, case_id: str) -> CasePlan | None:
    return session.execute(
        select(CasePlan).where(CasePlan.case_id == case_id).order_by(CasePlan.version.desc()).limit(1)
    ).scalar_one_or_none()


def plan_version(session: Session, case_id: str, version: int) -> CasePlan | None:
    return session.execute(
        select(CasePlan).where(CasePlan.case_id == case_id, CasePlan.version == version)
    ).scalar_one_or_none()


def plan_versions(session: Session, case_id: str) -> list[CasePlan]:
    return list(
        session.execute(select(CasePlan).where(CasePlan.case_id == case_id).order_by(CasePlan.version)).scalars()
    )


def store_version(session: Session, case: Case, prefs: Preferences, *, by: str, reason: str, at_ms: int) -> CasePlan:
    """Generate the plan from the case and `prefs`, store it as the next version with its diff."""
    previous = current_plan(session, case.id)
    draft = draft_for(case, prefs)
    lang = facts_of(case).language
    changes = diff(previous.items if previous else [], draft, lang) if previous else []
    plan = CasePlan(
        case_id=case.id,
        version=(previous.version + 1) if previous else 1,
        items=draft.items,
        omitted=draft.omitted,
        preferences=preferences_to_json(prefs),
        changes=changes,
        reason=reason,
        created_by=by,
        created_ms=at_ms,
    )
    session.add(plan)
    session.flush()
    case.plan_version = plan.version
    return plan


def items_with_status(case: Case, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    services = case.services or {}
    return [{**item, "status": (services.get(item["key"]) or {}).get("status", "pending")} for item in items]
