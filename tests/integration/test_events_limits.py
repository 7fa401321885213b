"""`GET /api/v1/events` under the limits of issue 15 (findings 4 and 5), over a real uvicorn server.

- a stream ends when its token is revoked (at once through the API; by the periodic re-check when another
  process revoked it) or when it expires;
- a token holds at most N streams (429 beyond) and closing one gives its slot back;
- however many streams are open, one poller queries the events table once per interval.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, update

from aftercare.settings import Settings
from aftercare.wiring import open_stores
from api.app import create_app
from api.context import AppContext
from api.events import EventHub
from devices.timestamps import now_ms
from store.state.events import publish
from store.state.schema import ApiToken
from store.stores import Stores
from tests.support.api_server import RawStream, running

pytestmark = pytest.mark.integration
ADMIN = "events-limits-admin-token-0123456789abcdef"
MAX_STREAMS = 3


@dataclass
class Server:
    base: str
    stores: Stores
    hub: EventHub

    def token(self, **body: Any) -> tuple[str, str]:
        """A new API token: (its id, its secret)."""
        with httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
            answer = c.post("/api/v1/tokens", json={"role": "rehab_manager", "manager_id": "M1", **body})
            assert answer.status_code == 201, answer.text
            data = answer.json()
            return str(data["id"]), str(data["token"])

    def publish(self, patient_id: str) -> None:
        with self.stores.state.session() as s:
            publish(s, "alert", {"subject": patient_id}, patient_id=patient_id)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    stores = open_stores(Settings(data_dir=tmp_path))
    hub = EventHub(poll_s=0.05, max_streams_per_token=MAX_STREAMS, recheck_s=0.2)
    with running(create_app(AppContext(stores=stores, admin_token=ADMIN, hub=hub))) as base:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
            for pid, mgr in (("P1", "M1"), ("P2", "M2")):
                assert c.post("/api/v1/patients", json={"id": pid, "name": pid, "manager_id": mgr}).status_code == 201
        yield Server(base, stores, hub)
    stores.close()


@pytest.fixture
def streams() -> Iterator[list[RawStream]]:
    opened: list[RawStream] = []
    yield opened
    for stream in opened:
        stream.close()


def _open(server: Server, token: str, into: list[RawStream], last_event_id: int | None = None) -> RawStream:
    stream = RawStream(server.base, token, last_event_id)
    into.append(stream)
    assert stream.opened(), f"no stream: {stream.buffer[:300]!r}"
    return stream


def test_stream_ends_at_once_when_its_token_is_revoked(server: Server, streams: list[RawStream]) -> None:
    token_id, token = server.token()
    stream = _open(server, token, streams)
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
        assert c.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert stream.ended(), "the stream of a revoked token is still open"
    server.publish("P1")
    assert b"event: alert" not in stream.buffer


@pytest.mark.parametrize("change", ["revoked", "expired"])
def test_stream_ends_when_its_token_stops_being_valid_elsewhere(
    server: Server, streams: list[RawStream], change: str
) -> None:
    """Revoked by another API process (no hook here) or simply expired: the periodic re-check ends the stream."""
    token_id, token = server.token()
    stream = _open(server, token, streams)
    server.publish("P1")
    assert stream.read_until(b"event: alert"), "the stream delivered nothing while its token was valid"
    values: dict[str, object] = {"revoked": True} if change == "revoked" else {"expires_ms": now_ms() - 1}
    with server.stores.state.session() as s:
        s.execute(update(ApiToken).where(ApiToken.id == token_id).values(**values))
    assert stream.ended(), f"the stream of an {change} token is still open"


def test_a_token_holds_at_most_n_streams(server: Server, streams: list[RawStream]) -> None:
    _, token = server.token()
    held = [_open(server, token, streams) for _ in range(MAX_STREAMS)]
    refused = httpx.get(f"{server.base}/api/v1/events", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refused.status_code == 429
    assert "event streams" in refused.json()["detail"]
    # another token is not affected
    _, other = server.token()
    _open(server, other, streams)
    # closing one of the token's streams gives its slot back (once the server has seen the client go)
    held[0].close()
    for _attempt in range(100):
        retry = RawStream(server.base, token)
        streams.append(retry)
        if retry.opened():
            break
        assert retry.status == 429, retry.buffer[:300]
        retry.close()
    else:
        pytest.fail("closing a stream never gave its slot back")
    assert server.hub.streams_of(_token_id(server, token)) == MAX_STREAMS


def _token_id(server: Server, token: str) -> str:
    from api.auth import hash_token

    with server.stores.state.session() as s:
        row = s.query(ApiToken).filter(ApiToken.token_hash == hash_token(token)).one()
        return str(row.id)


def test_one_poller_queries_the_events_table_however_many_streams(server: Server, streams: list[RawStream]) -> None:
    _, token = server.token()
    open_streams = [_open(server, token, streams) for _ in range(MAX_STREAMS)]
    _open(server, ADMIN, streams)
    queries: list[str] = []
    lock = threading.Lock()

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM events" in statement:
            with lock:
                queries.append(statement)

    engine = server.stores.state.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        polls_before = server.hub.polls
        server.publish("P1")
        for stream in open_streams:
            assert stream.read_until(b"event: alert"), "a stream missed the event"
        # wait for 20 more polls (a sentinel, not a sleep)
        deadline_stream = open_streams[0]
        while server.hub.polls < polls_before + 20:
            deadline_stream.read_until(b"never", timeout=0.05)
        with lock:
            seen = len(queries)
        polls = server.hub.polls - polls_before
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert seen <= polls + 1, f"{seen} queries of the events table in {polls} polls with {len(streams)} streams"


def test_a_reconnecting_stream_gets_what_it_missed(server: Server, streams: list[RawStream]) -> None:
    _, token = server.token()
    first = _open(server, token, streams)
    server.publish("P1")
    assert first.read_until(b"event: alert")
    last_id = int(json.loads(first.buffer.split(b"data: ")[1].split(b"\n")[0])["id"])
    first.close()
    server.publish("P2")  # not this manager's
    server.publish("P1")
    again = _open(server, token, streams, last_event_id=last_id)
    assert again.read_until(b"event: alert"), "the missed event did not come"
    ids = [
        json.loads(line.removeprefix(b"data: "))["id"]
        for line in again.buffer.split(b"\n")
        if line.startswith(b"data: ")
    ]
    assert len(ids) == 1
    assert ids[0] > last_id
