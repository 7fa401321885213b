"""`/healthz`, `/readyz` and `/metrics` of a process without the API (`aftercare ingest`, `aftercare monitor`).

A small threaded HTTP server from the standard library, on a port of its own (`AFTERCARE_HEALTH_HOST`,
`AFTERCARE_INGEST_HEALTH_PORT`, `AFTERCARE_MONITOR_HEALTH_PORT`): prometheus_client's own server serves
only `/metrics`. `/readyz` answers what the API's `/readyz` answers (`api.readiness`), 200 or 503 with JSON.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.readiness import HealthCheck, readiness
from store.stores import Stores

log = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple[str, int] | str) -> None:
        """A client gone mid-answer (a probe's timeout): logged, not printed to stderr as the base class does."""
        log.debug("health request from %s failed: %r", client_address, sys.exc_info()[1])


class HealthServer:
    """Serves the three routes in a daemon thread until `stop`; ``port`` is the one really bound."""

    def __init__(
        self, *, host: str, port: int, stores: Stores, health_checks: Mapping[str, HealthCheck], component: str
    ) -> None:
        self.component = component
        handler = _handler_for(lambda: readiness(stores, health_checks), component)
        self._server = _Server((host, port), handler)  # OSError when the port is taken
        self.host, self.port = host, int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.5}, name=f"{self.component}-health"
        )
        self._thread.daemon = True
        self._thread.start()
        log.info("%s health and metrics on http://%s:%s", self.component, self.host, self.port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def _handler_for(check: Callable[[], tuple[bool, dict[str, object]]], component: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"aftercare-{component}"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._json(200, {"status": "alive", "component": component})
            elif path == "/readyz":
                ready, body = check()
                self._json(200 if ready else 503, body)
            elif path == "/metrics":
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            else:
                self._json(404, {"detail": f"no route {path}; there are /healthz, /readyz and /metrics"})

        def do_POST(self) -> None:
            self._json(405, {"detail": "only GET is served here"})

        do_PUT = do_PATCH = do_DELETE = do_POST

        def _json(self, status: int, body: object) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s health request: %s", component, format % args)

    return Handler
