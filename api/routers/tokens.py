"""API tokens for a role and a tenant (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, HTTPException
from sqlalchemy.orm import Session

from api.auth import hash_token, new_token
from api.deps import AdminDep, ContextDep, SessionDep
from api.errors import ERROR_RESPONSES
from api.ids import new_id
from api.schemas.registry import TokenCreate, TokenPublic
from devices.timestamps import now_ms
from store.state.schema import ApiToken, Patient, RepairJob, Shop
from store.state.schema_cases import Case

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=ERROR_RESPONSES)

DEFAULT_TTL_S = 30 * 86_400


@router.post("", status_code=201, response_model=TokenPublic)
def issue_token(body: TokenCreate, session: SessionDep, _caller: AdminDep) -> TokenPublic:
    _subjects_exist(session, body)
    token = new_token()
    now = now_ms()
    expires = now + 1000 * (body.expires_in or DEFAULT_TTL_S)
    row = ApiToken(
        id=new_id("T"),
        token_hash=hash_token(token),
        role=body.role,
        manager_id=body.manager_id,
        shop_id=body.shop_id,
        patient_id=body.patient_id,
        job_id=body.job_id,
        case_id=body.case_id,
        label=body.label,
        expires_ms=expires,
        revoked=False,
        created_ms=now,
    )
    session.add(row)
    return TokenPublic(id=row.id, token=token, role=row.role, expires_ms=expires)


def _subjects_exist(session: Session, body: TokenCreate) -> None:
    """Every subject a token names exists now: 404 otherwise (a token for an id not created yet would open
    whatever is later created under that id)."""
    for field, model, what in (
        ("shop_id", Shop, "shop"),
        ("patient_id", Patient, "patient"),
        ("job_id", RepairJob, "repair job"),
        ("case_id", Case, "case"),
    ):
        value = getattr(body, field)
        if value is not None and session.get(model, value) is None:
            raise HTTPException(404, f"{field}: {what} {value!r} does not exist")


@router.delete("/{token_id}", status_code=204)
def revoke_token(
    token_id: str, session: SessionDep, _caller: AdminDep, ctx: ContextDep, after: BackgroundTasks
) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise HTTPException(404, f"token {token_id!r} not found")
    row.revoked = True
    # once the revocation is committed, the token's open event streams end (the re-check would end them later)
    after.add_task(ctx.hub.close_token, token_id)
