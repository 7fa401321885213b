"""Patients in rehabilitation after a claim."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.auth import Role
from api.deps import CallerDep, SessionDep, forbid
from api.errors import ERROR_RESPONSES
from api.ids import new_id
from api.pagination import LimitQ, OffsetQ, Page, paginate
from api.schemas.registry import PatientCreate, PatientPublic
from api.visibility import get_visible
from devices.timestamps import now_ms
from store.state.schema import Patient

router = APIRouter(prefix="/patients", tags=["patients"], responses=ERROR_RESPONSES)


def visible_patient(session: SessionDep, caller: CallerDep, patient_id: str) -> Patient:
    """The patient if the caller may see it: 404 when missing (staff), 403 when not theirs."""
    return get_visible(
        session,
        Patient,
        patient_id,
        caller,
        what=f"patient {patient_id!r}",
        sees=lambda p: caller.sees_patient(p.id, p.manager_id),
    )


@router.post("", status_code=201, response_model=PatientPublic)
def create_patient(body: PatientCreate, session: SessionDep, caller: CallerDep) -> Patient:
    if caller.role not in (Role.ADMIN, Role.CLAIMS_HANDLER, Role.REHAB_MANAGER):
        raise forbid("patient registration")
    manager_id = body.manager_id
    if caller.role is Role.REHAB_MANAGER:
        if manager_id not in (None, caller.manager_id):
            raise forbid("another manager's patients")
        manager_id = caller.manager_id
    patient = Patient(
        id=body.id or new_id("P"),
        name=body.name,
        claim_id=body.claim_id,
        manager_id=manager_id,
        resting_hr=body.resting_hr,
        max_hr=body.max_hr,
        created_ms=now_ms(),
    )
    session.add(patient)
    session.flush()
    return patient


@router.get("", response_model=Page[PatientPublic])
def list_patients(
    session: SessionDep,
    caller: CallerDep,
    limit: LimitQ = 100,
    offset: OffsetQ = 0,
    manager_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[PatientPublic]:
    query = select(Patient)
    if caller.role is Role.REHAB_MANAGER:
        query = query.where(Patient.manager_id == caller.manager_id)
    elif caller.role is Role.CLAIMANT:
        query = query.where(Patient.id == caller.patient_id)
    elif not caller.is_staff:
        raise forbid("patients")
    if manager_id is not None:
        query = query.where(Patient.manager_id == manager_id)
    return paginate(
        session, query, limit=limit, offset=offset, order_by=[Patient.id], view=PatientPublic.model_validate
    )


@router.get("/{patient_id}", response_model=PatientPublic)
def get_patient(patient_id: str, session: SessionDep, caller: CallerDep) -> Patient:
    return visible_patient(session, caller, patient_id)
