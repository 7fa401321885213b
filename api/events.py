"""The live event feed: rows of the `events` table streamed to subscribers over server-sent events.

Everything that should appear live (new alerts, stage changes, plan adjustments, case updates) is
written to the `events` table in the same transaction as the change (`store.state.events.publish`).
The hub polls the table by id, so events reach every API process whichever process wrote them, and a
client that reconnects with ``Last-Event-ID`` misses nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import select

from store.state.engine import StateStore
from store.state.schema import EventRow


class EventHub:
    def __init__(self, poll_s: float = 0.25) -> None:
        self.poll_s = poll_s

    async def stream(
        self,
        state: StateStore,
        visible: Callable[[EventRow], bool],
        after_id: int | None,
        is_disconnected: Callable[[], Any],
    ) -> AsyncIterator[str]:
        last = after_id if after_id is not None else await asyncio.to_thread(self._last_id, state)
        yield "retry: 2000\n\n"
        idle = 0.0
        while True:
            if await is_disconnected():
                return
            rows = await asyncio.to_thread(self._after, state, last)
            for row in rows:
                last = row.id
                if visible(row):
                    payload = {"id": row.id, "kind": row.kind, "at_ms": row.at_ms, **row.data}
                    yield f"id: {row.id}\nevent: {row.kind}\ndata: {json.dumps(payload, default=str)}\n\n"
                    idle = 0.0
            if not rows:
                idle += self.poll_s
                if idle >= 15:
                    idle = 0.0
                    yield ": keep-alive\n\n"
                await asyncio.sleep(self.poll_s)

    @staticmethod
    def _last_id(state: StateStore) -> int:
        with state.session() as s:
            value = s.execute(select(EventRow.id).order_by(EventRow.id.desc()).limit(1)).scalar_one_or_none()
        return int(value or 0)

    @staticmethod
    def _after(state: StateStore, last: int) -> list[EventRow]:
        with state.session() as s:
            query = select(EventRow).where(EventRow.id > last).order_by(EventRow.id).limit(500)
            return list(s.execute(query).scalars())
