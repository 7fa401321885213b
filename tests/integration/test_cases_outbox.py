"""The notification outbox against a real HTTP receiver: signed delivery, a failing gateway, killed processes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from cases.outbox_worker import ATTEMPT_HEADER, FAILED_NOTIFICATIONS, OutboxWorker
from cases.webhook_signing import ID_HEADER, SIGNATURE_HEADER
from cases.webhook_signing import verify as our_verify
from devices.timestamps import now_ms
from store.state.schema import EventRow
from store.state.schema_cases import CaseNotification
from tests.integration.test_cases_api import World, case_body, open_world

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

# --- Standard Webhooks, checked against the specification (https://www.standardwebhooks.com/) -----------
# Written here from the spec's text, independently of cases.webhook_signing: the signed content is
# "{webhook-id}.{webhook-timestamp}.{raw body}", HMAC-SHA256 keyed with the base64-decoded part of the
# "whsec_..." secret, sent base64-encoded as "v1,<signature>", several space-separated.
SPEC_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def spec_verify(secret: str, headers: dict[str, str], body: bytes, tolerance_s: int = 300) -> bool:
    msg_id, stamp, signatures = headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
    if abs(time.time() - int(stamp)) > tolerance_s:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
    return any(
        version == "v1" and hmac.compare_digest(sig.encode(), expected)
        for version, _, sig in (entry.partition(",") for entry in signatures.split(" "))
    )


@pytest.fixture
def world(tmp_path: Path, state_url: str) -> Iterator[World]:
    yield from open_world(tmp_path, state_url)


@dataclass
class Received:
    delivery: str
    signature: str
    attempt: str
    raw: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.raw)
        return result


@dataclass
class Receiver:
    """The insurer's gateway: a real HTTP server on a loopback port, answering what `answer` says."""

    port: int = 0
    answer: Callable[[int], int] = field(default=lambda _n: 200)
    hold: threading.Event | None = None
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/aftercare"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(
                    Received(
                        self.headers.get(ID_HEADER, ""),
                        self.headers.get(SIGNATURE_HEADER, ""),
                        self.headers.get(ATTEMPT_HEADER, ""),
                        raw,
                        {k.lower(): v for k, v in self.headers.items()},
                    )
                )
                receiver.arrived.set()
                if receiver.hold is not None:
                    receiver.hold.wait(60)
                status = receiver.answer(len(receiver.requests))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "gateway down"}')

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rows(world: World) -> list[CaseNotification]:
    with world.stores.state.session() as s:
        return list(s.execute(select(CaseNotification).order_by(CaseNotification.seq)).scalars())


def worker(world: World, url: str) -> OutboxWorker:
    return OutboxWorker(
        world.stores.state,
        url=url,
        secrets=SPEC_SECRET,
        backoff_base_ms=1000,
        backoff_max_ms=60_000,
        lease_ms=30_000,
        timeout_s=10,
    )


def verify(item: Received) -> None:
    """The delivery verifies by the spec's text, by the official `standardwebhooks` package and by ours."""
    assert spec_verify(SPEC_SECRET, item.headers, item.raw)
    assert Webhook(SPEC_SECRET).verify(item.raw, item.headers) == item.body
    assert our_verify(SPEC_SECRET, item.headers, item.raw) == item.delivery == item.body["id"]


def test_notifications_are_delivered_signed_once_each_in_order(world: World, receiver: Receiver) -> None:
    world.post("/cases", case_body())
    w = worker(world, receiver.url)
    assert w.run_once(now_ms()) == 2
    assert w.run_once(now_ms()) == 0
    assert [r.body["kind"] for r in receiver.requests] == ["payment_notice", "plan_ready"]
    for item in receiver.requests:
        verify(item)
        assert item.attempt == "1"
    first = receiver.requests[0].body
    assert first["case_id"] == "K1"
    assert first["recipient"] == {"name": "Ann Lee", "email": "ann@example.org", "phone": None}
    assert first["data"]["notice"]["arrival"]["earliest"] == "2025-01-06"
    assert receiver.requests[0].body["sequence"] < receiver.requests[1].body["sequence"]
    notes = world.notifications("K1")
    assert [(n["state"], n["attempts"], n["last_status"]) for n in notes] == [("delivered", 1, 200)] * 2
    assert all(n["delivered_ms"] is not None and n["next_attempt_ms"] is None for n in notes)
    w.close()


