"""Dependencies shared by the routers, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Caller, Role, hash_token, same_secret
from api.context import AppContext
from devices.timestamps import now_ms
from store.state.schema import ApiToken

_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/tokens, or the admin token")


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.context
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(ctx: ContextDep) -> Iterator[Session]:
    with ctx.stores.state.session() as session:
        yield session


#: scope="function": the session commits before the response is sent, so what a POST answered is there for
#: the caller's next request (with the default scope FastAPI would commit after sending the response).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def get_caller(
    ctx: ContextDep, session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "missing bearer token", headers=_UNAUTHORIZED)
    return resolve_caller(ctx, session, credentials.credentials)


def resolve_caller(ctx: AppContext, session: Session, token: str) -> Caller:
    """The caller a bearer token stands for; 401 when it is unknown, revoked or expired."""
    if same_secret(token, ctx.admin_token):
        return Caller(role=Role.ADMIN, token_id="bootstrap")  # noqa: S106 - an id, not a secret
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar_one_or_none()
    if row is None or row.revoked:
        raise HTTPException(401, "unknown or revoked token", headers=_UNAUTHORIZED)
    if row.expires_ms is not None and row.expires_ms <= now_ms():
        raise HTTPException(401, "token expired", headers=_UNAUTHORIZED)
    patient_id, job_id = row.patient_id, row.job_id
    if row.case_id is not None and (patient_id is None or job_id is None):
        # a claimant's case token also opens the repair job and rehab progress that serve the case
        from store.state.schema_cases import Case

        case = session.get(Case, row.case_id)
        if case is not None:
            patient_id, job_id = patient_id or case.patient_id, job_id or case.job_id
    return Caller(
        role=Role(row.role),
        token_id=row.id,
        manager_id=row.manager_id,
        shop_id=row.shop_id,
        patient_id=patient_id,
        job_id=job_id,
        case_id=row.case_id,
    )


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(*roles: Role) -> Callable[[Caller], Caller]:
    """A dependency admitting only the given roles (403 for the others)."""
    allowed = frozenset(roles)

    def check(caller: CallerDep) -> Caller:
        if caller.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise HTTPException(403, f"role {caller.role.value} may not do this (needs {names})")
        return caller

    return check


AdminDep = Annotated[Caller, Depends(require(Role.ADMIN))]
StaffDep = Annotated[Caller, Depends(require(Role.ADMIN, Role.CLAIMS_HANDLER))]


def forbid(what: str) -> HTTPException:
    return HTTPException(403, f"this token may not see {what}")


def not_found(what: str) -> HTTPException:
    return HTTPException(404, f"{what} not found")


def token_refusal(ctx: AppContext, token: str) -> str | None:
    """None when the token is valid now, else why it is refused (for checks made outside a route's dependencies)."""
    with ctx.stores.state.session() as session:
        try:
            resolve_caller(ctx, session, token)
        except HTTPException as exc:
            return str(exc.detail)
    return None
