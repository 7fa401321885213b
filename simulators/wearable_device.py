"""A simulated wearable publishing the live stream of `simulators.wearable_signals` in real time."""

from __future__ import annotations

import time
from collections.abc import Iterator

from simulators.history import backlog_batches
from simulators.mqtt_out import DeviceLink
from simulators.wearable_signals import (
    InjectedEvent,
    PatientProfile,
    StreamChunk,
    simulate_patient_day,
    simulate_stream,
)

DAY_MS = 86_400_000
#: A patient doing what the default plan asks (2 sessions of 3 x 10, walking), for the history backfill.
ADHERENT = PatientProfile(
    exercise_sessions=2,
    sets_per_session=3,
    reps_per_set=12,
    walking_bouts=8,
    walking_minutes=(6.0, 12.0),
    desaturations=0,
    falls=0,
)


class Wearable:
    """Publishes each few-second window of the stream as one telemetry batch once its time has come."""

    def __init__(
        self,
        link: DeviceLink,
        *,
        seed: int,
        start_ms: int | None = None,
        event_every_s: float = 300.0,
        horizon_s: float = 14 * 86_400,
    ) -> None:
        self.link = link
        start = start_ms if start_ms is not None else int(time.time() * 1000) - 10_000
        self._stream: Iterator[StreamChunk] = simulate_stream(seed, start, horizon_s, event_every_s=event_every_s)
        self._pending: StreamChunk | None = None
        self.events: list[InjectedEvent] = []
        self.batches = 0
        link.status(True, battery=95)

    def backfill(self, days: int, *, seed: int, now_ms: int | None = None) -> int:
        """Publish ``days`` whole past days (ending at the start of today, UTC) as a device uploading its
        backlog; returns the number of batches. The live stream then carries on from now."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        today = now - now % DAY_MS
        sent = 0
        for d in range(days, 0, -1):
            day = simulate_patient_day(seed * 100 + d, day_start_ms=today - d * DAY_MS, profile=ADHERENT)
            for series in backlog_batches(day.series):
                self.link.publish(
                    f"aftercare/v1/wearables/{self.link.device_id}/telemetry",
                    {"seq": self.link.next_seq(), "series": series},
                )
                sent += 1
        return sent

    def step(self, now_ms: int) -> int:
        """Publish every window that has ended by ``now_ms``; returns the number of batches sent."""
        sent = 0
        while True:
            group: list[StreamChunk] = []
            while True:
                chunk = self._pending or next(self._stream, None)
                self._pending = None
                if chunk is None:
                    break
                if group and chunk.t0_ms != group[0].t0_ms:
                    self._pending = chunk
                    break
                group.append(chunk)
            if not group:
                return sent
            end = max(_end_ms(c) for c in group)
            if end > now_ms:
                # not yet: keep the window for a later step
                self._stream = _prepend(group, self._pending, self._stream)
                self._pending = None
                return sent
            for c in group:
                self.events.extend(c.events)
            self.link.publish(
                f"aftercare/v1/wearables/{self.link.device_id}/telemetry",
                {"seq": self.link.next_seq(), "series": [c.as_series_payload() for c in group]},
            )
            self.batches += 1
            sent += 1


def _end_ms(chunk: StreamChunk) -> int:
    if chunk.t_ms is not None and len(chunk.t_ms):
        return int(chunk.t_ms[-1])
    n = int(chunk.values.shape[0])
    return chunk.t0_ms + int(1000 * n / (chunk.fs or 1.0))


def _prepend(
    group: list[StreamChunk], pending: StreamChunk | None, rest: Iterator[StreamChunk]
) -> Iterator[StreamChunk]:
    yield from group
    if pending is not None:
        yield pending
    yield from rest
