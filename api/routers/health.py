"""Liveness, readiness and Prometheus metrics (outside /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ContextDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/readyz", responses={503: {"description": "a component is not ready"}})
def readyz(ctx: ContextDep) -> JSONResponse:
    checks: dict[str, dict[str, object]] = {
        "state_store": {"ok": ctx.stores.state.ping()},
        "timeseries_store": {"ok": ctx.stores.timeseries.ping()},
    }
    for name, check in ctx.health_checks.items():
        ok, detail = check()
        checks[name] = {"ok": ok, "detail": detail}
    ready = all(bool(c["ok"]) for c in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
