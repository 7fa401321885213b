"""`GET /events`: server-sent events of new alerts, stage changes and plan adjustments, per tenant.

At most `hub.max_streams_per_token` streams per token (429 beyond); each ends when its token is revoked or
expires (re-checked every `hub.recheck_s`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.background import BackgroundTask

from api.auth import Caller, Role
from api.body_limit import bearer_token
from api.deps import CallerDep, ContextDep, token_refusal
from api.errors import ERROR_RESPONSES, ErrorOut
from api.events import TooManyStreams
from store.state.engine import StateStore
from store.state.schema import EventRow, Patient, RepairJob

log = logging.getLogger(__name__)
router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)


def visibility(state: StateStore, caller: Caller) -> Callable[[EventRow], bool]:
    """A predicate telling which events the caller may receive (tenant lists refreshed every 10 s)."""
    if caller.is_staff:
        return lambda _row: True
    cache: dict[str, object] = {"at": 0.0, "ids": frozenset()}

    def owned() -> frozenset[str]:
        if time.monotonic() - float(cache["at"]) > 10:  # type: ignore[arg-type]
            with state.session() as s:
                ids: list[str] = []
                if caller.role is Role.REHAB_MANAGER:
                    ids = list(s.execute(select(Patient.id).where(Patient.manager_id == caller.manager_id)).scalars())
                elif caller.role is Role.SHOP:
                    ids = list(s.execute(select(RepairJob.id).where(RepairJob.shop_id == caller.shop_id)).scalars())
                cache["ids"] = frozenset(ids)
            cache["at"] = time.monotonic()
        result: frozenset[str] = cache["ids"]  # type: ignore[assignment]
        return result

    def visible(row: EventRow) -> bool:
        if caller.role is Role.REHAB_MANAGER:
            return row.patient_id is not None and row.patient_id in owned()
        if caller.role is Role.SHOP:
            return row.shop_id == caller.shop_id or (row.job_id is not None and row.job_id in owned())
        if caller.role is Role.CLAIMANT:
            return (
                (caller.patient_id is not None and row.patient_id == caller.patient_id)
                or (caller.job_id is not None and row.job_id == caller.job_id)
                or (caller.case_id is not None and row.case_id == caller.case_id)
            )
        return False

    return visible


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "server-sent events"},
        429: {"model": ErrorOut, "description": "this token already holds the most event streams allowed"},
    },
)
async def events(
    request: Request,
    caller: CallerDep,
    ctx: ContextDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    token = bearer_token(request.headers) or ""
    try:
        sub = ctx.hub.subscribe(caller.token_id, visibility(ctx.stores.state, caller))
    except TooManyStreams as exc:
        raise HTTPException(
            429, f"this token already holds {exc.limit} event streams; close one first", headers={"Retry-After": "5"}
        ) from None

    async def still_valid() -> bool:
        try:
            return await asyncio.to_thread(token_refusal, ctx, token) is None
        except Exception:  # the store is down: end the stream; the client reconnects (and is checked) later
            log.warning("could not re-check the token of an event stream; closing it", exc_info=True)
            return False

    stream = ctx.hub.stream(ctx.stores.state, sub, after, request.is_disconnected, still_valid)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        # gives the slot back even when the stream never started (the client left before the headers)
        background=BackgroundTask(ctx.hub.unsubscribe, sub),
    )
