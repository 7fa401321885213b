"""Request ids and access logs of the API (a pure ASGI middleware, so streamed responses pass untouched).

Each HTTP request gets an id: the client's ``X-Request-ID`` when sane, else a generated one. It is set in
`api.request_id.REQUEST_ID` for the request's whole handling (so every log line written meanwhile carries
it, see `aftercare.logging_setup`), echoed in the response's ``X-Request-ID`` header, and written in one
access line per request on the ``aftercare.access`` logger: method, path, status, duration in ms, request id.
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.request_id import REQUEST_ID, accepted_or_new

access_log = logging.getLogger("aftercare.access")

HEADER = "X-Request-ID"


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = accepted_or_new(offered)
        token = REQUEST_ID.set(request_id)
        status = 500  # what the client gets when the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            method, path = scope["method"], scope["path"]
            access_log.info(
                "%s %s %s %.1f ms",
                method,
                path,
                status,
                duration_ms,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "request_id": request_id,
                },
            )
            REQUEST_ID.reset(token)
