"""Field formats of the contract that every layer shares: resource ids, device ids, coordinates, names,
severities and the vehicle a repair job or a motor claim names.

Resource ids are the insurer's own references (patient, shop, repair order, case; beacons name jobs by
them), so the API, the device payloads and the domains (`cases/`) validate them alike.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ResourceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
DeviceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Severity = Literal["minor", "moderate", "severe"]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Vehicle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    make: Name
    model: Name
    year: int = Field(ge=1950, le=2100)
    drivable: bool
    plate: str | None = Field(None, max_length=20)
