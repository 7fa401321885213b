"""Device registration: binds a wearable to a patient or a gateway to a shop, issues MQTT credentials."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api.context import AppContext
from api.deps import ContextDep, SessionDep, StaffDep
from api.errors import ERROR_RESPONSES
from api.schemas.registry import DeviceCreate, DeviceCredentials
from devices.credentials import mosquitto_hash, new_password
from devices.timestamps import now_ms
from devices.topics import DeviceKind, MessageKind, topic_for
from store.state.schema import Device, Patient, Shop

router = APIRouter(prefix="/devices", tags=["devices"], responses=ERROR_RESPONSES)


@router.post("", status_code=201, response_model=DeviceCredentials)
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
    session.flush()
    kinds = (
        [MessageKind.TELEMETRY] if body.kind == DeviceKind.WEARABLE.value else [MessageKind.BEACON, MessageKind.PHOTO]
    ) + [MessageKind.STATUS]
    _after_registration(ctx, session)
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


def _after_registration(ctx: AppContext, session: SessionDep) -> None:
    """Let the broker know (password file and ACL) when the platform manages Mosquitto's files."""
    hook = ctx.extras.get("on_device_registered")
    if hook is not None:
        session.commit()
        hook()
