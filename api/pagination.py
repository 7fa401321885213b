"""Limit/offset pagination shared by every list route."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

LimitQ = Annotated[int, Query(ge=1, le=1000, description="page size")]
OffsetQ = Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