def test_a_gateway_down_for_minutes_loses_nothing(world: World) -> None:
    failing = Receiver(answer=lambda n: 500 if n <= 4 else 200).start()
    try:
        world.post("/cases", case_body())
        w = worker(world, failing.url)
        t = now_ms()
        delays = []
        for _ in range(4):
            assert w.run_once(t) == 0
            head = rows(world)[0]
            assert head.state == "pending"
            assert head.last_status == 500
            assert "gateway answered 500" in (head.last_error or "")
            delays.append(head.next_attempt_ms - t)
            assert w.run_once(t) == 0  # nothing is due before the backoff ends
            t = head.next_attempt_ms
        assert [r.body["kind"] for r in failing.requests] == ["payment_notice"] * 4  # the later one waits its turn
        for n, delay in enumerate(delays, start=1):
            assert 0.8 * 1000 * 2 ** (n - 1) <= delay <= 1000 * 2 ** (n - 1)
        t += 10 * 60_000  # the gateway is back minutes later
        assert w.run_once(t) == 2
        notes = world.notifications("K1")
        assert [(n["kind"], n["state"], n["attempts"]) for n in notes] == [
            ("payment_notice", "delivered", 5),
            ("plan_ready", "delivered", 1),
        ]
        assert len({r.delivery for r in failing.requests[:5]}) == 1  # every retry carries the same delivery id
        assert failing.requests[0].raw == failing.requests[4].raw
        for item in failing.requests:
            verify(item)
        w.close()
    finally:
        failing.stop()


def test_connection_refused_then_the_gateway_comes_up(world: World) -> None:
    port = free_port()
    world.post("/cases", case_body())
    w = worker(world, f"http://127.0.0.1:{port}/hooks/aftercare")
    t = now_ms()
    assert w.run_once(t) == 0
    head = rows(world)[0]
    assert head.last_status is None
    assert "ConnectError" in (head.last_error or "")
    late = Receiver(port=port).start()
    try:
        assert w.run_once(t + 3_600_000) == 2
        assert [r.body["kind"] for r in late.requests] == ["payment_notice", "plan_ready"]
    finally:
        late.stop()
        w.close()


def test_without_url_or_secret_nothing_is_sent_and_nothing_is_lost(world: World, receiver: Receiver) -> None:
    world.post("/cases", case_body())
    assert OutboxWorker(world.stores.state, url=None, secrets=SPEC_SECRET).run_once(now_ms()) == 0
    assert OutboxWorker(world.stores.state, url=receiver.url, secrets=None).run_once(now_ms()) == 0
    assert receiver.requests == []
    assert {r.state for r in rows(world)} == {"pending"}


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


OPEN_AND_DIE = """
    import os, signal, sys
    from pathlib import Path
    from fastapi.testclient import TestClient
    from aftercare.settings import Settings
    from aftercare.wiring import open_stores
    from api.app import create_app
    from api.context import AppContext
    from tests.integration.test_cases_api import case_body
    stores = open_stores(Settings(data_dir=Path(sys.argv[2]), state_url=sys.argv[1]))
    client = TestClient(create_app(AppContext(stores=stores, admin_token="t" * 32)))
    answer = client.post("/api/v1/cases", json=case_body(id="K-killed", claim_id="CL-killed"),
                         headers={"Authorization": "Bearer " + "t" * 32})
    assert answer.status_code == 201, answer.text
    print("committed", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_process_killed_after_commit_leaves_the_notice_for_a_fresh_worker(
    world: World, receiver: Receiver, tmp_path: Path
) -> None:
    url = world.stores.state.url
    done = _run(OPEN_AND_DIE, url, str(tmp_path / "child"))
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "committed" in done.stdout
    assert [(r.kind, r.state) for r in rows(world)] == [("payment_notice", "pending"), ("plan_ready", "pending")]
    fresh = worker(world, receiver.url)
    assert fresh.run_once(now_ms()) == 2
    assert [r.body["case_id"] for r in receiver.requests] == ["K-killed", "K-killed"]
    assert {n["state"] for n in world.notifications("K-killed")} == {"delivered"}
    fresh.close()


DELIVER = """
    import sys
    from cases.outbox_worker import OutboxWorker
    from store.state.engine import StateStore
    state = StateStore(sys.argv[1])
    OutboxWorker(state, url=sys.argv[2], secrets=sys.argv[3], lease_ms=30_000, batch=1).run_once(int(sys.argv[4]))
    print("not killed", flush=True)
