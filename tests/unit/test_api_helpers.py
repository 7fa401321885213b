"""`get_visible` (404 for staff, 403 for the others) and `paginate` (one page, the total, the order)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import HTTPException
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from api.auth import Caller, Role
from api.pagination import Page, paginate
from api.visibility import get_visible


class _Base(DeclarativeBase):
    pass


class Thing(_Base):
    __tablename__ = "things"
    id: Mapped[str] = mapped_column(String(10), primary_key=True)
    owner: Mapped[str] = mapped_column(String(10))
    rank: Mapped[int] = mapped_column(Integer)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Thing(id=f"T{i}", owner="a" if i % 2 else "b", rank=10 - i) for i in range(7)])
        s.flush()
        yield s
    engine.dispose()


ADMIN = Caller(role=Role.ADMIN, token_id="t0")
HANDLER = Caller(role=Role.CLAIMS_HANDLER, token_id="t1")
SHOP_A = Caller(role=Role.SHOP, token_id="t2", shop_id="a")


def _owned_by(caller: Caller) -> Callable[[Thing], bool]:
    return lambda thing: caller.is_staff or thing.owner == caller.shop_id


def _status(session: Session, key: str, caller: Caller) -> int:
    try:
        get_visible(session, Thing, key, caller, what=f"thing {key!r}", sees=_owned_by(caller))
    except HTTPException as exc:
        return exc.status_code
    return 200


def test_get_visible_returns_the_row_the_caller_sees(session: Session) -> None:
    thing = get_visible(session, Thing, "T1", SHOP_A, what="thing 'T1'", sees=lambda t: t.owner == "a")
    assert (thing.id, thing.owner) == ("T1", "a")


@pytest.mark.parametrize(
    ("caller", "key", "expected"),
    [
        (ADMIN, "T0", 200),
        (HANDLER, "T0", 200),
        (SHOP_A, "T1", 200),
        (ADMIN, "nope", 404),
        (HANDLER, "nope", 404),  # staff may learn that it does not exist
        (SHOP_A, "T0", 403),
        (SHOP_A, "nope", 403),  # the others cannot tell missing from not theirs
    ],
)
def test_get_visible_status(session: Session, caller: Caller, key: str, expected: int) -> None:
    assert _status(session, key, caller) == expected


def test_get_visible_names_the_resource_in_the_detail(session: Session) -> None:
    with pytest.raises(HTTPException) as missing:
        get_visible(session, Thing, "nope", ADMIN, what="thing 'nope'", sees=lambda _t: True)
    assert missing.value.detail == "thing 'nope' not found"
    with pytest.raises(HTTPException) as hidden:
        get_visible(session, Thing, "T0", SHOP_A, what="thing 'T0'", sees=lambda _t: False)
    assert hidden.value.detail == "this token may not see thing 'T0'"


def test_paginate_pages_in_order_with_the_total(session: Session) -> None:
    query = select(Thing)
    first = paginate(session, query, limit=3, offset=0, order_by=[Thing.rank], view=lambda t: t.id)
    assert first == Page(items=["T6", "T5", "T4"], total=7, limit=3, offset=0)
    last = paginate(session, query, limit=3, offset=6, order_by=[Thing.rank], view=lambda t: t.id)
    assert last.items == ["T0"]
    assert last.total == 7
    beyond = paginate(session, query, limit=3, offset=50, order_by=[Thing.rank], view=lambda t: t.id)
    assert beyond.items == []
    assert beyond.total == 7


def test_paginate_counts_only_what_the_query_selects(session: Session) -> None:
    mine = select(Thing).where(Thing.owner == "a")
    page = paginate(session, mine, limit=2, offset=0, order_by=[Thing.id.desc()], view=lambda t: (t.id, t.owner))
    assert page.total == 3
    assert page.items == [("T5", "a"), ("T3", "a")]
    assert page.model_dump() == {"items": [("T5", "a"), ("T3", "a")], "total": 3, "limit": 2, "offset": 0}
