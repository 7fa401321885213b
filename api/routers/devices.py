"""Device registration: binds a wearable to a patient or a gateway to a shop, issues MQTT credentials."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException
from sqlalchemy.orm import Session

from api.deps import ContextDep, SessionDep, StaffDep
from api.errors import ERROR_RESPONSES, ErrorOut
from api.schemas.registry import DeviceCreate, DeviceCredentials
from devices.credentials import mosquitto_hash, new_password
from devices.timestamps import now_ms
from devices.topics import DeviceKind, MessageKind, topic_for
from store.broker_accounts import AccountTaken, DeviceAccounts
from store.dynsec_client import DynsecError, DynsecUnavailable
from store.state.schema import Device, Patient, Shop

log = logging.getLogger(__name__)

router = APIRouter(prefix="/devices", tags=["devices"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=201,
    response_model=DeviceCredentials,
    responses={
        503: {"model": ErrorOut, "description": "the broker did not create the device's account: not registered"}
    },
)
def register_device(body: DeviceCreate, session: SessionDep, ctx: ContextDep, _caller: StaffDep) -> DeviceCredentials:
    if body.device_id.startswith("aftercare-"):
        raise HTTPException(422, f"device_id: {body.device_id!r} is reserved for the platform's own broker users")
    if session.get(Device, body.device_id) is not None:
        raise HTTPException(409, f"device {body.device_id!r} is already registered")
    if body.patient_id is not None and session.get(Patient, body.patient_id) is None:
        raise HTTPException(422, f"patient_id: patient {body.patient_id!r} does not exist")
    if body.shop_id is not None and session.get(Shop, body.shop_id) is None:
        raise HTTPException(422, f"shop_id: shop {body.shop_id!r} does not exist")
    password = new_password()
    device = Device(
        device_id=body.device_id,
        kind=body.kind,
        patient_id=body.patient_id,
        shop_id=body.shop_id,
        password_hash=mosquitto_hash(password),
        created_ms=now_ms(),
    )
    session.add(device)
    session.flush()  # a concurrent registration of the same id fails here (409), before the broker is asked
    kinds = (
        [MessageKind.TELEMETRY] if body.kind == DeviceKind.WEARABLE.value else [MessageKind.BEACON, MessageKind.PHOTO]
    ) + [MessageKind.STATUS]
    if ctx.device_accounts is not None:
        _create_broker_account(ctx.device_accounts, session, device.device_id, DeviceKind(body.kind), password)
    return DeviceCredentials(
        device_id=device.device_id,
        kind=device.kind,
        patient_id=device.patient_id,
        shop_id=device.shop_id,
        created_ms=device.created_ms,
        mqtt_username=device.device_id,
        mqtt_password=password,
        topics=[topic_for(k, device.device_id) for k in kinds],
    )


def _create_broker_account(
    accounts: DeviceAccounts, session: Session, device_id: str, kind: DeviceKind, password: str
) -> None:
    """The broker account first, then the registry row: a failure leaves neither, or at worst an account
    nobody knows the password of (the answer was never sent), which `aftercare broker sync` removes and
    a new registration of the same id overwrites. The other order could leave a registered device that
    cannot log in, and the broker cannot be given it again: the registry keeps only the hash."""
    try:
        accounts.register_device(device_id, kind, password)
    except AccountTaken as exc:
        session.rollback()
        log.warning("device %s not registered: %s", device_id, exc)
        raise HTTPException(409, f"device_id: {device_id!r} names an existing broker account; choose another") from exc
    except (DynsecError, DynsecUnavailable) as exc:
        session.rollback()
        log.error("device %s not registered: its broker account failed: %s", device_id, exc)
        raise HTTPException(
            503,
            f"device {device_id!r} was not registered: the broker did not create its account ({exc}); retry later",
            headers={"Retry-After": "5"},
        ) from exc
    try:
        session.commit()
    except Exception:
        session.rollback()
        try:
            accounts.remove_device(device_id)
        except (DynsecError, DynsecUnavailable) as exc:
            log.error(
                "broker account of unregistered device %s left behind (broker sync removes it): %s", device_id, exc
            )
        raise
