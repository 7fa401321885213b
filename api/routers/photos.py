"""Checkpoint photos over HTTP, for shops without an MQTT client, and photo bytes for the dashboards."""

from __future__ import annotations

import uuid
from typing import Annotated, get_args

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import Response

from api.auth import Role
from api.deps import CallerDep, ContextDep, SessionDep, forbid, not_found
from api.errors import ERROR_RESPONSES
from api.routers.repair_jobs import photo_view, visible_job
from api.schemas.repair import PhotoPublic
from api.timeparams import parse_instant
from devices.messages import Stage
from devices.timestamps import now_ms
from store.state.schema import PhotoRow

router = APIRouter(
    prefix="/repair-jobs",
    tags=["photos"],
    responses={**ERROR_RESPONSES, 413: {"description": "the photo is larger than the limit"}},
)

_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
STAGES = frozenset(get_args(Stage))


@router.post("/{job_id}/photos", status_code=201, response_model=PhotoPublic)
async def upload_photo(
    job_id: str,
    session: SessionDep,
    caller: CallerDep,
    ctx: ContextDep,
    file: Annotated[UploadFile, File(description="JPEG or PNG, at most 8 MiB")],
    stage: Annotated[str, Form(max_length=32)],
    taken_at: Annotated[str | None, Form(max_length=40)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
) -> PhotoPublic:
    job = visible_job(session, caller, job_id)
    if caller.role not in (Role.SHOP, Role.ADMIN, Role.CLAIMS_HANDLER):
        raise forbid("photo uploads")
    if stage not in STAGES:
        raise HTTPException(422, f"stage: {stage[:32]!r} is not a stage of the contract")
    limit = ctx.max_photo_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"photo larger than {limit} bytes")
    content_type = next((t for magic, t in _TYPES.items() if data.startswith(magic)), None)
    if content_type is None:
        raise HTTPException(422, "file: not a JPEG or PNG image")
    now = now_ms()
    taken = parse_instant("taken_at", taken_at, now)
    if taken > now + 300_000:
        raise HTTPException(422, "taken_at: more than 5 minutes in the future")
    digest, rel = ctx.stores.photos.save(data, content_type)
    row = PhotoRow(
        id="ph_" + uuid.uuid4().hex[:20],
        job_id=job.id,
        shop_id=job.shop_id,
        stage=stage,
        device_id=None,
        seq=None,
        taken_ms=taken,
        content_type=content_type,
        path=rel,
        size=len(data),
        sha256=digest,
        lat=lat,
        lon=lon,
        checked=False,
        flags=[],
        checks=None,
        phash=None,
        phash_mirror=None,
        received_ms=now,
    )
    session.add(row)
    session.flush()
    return photo_view(row, caller)


@router.get(
    "/{job_id}/photos/{photo_id}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "the photo"}},
)
def get_photo(job_id: str, photo_id: str, session: SessionDep, caller: CallerDep, ctx: ContextDep) -> Response:
    job = visible_job(session, caller, job_id)
    row = session.get(PhotoRow, photo_id)
    if row is None or row.job_id != job.id:
        raise not_found(f"photo {photo_id!r} of job {job_id!r}")
    try:
        data = ctx.stores.photos.read(row.path)
    except OSError:
        raise not_found(f"the file of photo {photo_id!r}") from None
    return Response(data, media_type=row.content_type, headers={"Cache-Control": "private, max-age=86400"})
