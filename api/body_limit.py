"""Request bodies limited while they stream in, and refused before authentication reads them.

A pure ASGI middleware (no `BaseHTTPMiddleware`, which would buffer): it looks at the request's headers
before the application reads a byte of the body.

- Under `/api/v1/` a request that carries a body but no bearer token is answered 401 at once.
- On upload routes (the photo upload) the token is also checked against the store before the body is read,
  so a request without a valid token never has a byte of its body spooled to disk.
- A `Content-Length` above the route's limit is answered 413 from the header.
- A chunked body (or one that lies about its length) is counted as it is received; the application is
  stopped with 413 the moment the count passes the limit, and the rest is never read.

The refusals carry `Connection: close`, so the server drops the connection instead of draining the body.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

#: Returns None when a bearer token is valid, else the reason it is refused.
TokenCheck = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class UploadRoute:
    """A route whose body may be larger than the general limit, and whose token is checked before its body."""

    method: str
    path: re.Pattern[str]
    max_bytes: int


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        uploads: Sequence[UploadRoute] = (),
        check_token: TokenCheck | None = None,
        protected_prefix: str = "/api/v1/",
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = tuple(uploads)
        self.check_token = check_token
        self.protected_prefix = protected_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if not chunked and (length is None or length == "0"):
            await self.app(scope, receive, send)  # no body to limit
            return
        path: str = scope["path"]
        upload = next((u for u in self.uploads if u.method == scope["method"] and u.path.fullmatch(path)), None)
        limit = upload.max_bytes if upload is not None else self.max_bytes
        if path.startswith(self.protected_prefix):
            try:
                refusal = await self._refuse_token(headers, check=upload is not None)
            except Exception:  # the token could not be checked (the state store is down): never a 500
                log.warning("could not check the token of %s %s", scope["method"], path, exc_info=True)
                await _answer(send, 503, "state store unavailable, retry later", {"Retry-After": "5"})
                return
            if refusal is not None:
                log.info("refused %s %s before its body: %s", scope["method"], path, refusal)
                await _answer(send, 401, refusal, {"WWW-Authenticate": "Bearer"})
                return
        if length is not None and not chunked:
            if not length.isdigit():
                await _answer(send, 400, "invalid Content-Length header")
                return
            if int(length) > limit:
                log.info("refused %s %s: Content-Length %s above %d", scope["method"], path, length, limit)
                await _answer(send, 413, f"request body larger than {limit} bytes")
                return
        await self._limited(scope, receive, send, limit)

    async def _refuse_token(self, headers: Headers, *, check: bool) -> str | None:
        token = bearer_token(headers)
        if token is None:
            return "missing bearer token"
        if check and self.check_token is not None:
            return await self.check_token(token)
        return None

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run the application, telling it the client left once the body passes `limit`, and answer 413 then."""
        received = 0
        too_large = False
        started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    log.info("refused %s %s: body passed %d bytes", scope["method"], scope["path"], limit)
                    too_large = True
                    # the application stops reading as if the client had gone; what it answers is replaced
                    return {"type": "http.disconnect"}
            return message

        async def refuse() -> None:
            nonlocal refused
            if not refused:
                refused = True
                await _answer(send, 413, f"request body larger than {limit} bytes")

        async def watching_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                await refuse()
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except Exception:
            if not too_large or started:
                raise
            log.debug("the application gave up on a body over the limit", exc_info=True)
        if too_large and not started:
            await refuse()


async def _answer(send: Send, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
