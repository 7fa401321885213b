"""Security headers on every response: a Content-Security-Policy per kind of path, nosniff, no referrer.

- the dashboards (everything outside the API): scripts, styles and connections to this origin only, images
  from this origin plus `data:` (the favicon) and `blob:` (photos fetched with the bearer token), no plugins,
  no `<base>`, never framed. The pages need no inline script or style attribute (styles are set through the
  CSSOM, which the policy allows).
- the API, health and metrics (photos included): nothing may load or run, sandboxed, never framed, so a
  photo or a JSON answer opened as a page cannot script anything.
- the OpenAPI pages (`/docs`, `/redoc`) load FastAPI's Swagger and ReDoc bundles from their CDN with an
  inline bootstrap, so they only get `frame-ancestors 'none'`.

A header the application set itself is left as it is.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
DOCS_POLICY = "frame-ancestors 'none'"

_API_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics")
_DOCS_PREFIXES = ("/docs", "/redoc")


def policy_for(path: str) -> str:
    if path.startswith(_API_PREFIXES):
        return API_POLICY
    if path.startswith(_DOCS_PREFIXES):
        return DOCS_POLICY
    return PAGE_POLICY


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = (
            (b"content-security-policy", policy_for(scope["path"]).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
