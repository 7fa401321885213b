"""`GET /me`: who the token belongs to, so a dashboard knows which pages to show."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import CallerDep
from api.errors import ERROR_RESPONSES

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)


class MePublic(BaseModel):
    role: str
    manager_id: str | None
    shop_id: str | None
    patient_id: str | None
    job_id: str | None
    case_id: str | None


@router.get("/me", response_model=MePublic)
def me(caller: CallerDep) -> MePublic:
    return MePublic(
        role=caller.role.value,
        manager_id=caller.manager_id,
        shop_id=caller.shop_id,
        patient_id=caller.patient_id,
        job_id=caller.job_id,
        case_id=caller.case_id,
    )
