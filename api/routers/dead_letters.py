"""Rejected device messages with their reasons (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api.deps import AdminDep, SessionDep
from api.errors import ERROR_RESPONSES
from api.pagination import LimitQ, OffsetQ, Page
from api.schemas.registry import DeadLetterPublic
from store.state.schema import DeadLetter

router = APIRouter(prefix="/dead-letters", tags=["dead letters"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[DeadLetterPublic])
def list_dead_letters(session: SessionDep, _caller: AdminDep, limit: LimitQ = 100, offset: OffsetQ = 0,
                      device_id: Annotated[str | None, Query(max_length=64)] = None,
                      reason_code: Annotated[str | None, Query(max_length=40)] = None) -> dict[str, object]:
    query = select(DeadLetter)
    if device_id is not None:
        query = query.where(DeadLetter.device_id == device_id)
    if reason_code is not None:
        query = query.where(DeadLetter.reason_code == reason_code)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(DeadLetter.id.desc()).limit(limit).offset(offset)).scalars().all()
    items = [DeadLetterPublic(id=r.id, received_ms=r.received_ms, topic=r.topic, device_id=r.device_id, seq=r.seq,
                              reason=r.reason, reason_code=r.reason_code,
                              payload=r.payload.decode("utf-8", "replace"), payload_size=r.payload_size)
             for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
