"""The live event feed: rows of the `events` table streamed to subscribers over server-sent events.

Everything that should appear live (new alerts, stage changes, plan adjustments, case updates) is
written to the `events` table in the same transaction as the change (`store.state.events.publish`).
The hub polls the table by id, so events reach every API process whichever process wrote them, and a
client that reconnects with ``Last-Event-ID`` misses nothing.

One poller per API process, however many streams are open: a single task reads the new rows every
``poll_s`` and hands each subscribed stream the rows its token may see (the visibility predicates run
in the poller's worker thread, since they may read the store). A stream that reconnects with
``Last-Event-ID`` reads what it missed once, from the table, then joins the fan-out. Each token may
hold at most ``max_streams_per_token`` streams (`TooManyStreams` beyond), and every stream re-checks
its token every ``recheck_s`` and ends when the token is revoked or expired; ``close_token`` ends a
token's streams at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import select

from store.state.engine import StateStore
from store.state.schema import EventRow

log = logging.getLogger(__name__)

OPEN_STREAMS = Gauge("aftercare_event_streams", "open /events streams in this API process")

#: rows read per query (the poller reads again at once after a full page)
PAGE = 500


class TooManyStreams(Exception):
    def __init__(self, token_id: str, limit: int) -> None:
        super().__init__(f"token {token_id} already holds {limit} event streams")
        self.token_id = token_id
        self.limit = limit


@dataclass(eq=False)
class Subscription:
    """One open stream: the rows its token may see are put on its queue; None ends it."""

    token_id: str
    visible: Callable[[EventRow], bool]
    start: int = 0
    queue: asyncio.Queue[EventRow | None] = field(default_factory=asyncio.Queue)
    ended: bool = False
    released: bool = False

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(None)


class EventHub:
    def __init__(
        self,
        poll_s: float = 0.25,
        *,
        max_streams_per_token: int = 5,
        recheck_s: float = 30.0,
        keepalive_s: float = 15.0,
        max_queued: int = 2000,
    ) -> None:
        self.poll_s = poll_s
        self.max_streams_per_token = max_streams_per_token
        self.recheck_s = recheck_s
        self.keepalive_s = keepalive_s
        self.max_queued = max_queued
        #: queries of the events table made by the poller (one per poll, whatever the number of streams)
        self.polls = 0
        self._subs: set[Subscription] = set()
        self._per_token: Counter[str] = Counter()
        self._last = 0
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    # -- streams per token ----------------------------------------------------------------------------

    def streams_of(self, token_id: str) -> int:
        return self._per_token[token_id]

    def subscribe(self, token_id: str, visible: Callable[[EventRow], bool]) -> Subscription:
        """Take one of the token's stream slots (TooManyStreams when it holds them all)."""
        if self._per_token[token_id] >= self.max_streams_per_token:
            raise TooManyStreams(token_id, self.max_streams_per_token)
        self._per_token[token_id] += 1
        OPEN_STREAMS.inc()
        return Subscription(token_id=token_id, visible=visible)

    def unsubscribe(self, sub: Subscription) -> None:
        """Give the slot back (idempotent: both the stream's end and the response's cleanup call it)."""
        self._subs.discard(sub)
        sub.ended = True
        if not sub.released:
            sub.released = True
            self._per_token[sub.token_id] -= 1
            if self._per_token[sub.token_id] <= 0:
                del self._per_token[sub.token_id]
            OPEN_STREAMS.dec()

    def close_token(self, token_id: str) -> None:
        """End every open stream of a token now (thread-safe: the revoking route runs in a worker thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def end() -> None:
            for sub in [s for s in self._subs if s.token_id == token_id]:
                sub.end()

        loop.call_soon_threadsafe(end)

    # -- the stream ---------------------------------------------------------------------------------

    async def stream(
        self,
        state: StateStore,
        sub: Subscription,
        after_id: int | None,
        is_disconnected: Callable[[], Awaitable[bool]],
        still_valid: Callable[[], Awaitable[bool]],
    ) -> AsyncIterator[str]:
        """The server-sent events of one subscription, until the client leaves or its token stops being valid."""
        try:
            await self._join(state, sub)
            yield "retry: 2000\n\n"
            last = sub.start
            if after_id is not None and after_id < sub.start:
                async for chunk in self._catch_up(state, sub, after_id):
                    yield chunk
            checked = sent = time.monotonic()
            while True:
                # asleep until an event, the next token check or the next keep-alive: an idle stream costs nothing
                wait = max(0.0, min(checked + self.recheck_s, sent + self.keepalive_s) - time.monotonic())
                try:
                    row: EventRow | bool | None = await asyncio.wait_for(sub.queue.get(), timeout=wait)
                except TimeoutError:
                    row = False
                # (the server cancels a stream whose client left; is_disconnected is the backstop for one that doesn't)
                if row is None or (row is False and await is_disconnected()):
                    return
                now = time.monotonic()
                if isinstance(row, EventRow) and row.id > last:
                    last = row.id
                    sent = now
                    yield _event(row)
                if now - checked >= self.recheck_s:
                    checked = now
                    if not await still_valid():
                        log.info("event stream of token %s closed: token no longer valid", sub.token_id)
                        return
                if now - sent >= self.keepalive_s:
                    sent = now
                    yield ": keep-alive\n\n"
        finally:
            self.unsubscribe(sub)

    async def _catch_up(self, state: StateStore, sub: Subscription, after_id: int) -> AsyncIterator[str]:
        cursor = after_id
        while cursor < sub.start:
            rows = await asyncio.to_thread(self._between, state, cursor, sub.start)
            if not rows:
                return
            cursor = rows[-1].id
            for row in await asyncio.to_thread(_visible, rows, sub.visible):
                yield _event(row)

    async def _join(self, state: StateStore, sub: Subscription) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a test's server): nothing of the old one survives
            for old in self._subs:
                old.ended = True
            self._subs.clear()
            self._loop, self._lock, self._task = loop, asyncio.Lock(), None
        assert self._lock is not None
        async with self._lock:
            if self._task is None or self._task.done():
                self._last = await asyncio.to_thread(self._last_id, state)
                self._subs.add(sub)
                self._task = loop.create_task(self._poll(state), name="aftercare-event-poller")
            else:
                self._subs.add(sub)
            sub.start = self._last

    # -- the one poller ---------------------------------------------------------------------------------

    async def _poll(self, state: StateStore) -> None:
        assert self._lock is not None
        while self._subs:
            async with self._lock:  # a stream joins between two polls, never during one
                try:
                    rows, deliveries = await asyncio.to_thread(self._fetch, state, self._last, list(self._subs))
                except Exception:  # the store is down: keep the streams open, try again
                    log.warning("event poller: reading the events table failed", exc_info=True)
                    rows, deliveries = [], []
                else:
                    self.polls += 1
                    if rows:
                        self._last = rows[-1].id
                    self._deliver(deliveries)
            if len(rows) < PAGE:
                await asyncio.sleep(self.poll_s)

    def _deliver(self, deliveries: list[tuple[Subscription, list[EventRow] | None]]) -> None:
        for sub, rows in deliveries:
            if sub.ended:
                continue
            if rows is None:
                sub.end()
            elif sub.queue.qsize() + len(rows) > self.max_queued:
                log.warning("event stream of token %s fell behind; closing it (it resumes by id)", sub.token_id)
                sub.end()
            else:
                for row in rows:
                    sub.queue.put_nowait(row)

    def _fetch(
        self, state: StateStore, last: int, subs: list[Subscription]
    ) -> tuple[list[EventRow], list[tuple[Subscription, list[EventRow] | None]]]:
        """The new rows, and for each stream the ones it may see (None: its visibility failed, so it ends)."""
        rows = self._after(state, last)
        if not rows:
            return rows, []
        deliveries: list[tuple[Subscription, list[EventRow] | None]] = []
        for sub in subs:
            try:
                mine: list[EventRow] | None = [row for row in rows if sub.visible(row)]
            except Exception:
                log.warning("event visibility of token %s failed; closing its stream", sub.token_id, exc_info=True)
                mine = None
            if mine != []:
                deliveries.append((sub, mine))
        return rows, deliveries

    @staticmethod
    def _last_id(state: StateStore) -> int:
        with state.session() as s:
            value = s.execute(select(EventRow.id).order_by(EventRow.id.desc()).limit(1)).scalar_one_or_none()
        return int(value or 0)

    @staticmethod
    def _after(state: StateStore, last: int) -> list[EventRow]:
        with state.session() as s:
            query = select(EventRow).where(EventRow.id > last).order_by(EventRow.id).limit(PAGE)
            return list(s.execute(query).scalars())

    @staticmethod
    def _between(state: StateStore, after: int, upto: int) -> list[EventRow]:
        with state.session() as s:
            query = select(EventRow).where(EventRow.id > after, EventRow.id <= upto).order_by(EventRow.id).limit(PAGE)
            return list(s.execute(query).scalars())


def _event(row: EventRow) -> str:
    payload: dict[str, Any] = {"id": row.id, "kind": row.kind, "at_ms": row.at_ms, **row.data}
    return f"id: {row.id}\nevent: {row.kind}\ndata: {json.dumps(payload, default=str)}\n\n"


def _visible(rows: list[EventRow], visible: Callable[[EventRow], bool]) -> list[EventRow]:
    return [row for row in rows if visible(row)]
