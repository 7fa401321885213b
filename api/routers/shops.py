"""Certified repair shops."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from api.auth import Role
from api.deps import CallerDep, SessionDep, StaffDep, forbid, not_found
from api.errors import ERROR_RESPONSES
from api.ids import new_id
from api.pagination import LimitQ, OffsetQ, Page, paginate
from api.schemas.registry import ShopCreate, ShopPublic
from devices.timestamps import now_ms
from store.state.schema import Shop

router = APIRouter(prefix="/shops", tags=["shops"], responses=ERROR_RESPONSES)


@router.post("", status_code=201, response_model=ShopPublic)
def create_shop(body: ShopCreate, session: SessionDep, _caller: StaffDep) -> Shop:
    shop = Shop(
        id=body.id or new_id("S"),
        name=body.name,
        lat=body.lat,
        lon=body.lon,
        makes=body.makes,
        capacity=body.capacity,
        severities=sorted(set(body.severities)),
        certified=body.certified,
        last_heartbeat_ms=None,
        created_ms=now_ms(),
    )
    session.add(shop)
    session.flush()
    return shop


@router.get("", response_model=Page[ShopPublic])
def list_shops(session: SessionDep, caller: CallerDep, limit: LimitQ = 100, offset: OffsetQ = 0) -> Page[ShopPublic]:
    query = select(Shop)
    if caller.role is Role.SHOP:
        query = query.where(Shop.id == caller.shop_id)
    elif not caller.is_staff:
        raise forbid("shops")
    return paginate(session, query, limit=limit, offset=offset, order_by=[Shop.id], view=ShopPublic.model_validate)


def visible_shop(session: SessionDep, caller: CallerDep, shop_id: str) -> Shop:
    if not caller.sees_shop(shop_id):
        raise forbid(f"shop {shop_id!r}")
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise not_found(f"shop {shop_id!r}")
    return shop


@router.get("/{shop_id}", response_model=ShopPublic)
def get_shop(shop_id: str, session: SessionDep, caller: CallerDep) -> Shop:
    return visible_shop(session, caller, shop_id)
