"""The FastAPI application: routers under /api/v1, health outside, dashboards at /."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import Histogram

from api import errors
from api.body_limit import BodyLimit, UploadRoute
from api.context import AppContext
from api.deps import token_refusal
from api.request_log import RequestLogMiddleware
from api.routers import (
    alerts,
    cases,
    dead_letters,
    devices,
    events,
    health,
    me,
    patients,
    photos,
    rehab,
    repair_jobs,
    series,
    shop_quality,
    shops,
    tokens,
    vocabulary,
)
from api.security_headers import SecurityHeaders

log = logging.getLogger(__name__)

API_LATENCY = Histogram(
    "aftercare_api_request_seconds",
    "API latency by route template",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

#: Every resource router, in matching order (fixed paths before `/{id}` paths of the same prefix).
ROUTERS = (
    me,
    patients,
    series,
    rehab,
    shop_quality,
    shops,
    devices,
    tokens,
    repair_jobs,
    photos,
    alerts,
    events,
    dead_letters,
    cases,
    vocabulary,
)


async def _token_refusal(ctx: AppContext, token: str) -> str | None:
    return await asyncio.to_thread(token_refusal, ctx, token)


#: The photo upload: the one route whose body may be larger than `max_request_bytes`.
PHOTO_UPLOAD = re.compile(r"/api/v1/repair-jobs/[^/]+/photos")


def create_app(
    ctx: AppContext, *, max_request_bytes: int = 1024 * 1024, max_upload_bytes: int = 9 * 1024 * 1024
) -> FastAPI:
    """The application; bodies above `max_request_bytes` (`max_upload_bytes` for photo uploads) are refused 413."""
    app = FastAPI(
        title="Aftercare API",
        version="1.0",
        description="Post-claim monitoring: rehab wearables and car repair. Bearer tokens; errors are "
        'JSON {"detail": ...} with a 4xx status.',
    )
    app.state.context = ctx
    errors.install(app)

    @app.middleware("http")
    async def _timing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        API_LATENCY.labels(request.method, template).observe(time.perf_counter() - started)
        return response

    # added last, so outermost: bodies are limited and tokens of uploads checked before anything reads them
    app.add_middleware(
        BodyLimit,
        max_bytes=max_request_bytes,
        uploads=(UploadRoute("POST", PHOTO_UPLOAD, max_upload_bytes),),
        check_token=functools.partial(_token_refusal, ctx),
    )
    # outside the body limit: every answer, its refusals included, carries the security headers
    app.add_middleware(SecurityHeaders)

    v1 = APIRouter(prefix="/api/v1")
    for module in ROUTERS:
        v1.include_router(module.router)
    app.include_router(v1)
    app.include_router(health.router)
    mount = ctx.extras.get("mount_dashboards")
    if callable(mount):
        mount(app)
    # Added last, so outermost: every answer (a 413 of the limits above included) gets its id and access line.
    app.add_middleware(RequestLogMiddleware)
    return app
