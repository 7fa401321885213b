"""Which ``(device_id, seq)`` were already stored: a bounded memory of recent keys over the stored marks."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from store.state.schema import DedupMark

Key = tuple[str, int]


class Deduplicator:
    def __init__(self, *, memory: int = 200_000) -> None:
        self._recent: OrderedDict[Key, None] = OrderedDict()
        self._memory = memory

    def seen(self, session: Session, keys: Iterable[Key]) -> set[Key]:
        """The keys among ``keys`` already stored (memory first, then one query for the rest)."""
        keys = list(dict.fromkeys(keys))
        found = {k for k in keys if k in self._recent}
        rest = [k for k in keys if k not in found]
        for i in range(0, len(rest), 500):
            part = rest[i:i + 500]
            rows = session.execute(
                select(DedupMark.device_id, DedupMark.seq).where(tuple_(DedupMark.device_id, DedupMark.seq).in_(part))
            ).all()
            found.update((r[0], int(r[1])) for r in rows)
        return found

    def remember(self, keys: Iterable[Key]) -> None:
        for key in keys:
            self._recent[key] = None
            self._recent.move_to_end(key)
        while len(self._recent) > self._memory:
            self._recent.popitem(last=False)
