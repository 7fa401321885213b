"""Limit/offset pagination shared by every list route: the query parameters, the page model and `paginate`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import QueryableAttribute, Session

T = TypeVar("T")
R = TypeVar("R")

LimitQ = Annotated[int, Query(ge=1, le=1000, description="page size")]
OffsetQ = Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")]

OrderBy = Sequence[ColumnElement[Any] | QueryableAttribute[Any]]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def paginate(
    session: Session, query: Select[R], *, limit: int, offset: int, order_by: OrderBy, view: Callable[[R], T]
) -> Page[T]:
    """One page of `query` in the given order, each row turned into its public model by `view`.

    `total` counts every row the query matches (the caller's tenant filter included), not just this page.
    """
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(*order_by).limit(limit).offset(offset)).scalars().all()
    return Page(items=[view(row) for row in rows], total=total, limit=limit, offset=offset)
