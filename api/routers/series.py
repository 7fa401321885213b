"""A patient's stored telemetry, raw or downsampled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from api.deps import CallerDep, ContextDep, SessionDep
from api.errors import ERROR_RESPONSES
from api.routers.patients import visible_patient
from api.timeparams import parse_duration_ms, parse_instant
from devices.metrics import METRICS
from devices.timestamps import now_ms

router = APIRouter(prefix="/patients", tags=["telemetry"], responses=ERROR_RESPONSES)

MAX_POINTS = 200_000


class SeriesOut(BaseModel):
    patient_id: str
    metric: str
    unit: str
    start_ms: int
    end_ms: int
    every_ms: int | None
    t: list[int]
    values: list[float] | list[list[float]]


@router.get("/{patient_id}/series/{metric}", response_model=SeriesOut)
def read_series(
    patient_id: str,
    metric: str,
    session: SessionDep,
    caller: CallerDep,
    ctx: ContextDep,
    start: Annotated[str | None, Query(description="RFC 3339 or epoch ms; default: end - 1 h")] = None,
    end: Annotated[str | None, Query(description="RFC 3339 or epoch ms; default: now")] = None,
    every: Annotated[str | None, Query(description="bucket: 30s, 5m, 1h, 1d; default raw")] = None,
) -> SeriesOut:
    visible_patient(session, caller, patient_id)
    spec = METRICS.get(metric)
    if spec is None:
        raise HTTPException(404, f"unknown metric {metric[:64]!r} (known: {', '.join(METRICS)})")
    end_ms = parse_instant("end", end, now_ms() + 60_000)
    start_ms = parse_instant("start", start, end_ms - 3_600_000)
    if start_ms >= end_ms:
        raise HTTPException(422, "start must be before end")
    every_ms = parse_duration_ms("every", every)
    if every_ms is not None and (end_ms - start_ms) // every_ms > MAX_POINTS:
        raise HTTPException(422, f"every: more than {MAX_POINTS} buckets; choose a longer bucket")
    data = ctx.stores.timeseries.read(patient_id, metric, start_ms, end_ms, every_ms)
    if data.n > MAX_POINTS:
        raise HTTPException(422, f"{data.n} samples in range, more than {MAX_POINTS}: narrow the range or set every")
    values = (
        [[round(float(x), 4) for x in row] for row in data.values]
        if data.values.ndim > 1
        else [round(float(x), 4) for x in data.values]
    )
    return SeriesOut(
        patient_id=patient_id,
        metric=metric,
        unit=spec.unit,
        start_ms=start_ms,
        end_ms=end_ms,
        every_ms=every_ms,
        t=data.t_ms.tolist(),
        values=values,
    )
