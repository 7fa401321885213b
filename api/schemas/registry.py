"""Patients, shops, devices and tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.fields import DeviceId, Lat, Lon, Name, ResourceId, Severity


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientCreate(_In):
    id: ResourceId | None = None
    name: Name
    claim_id: ResourceId | None = None
    manager_id: ResourceId | None = None
    resting_hr: float | None = Field(None, ge=25, le=140)
    max_hr: float | None = Field(None, ge=80, le=230)

    @model_validator(mode="after")
    def _hr_order(self) -> PatientCreate:
        if self.resting_hr is not None and self.max_hr is not None and self.max_hr <= self.resting_hr:
            raise ValueError("max_hr must be above resting_hr")
        return self


class PatientPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    claim_id: str | None
    manager_id: str | None
    resting_hr: float | None
    max_hr: float | None
    created_ms: int


class ShopCreate(_In):
    id: ResourceId | None = None
    name: Name
    lat: Lat
    lon: Lon
    makes: list[Name] = Field(min_length=1, max_length=100)
    capacity: int = Field(ge=1, le=10_000)
    severities: list[Severity] = Field(min_length=1, max_length=3)
    certified: bool = True


class ShopPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    lat: float
    lon: float
    makes: list[str]
    capacity: int
    severities: list[str]
    certified: bool
    last_heartbeat_ms: int | None
    created_ms: int


class DeviceCreate(_In):
    device_id: DeviceId
    kind: Literal["wearable", "shop_gateway"]
    patient_id: ResourceId | None = None
    shop_id: ResourceId | None = None

    @model_validator(mode="after")
    def _binding(self) -> DeviceCreate:
        if self.kind == "wearable" and (self.patient_id is None or self.shop_id is not None):
            raise ValueError("a wearable is bound to a patient_id (and no shop_id)")
        if self.kind == "shop_gateway" and (self.shop_id is None or self.patient_id is not None):
            raise ValueError("a shop_gateway is bound to a shop_id (and no patient_id)")
        return self


class DevicePublic(BaseModel):
    device_id: str
    kind: str
    patient_id: str | None
    shop_id: str | None
    created_ms: int


class DeviceCredentials(DevicePublic):
    mqtt_username: str
    mqtt_password: str = Field(description="shown once; only its hash is stored")
    topics: list[str]


class TokenCreate(_In):
    role: Literal["admin", "claims_handler", "rehab_manager", "shop", "claimant"]
    manager_id: ResourceId | None = None
    shop_id: ResourceId | None = None
    patient_id: ResourceId | None = None
    job_id: ResourceId | None = None
    case_id: ResourceId | None = None
    label: str | None = Field(None, max_length=200)
    expires_in: int | None = Field(None, ge=60, le=366 * 86_400, description="seconds; default 30 days")

    @model_validator(mode="after")
    def _tenant(self) -> TokenCreate:
        tenants = {
            k: v
            for k, v in (
                ("manager_id", self.manager_id),
                ("shop_id", self.shop_id),
                ("patient_id", self.patient_id),
                ("job_id", self.job_id),
                ("case_id", self.case_id),
            )
            if v is not None
        }
        needed = {
            "rehab_manager": {"manager_id"},
            "shop": {"shop_id"},
            "claimant": {"patient_id", "job_id", "case_id"},
        }.get(self.role, set())
        if self.role in ("admin", "claims_handler"):
            if tenants:
                raise ValueError(f"role {self.role} takes no tenant")
        elif not tenants or not set(tenants) <= needed:
            raise ValueError(f"role {self.role} needs {' or '.join(sorted(needed))} (and nothing else)")
        return self


class TokenPublic(BaseModel):
    id: str
    token: str = Field(description="shown once; only its hash is stored")
    role: str
    expires_ms: int | None


class DeadLetterPublic(BaseModel):
    id: int
    received_ms: int
    topic: str
    device_id: str | None
    seq: int | None
    reason: str
    reason_code: str
    payload: str = Field(description="the first 4 KiB, decoded as UTF-8 with replacement")
    payload_size: int
