"""Liveness, readiness and Prometheus metrics (outside /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from api.deps import ContextDep
from api.readiness import readiness
from store.state.schema import Alert, DeadLetter

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/readyz", responses={503: {"description": "a component is not ready"}})
def readyz(ctx: ContextDep) -> JSONResponse:
    ready, body = readiness(ctx.stores, ctx.health_checks)
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
def metrics(ctx: ContextDep) -> Response:
    """This process's counters, plus platform-wide figures read from the state store at scrape time."""
    return Response(generate_latest() + _store_gauges(ctx), media_type=CONTENT_TYPE_LATEST)


def _store_gauges(ctx: ContextDep) -> bytes:
    lines = [
        "# HELP aftercare_alerts_active Alerts not resolved, by kind and state (from the state store).",
        "# TYPE aftercare_alerts_active gauge",
    ]
    with ctx.stores.state.session() as s:
        active = s.execute(
            select(Alert.kind, Alert.state, func.count())
            .where(Alert.state != "resolved")
            .group_by(Alert.kind, Alert.state)
        ).all()
        lines += [f'aftercare_alerts_active{{kind="{k}",state="{st}"}} {n}' for k, st, n in active]
        lines += [
            "# HELP aftercare_alerts_total Alerts ever raised, by kind (from the state store).",
            "# TYPE aftercare_alerts_total gauge",
        ]
        totals = s.execute(select(Alert.kind, func.count()).group_by(Alert.kind)).all()
        lines += [f'aftercare_alerts_total{{kind="{k}"}} {n}' for k, n in totals]
        lines += [
            "# HELP aftercare_dead_letters_stored Dead letters in the store, by reason.",
            "# TYPE aftercare_dead_letters_stored gauge",
        ]
        dead = s.execute(select(DeadLetter.reason_code, func.count()).group_by(DeadLetter.reason_code)).all()
        lines += [f'aftercare_dead_letters_stored{{reason="{r}"}} {n}' for r, n in dead]
    return ("\n".join(lines) + "\n").encode()
