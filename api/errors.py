"""Every error is JSON ``{"detail": ...}`` with a fitting 4xx status; nothing leaks a trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from store.timeseries.base import StoreUnavailable

log = logging.getLogger(__name__)


class ErrorOut(BaseModel):
    detail: str | list[dict[str, object]]


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "missing, unknown, expired or revoked bearer token"},
    403: {"model": ErrorOut, "description": "the token's role or tenant may not do this"},
    404: {"model": ErrorOut, "description": "no such resource"},
    422: {"model": ErrorOut, "description": "the request does not validate; detail names the field"},
}


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(IntegrityError)
    async def _conflict(_r: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", str(exc.orig)[:300])
        return JSONResponse(
            {"detail": "conflicts with an existing resource (duplicate id or unknown reference)"}, status_code=409
        )

    @app.exception_handler(OperationalError)
    async def _db_down(_r: Request, exc: OperationalError) -> JSONResponse:
        log.error("state store unavailable: %s", str(exc.orig)[:300])
        return JSONResponse(
            {"detail": "state store unavailable, retry later"}, status_code=503, headers={"Retry-After": "5"}
        )

    @app.exception_handler(StoreUnavailable)
    async def _ts_down(_r: Request, exc: StoreUnavailable) -> JSONResponse:
        log.error("time-series store unavailable: %s", exc.reason)
        return JSONResponse(
            {"detail": "time-series store unavailable, retry later"}, status_code=503, headers={"Retry-After": "5"}
        )
