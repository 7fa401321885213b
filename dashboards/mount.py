"""Serve the dashboards (static pages calling the API) at `/`.

The dashboards are one single-page application: `index.html` loads ES modules from `/static/js/`
and routes by the URL hash (`#/patients/sim-P1`), so the server only needs `/`, `/static` and,
for a demo started with `aftercare up --simulate`, the demo tokens on the login page (to a loopback client
whose Host header names this machine, so a DNS-rebinding page cannot read them). Security headers
(Content-Security-Policy and the others) are added by `api.security_headers` to every answer.
"""

from __future__ import annotations

import json
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
DEMO_TOKENS = "demo-tokens.json"


def _data_dir(app: FastAPI) -> Path | None:
    ctx = getattr(app.state, "context", None)
    settings = getattr(ctx, "extras", {}).get("settings") if ctx is not None else None
    data_dir = getattr(settings, "data_dir", None)
    return Path(data_dir) if data_dir is not None else None


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


#: Host header names of this machine; any other name reaching a loopback socket is a rebinding page's.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def local_host_header(host: str) -> bool:
    """Whether a Host header names this machine: 127.0.0.1, localhost or [::1], with any port or none."""
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, port = host.partition("]")
        name += bracket
        if port and not port.startswith(":"):
            return False
        port = port[1:]
    else:
        name, _, port = host.partition(":")
    return name in LOCAL_HOSTS and (port == "" or port.isdigit())


def demo_tokens(app: FastAPI, request: Request) -> dict[str, Any] | None:
    """The simulation's demo tokens, offered on the login page to a browser on this machine only.

    None (answered 404) unless both the client's address is loopback and the Host header names this machine:
    a DNS-rebinding page reaches 127.0.0.1 from the victim's own browser, but with its own name in Host.
    """
    if not _loopback(request) or not local_host_header(request.headers.get("host", "")):
        return None
    data_dir = _data_dir(app)
    if data_dir is None:
        return {}
    path = data_dir / DEMO_TOKENS
    try:
        tokens = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in tokens.items()} if isinstance(tokens, dict) else {}


def mount_dashboards(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/dashboards/demo-tokens", include_in_schema=False)
    def demo(request: Request) -> JSONResponse:
        tokens = demo_tokens(app, request)
        if tokens is None:
            return JSONResponse({"detail": "not found"}, status_code=404, headers={"Cache-Control": "no-store"})
        return JSONResponse({"tokens": tokens}, headers={"Cache-Control": "no-store"})