"""


def test_a_worker_killed_during_delivery_is_redelivered_after_its_lease(world: World, tmp_path: Path) -> None:
    hold = threading.Event()
    gateway = Receiver(hold=hold).start()
    try:
        world.post("/cases", case_body())
        t = now_ms()
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(DELIVER), world.stores.state.url, gateway.url, SPEC_SECRET, str(t)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert gateway.arrived.wait(60), "the worker never reached the gateway"
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate(timeout=60)
        assert child.returncode == -signal.SIGKILL, err
        hold.set()
        head = rows(world)[0]
        assert (head.state, head.attempts, head.next_attempt_ms) == ("pending", 1, t + 30_000)
        fresh = worker(world, gateway.url)
        assert fresh.run_once(t + 1000) == 0  # still leased to the dead worker
        assert fresh.run_once(t + 30_001) == 2
        deliveries = [r.delivery for r in gateway.requests]
        assert deliveries[0] == deliveries[1] == head.id  # at least once: the gateway deduplicates on this id
        assert [r.attempt for r in gateway.requests[:2]] == ["1", "2"]
        assert {n["state"] for n in world.notifications("K1")} == {"delivered"}
        fresh.close()
    finally:
        hold.set()
        gateway.stop()


def test_deliveries_carry_standard_webhooks_signatures(world: World, receiver: Receiver) -> None:
    world.post("/cases", case_body())
    w = worker(world, receiver.url)
    assert w.run_once(now_ms()) == 2
    for item in receiver.requests:
        assert item.headers.get("webhook-id") == item.body["id"], item.headers
        assert spec_verify(SPEC_SECRET, item.headers, item.raw)
        assert not spec_verify(SPEC_SECRET, item.headers, item.raw.replace(b'"K1"', b'"K2"'))
        verify(item)
    w.close()


def test_during_a_rotation_either_secret_verifies(world: World, receiver: Receiver) -> None:
    new = "whsec_" + base64.b64encode(b"n" * 32).decode()
    world.post("/cases", case_body())
    w = OutboxWorker(world.stores.state, url=receiver.url, secrets=f"{new} {SPEC_SECRET}")
    assert w.run_once(now_ms()) == 2
    for item in receiver.requests:
        assert len(item.signature.split(" ")) == 2
        for secret in (new, SPEC_SECRET):
            assert spec_verify(secret, item.headers, item.raw)
            assert Webhook(secret).verify(item.raw, item.headers) == item.body
    retired = "whsec_" + base64.b64encode(b"r" * 32).decode()
    assert not spec_verify(retired, receiver.requests[0].headers, receiver.requests[0].raw)
    w.close()


def test_a_gateway_that_always_refuses_ends_in_failed_not_queued_for_ever(world: World) -> None:
    refusing = Receiver(answer=lambda _n: 503).start()
    try:
        world.post("/cases", case_body())
        w = worker(world, refusing.url)
        t = rows(world)[0].created_ms
        given_up_before = FAILED_NOTIFICATIONS._value.get()
        assert w.run_once(t) == 0
        assert rows(world)[0].state == "pending"  # a young notification is retried
        day = 24 * 3600 * 1000
        assert w.run_once(t + day + 1) == 0
        notes = world.notifications("K1")
        assert [(n["kind"], n["state"]) for n in notes] == [("payment_notice", "failed"), ("plan_ready", "failed")]
        assert all("gateway answered 503" in (n["last_error"] or "") for n in notes)
        assert all(n["next_attempt_ms"] is None for n in notes)
        assert FAILED_NOTIFICATIONS._value.get() == given_up_before + 2
        with world.stores.state.session() as s:
            events = s.execute(select(EventRow).where(EventRow.kind == "case_notification_failed")).scalars().all()
            assert sorted((e.case_id, e.data["kind"]) for e in events) == [
                ("K1", "payment_notice"),
                ("K1", "plan_ready"),
            ]
        assert w.run_once(t + 2 * day) == 0
        assert len(refusing.requests) == 3  # failed ones are never sent again
        w.close()
    finally:
        refusing.stop()


def test_a_gateway_that_refuses_then_accepts_within_the_max_age_delivers(world: World) -> None:
    flaky = Receiver(answer=lambda n: 503 if n <= 2 else 200).start()
    try:
        world.post("/cases", case_body())
        w = OutboxWorker(world.stores.state, url=flaky.url, secrets=SPEC_SECRET, max_age_ms=60_000)
        t = rows(world)[0].created_ms
        assert w.run_once(t) == 0
        retry = rows(world)[0].next_attempt_ms
        assert t < retry <= t + 60_000
        assert w.run_once(t + 59_000) == 0  # refused again: the next try is clamped to the max age
        assert rows(world)[0].next_attempt_ms == t + 60_000
        assert w.run_once(t + 60_000) == 2  # the last try, at the max age, is accepted
        assert [(n["state"], n["attempts"]) for n in world.notifications("K1")] == [("delivered", 3), ("delivered", 1)]
        for item in flaky.requests:
            verify(item)
        w.close()
    finally:
        flaky.stop()
