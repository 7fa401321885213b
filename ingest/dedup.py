"""Which ``(device_id, seq)`` were already stored.

Devices number their messages with increasing ``seq``, so each device's highest committed ``seq`` (read
once from the stored marks, then kept in memory) settles most messages without a query: a ``seq`` above
it is new. Only a ``seq`` at or below it (a redelivery, or a device that restarted its counter) is looked
up, first in a bounded memory of recent keys, then in the stored marks. The stored tables' unique keys
make every write idempotent in any case; this is what keeps the duplicate counter and the dead letters
exact, and spares the store the rewrites.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.state.schema import DedupMark

Key = tuple[str, int]


class Deduplicator:
    def __init__(self, *, memory: int = 200_000) -> None:
        self._recent: OrderedDict[Key, None] = OrderedDict()
        self._memory = memory
        self._high: dict[str, int] = {}  # device -> highest seq known committed (-1: none)

    def seen(self, session: Session, keys: Iterable[Key]) -> set[Key]:
        """The keys among ``keys`` already stored."""
        by_device: dict[str, list[int]] = defaultdict(list)
        for device, seq in dict.fromkeys(keys):
            by_device[device].append(seq)
        found: set[Key] = set()
        for device, seqs in by_device.items():
            high = self._high.get(device)
            if high is None:
                stored = session.execute(select(func.max(DedupMark.seq)).where(DedupMark.device_id == device))
                high = self._high[device] = int(stored.scalar_one_or_none() or -1)
            doubtful = [s for s in seqs if s <= high and (device, s) not in self._recent]
            found.update((device, s) for s in seqs if s <= high and (device, s) in self._recent)
            for i in range(0, len(doubtful), 500):
                part = doubtful[i : i + 500]
                rows = session.execute(
                    select(DedupMark.seq).where(DedupMark.device_id == device, DedupMark.seq.in_(part))
                ).scalars()
                found.update((device, int(s)) for s in rows)
        return found

    def remember(self, keys: Iterable[Key]) -> None:
        """Keys just committed."""
        for key in keys:
            self._recent[key] = None
            if key[1] > self._high.get(key[0], -1):
                self._high[key[0]] = key[1]
        while len(self._recent) > self._memory:
            self._recent.popitem(last=False)
