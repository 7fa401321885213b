"""Rejected device messages with their reasons (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import AdminDep, SessionDep
from api.errors import ERROR_RESPONSES
from api.pagination import LimitQ, OffsetQ, Page, paginate
from api.schemas.registry import DeadLetterPublic
from store.state.schema import DeadLetter

router = APIRouter(prefix="/dead-letters", tags=["dead letters"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[DeadLetterPublic])
def list_dead_letters(
    session: SessionDep,
    _caller: AdminDep,
    limit: LimitQ = 100,
    offset: OffsetQ = 0,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    reason_code: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[DeadLetterPublic]:
    query = select(DeadLetter)
    if device_id is not None:
        query = query.where(DeadLetter.device_id == device_id)
    if reason_code is not None:
        query = query.where(DeadLetter.reason_code == reason_code)
    return paginate(session, query, limit=limit, offset=offset, order_by=[DeadLetter.id.desc()], view=dead_letter_view)


def dead_letter_view(r: DeadLetter) -> DeadLetterPublic:
    return DeadLetterPublic(
        id=r.id,
        received_ms=r.received_ms,
        topic=r.topic,
        device_id=r.device_id,
        seq=r.seq,
        reason=r.reason,
        reason_code=r.reason_code,
        payload=r.payload.decode("utf-8", "replace"),
        payload_size=r.payload_size,
    )
