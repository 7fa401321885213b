"""`GET /api/v1/events` over a real HTTP server: live events, filtered to what each token may see."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from aftercare.embedded_broker import free_port
from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from devices.timestamps import now_ms
from monitor import alerts
from monitor.alerts import AlertInput
from store.stores import Stores

pytestmark = pytest.mark.integration
ADMIN = "events-admin-token-0123456789abcdef"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Stores]]:
    stores = open_stores(Settings(data_dir=tmp_path))
    port = free_port()
    config = uvicorn.Config(
        create_app(AppContext(stores=stores, admin_token=ADMIN)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
        for pid, mgr in (("P1", "M1"), ("P2", "M2")):
            c.post("/api/v1/patients", json={"id": pid, "name": pid, "manager_id": mgr})
    yield base, stores
    srv.should_exit = True
    thread.join(10)
    stores.close()


def _collect(
    base: str, token: str, into: list[dict[str, object]], ready: threading.Event, stop: threading.Event
) -> None:
    try:
        with (
            httpx.Client(base_url=base, timeout=30) as c,
            c.stream("GET", "/api/v1/events", headers={"Authorization": f"Bearer {token}"}) as answer,
        ):
            kind = None
            for line in answer.iter_lines():
                if line.startswith("retry: "):
                    # The stream's first line, sent once the server has fixed where it starts: from here on
                    # every event committed reaches this subscriber. (The headers alone come before that.)
                    ready.set()
                elif line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    into.append({"event": kind, **json.loads(line.removeprefix("data: "))})
                if stop.is_set():
                    return
    except httpx.TransportError:
        if not stop.is_set():  # the server closing the stream at the end of the test is expected
            raise


def test_alerts_stream_live_and_per_tenant(server: tuple[str, Stores]) -> None:
    base, stores = server
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
        manager = c.post("/api/v1/tokens", json={"role": "rehab_manager", "manager_id": "M1"}).json()["token"]
        assert c.get("/api/v1/events", headers={"Authorization": "Bearer nope"}).status_code == 401
    seen_admin: list[dict[str, object]] = []
    seen_manager: list[dict[str, object]] = []
    stop = threading.Event()
    threads = []
    for token, into in ((ADMIN, seen_admin), (manager, seen_manager)):
        ready = threading.Event()
        t = threading.Thread(target=_collect, args=(base, token, into, ready, stop), daemon=True)
        t.start()
        assert ready.wait(10), "the event stream sent no retry: line"
        threads.append(t)
    published = time.monotonic()
    with stores.state.session() as s:
        for pid in ("P1", "P2"):
            alerts.raise_alert(
                s,
                AlertInput(
                    kind="fall",
                    subject=pid,
                    subject_type="patient",
                    severity="critical",
                    message="fall",
                    at_ms=now_ms(),
                    patient_id=pid,
                ),
            )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (len(seen_admin) < 2 or not seen_manager):
        time.sleep(0.05)
    latency = time.monotonic() - published
    stop.set()
    assert sorted(str(e["subject"]) for e in seen_admin) == ["P1", "P2"]
    assert [e["subject"] for e in seen_manager] == ["P1"]
    assert seen_manager[0]["event"] == "alert"
    assert latency < 10
