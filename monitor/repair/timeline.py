"""Replay a repair job's beacon events into its state and its sequence violations.

Events are the contract's repair beacons for one job: ``stage`` (the job entered ``stage``),
``progress`` (progress 0..1 within the current stage), ``hold`` / ``resume`` (with ``reason``).
``heartbeat`` and unknown kinds are ignored. Events are applied in time order (stable for
equal times). Times are epoch milliseconds.

Rules of the replay:
- Entering a stage later in the order than the current one is normal; every *required* stage
  strictly between the two that the job never entered is a ``stage_skipped`` violation (also
  for required stages before the first stage seen).
- Entering an earlier stage is rework. While the job is on hold it is allowed (a hidden
  damage found during a hold sends it back); otherwise it is a ``stage_backwards`` violation.
  Either way the stages from the new one on are no longer completed.
- A ``stage`` event for the current stage only updates its progress, if given.
- A ``progress`` event naming another stage is taken as entering that stage first.
- A hold carries over a stage change; hold time is charged to the stage it was spent in.
- Overall progress weighs stages by their expected hours: the required stages before the
  current one count as done, the current one by its reported progress; ``delivered`` is 1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from monitor.repair.stages import (
    EXPECTED_HOURS,
    STAGE_INDEX,
    Severity,
    Stage,
    as_severity,
    as_stage,
    in_order,
)

logger = logging.getLogger(__name__)

EventKind = Literal["stage", "progress", "hold", "resume", "heartbeat"]
ViolationKind = Literal["stage_skipped", "stage_backwards"]


@dataclass(frozen=True, slots=True)
class BeaconEvent:
    """One repair beacon of a job: ``at_ms`` epoch ms, ``progress`` 0..1 within the stage."""

    kind: str
    at_ms: int
    stage: str | None = None
    progress: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SequenceViolation:
    """A stage change out of order: ``skipped`` lists the required stages never entered."""

    kind: ViolationKind
    at_ms: int
    from_stage: Stage | None
    to_stage: Stage
    skipped: tuple[Stage, ...] = ()

    @property
    def message(self) -> str:
        """Plain-words description with the stages involved."""
        origin = self.from_stage or "the start"
        if self.kind == "stage_skipped":
            return (
                f"went from {origin} to {self.to_stage}, skipping required "
                f"{len(self.skipped)} stage(s): {', '.join(self.skipped)}"
            )
        return f"went back from {origin} to {self.to_stage} without being on hold"


@dataclass(frozen=True, slots=True)
class StageVisit:
    """One stay in a stage: entered/left in epoch ms (left None while current), hold time in
    ms spent inside the stay, and ``holds``: the (start, end or None) hold intervals in it."""

    stage: Stage
    entered_at_ms: int
    left_at_ms: int | None
    held_ms: int
    holds: tuple[tuple[int, int | None], ...] = ()

    def active_ms(self, now_ms: int | None = None) -> int:
        """Working (not held) ms in the stay, up to its end or to ``now_ms`` while current."""
        end = self.left_at_ms if self.left_at_ms is not None else now_ms
        if end is None:
            raise ValueError("a current stage visit needs now_ms")
        return max(0, end - self.entered_at_ms - _held_between(self.holds, self.entered_at_ms, end))


def _held_between(holds: Iterable[tuple[int, int | None]], start_ms: int, end_ms: int) -> int:
    """Total ms of ``holds`` (open ones run to ``end_ms``) overlapping [start_ms, end_ms]."""
    total = 0
    for hold_start, hold_end in holds:
        lo = max(hold_start, start_ms)
        hi = min(hold_end if hold_end is not None else end_ms, end_ms)
        total += max(0, hi - lo)
    return total


@dataclass(frozen=True, slots=True)
class JobState:
    """A job's state after replaying its events (times in epoch ms, progress 0..1)."""

    required_stages: tuple[Stage, ...]
    current_stage: Stage | None = None
    stage_entered_at_ms: int | None = None
    stage_progress: float = 0.0
    progress: float = 0.0
    on_hold: bool = False
    hold_reason: str | None = None
    hold_started_at_ms: int | None = None
    held_ms_in_stage: int = 0
    """Hold time in the current stage from holds already ended (see ``active_ms_in_stage``)."""
    completed_stages: tuple[Stage, ...] = ()
    delivered_at_ms: int | None = None
    last_activity_at_ms: int | None = None
    """Latest stage change or progress report: what clears a stall."""
    last_event_at_ms: int | None = None
    holds_in_stage: tuple[tuple[int, int | None], ...] = ()
    visits: tuple[StageVisit, ...] = ()
    violations: tuple[SequenceViolation, ...] = ()

    def active_ms_in_stage(self, now_ms: int, since_ms: int | None = None) -> int:
        """Working ms in the current stage up to ``now_ms``, hold time excluded.

        Counted from the stage entry, or from ``since_ms`` when that is later (the stall
        check restarts its clock there after a stall was cleared).
        """
        if self.stage_entered_at_ms is None:
            return 0
        start = self.stage_entered_at_ms if since_ms is None else max(self.stage_entered_at_ms, since_ms)
        if now_ms <= start:
            return 0
        return max(0, now_ms - start - _held_between(self.holds_in_stage, start, now_ms))

    def hold_ms(self, now_ms: int) -> int:
        """How long the current hold has lasted at ``now_ms`` (0 when not on hold)."""
        if not self.on_hold or self.hold_started_at_ms is None:
            return 0
        return max(0, now_ms - self.hold_started_at_ms)


@dataclass(slots=True)
class _Replay:
    required: tuple[Stage, ...]
    current: Stage | None = None
    entered_at: int | None = None
    stage_progress: float = 0.0
    on_hold: bool = False
    hold_reason: str | None = None
    hold_started: int | None = None
    holds: list[tuple[int, int | None]] = field(default_factory=list)
    completed: set[Stage] = field(default_factory=set)
    entered_ever: set[Stage] = field(default_factory=set)
    delivered_at: int | None = None
    last_activity: int | None = None
    last_event: int | None = None
    visits: list[StageVisit] = field(default_factory=list)
    violations: list[SequenceViolation] = field(default_factory=list)

    def _close_visit(self, at_ms: int) -> None:
        if self.current is None or self.entered_at is None:
            return
        holds = tuple((s, at_ms if e is None else e) for s, e in self.holds)
        held = _held_between(holds, self.entered_at, at_ms)
        self.visits.append(StageVisit(self.current, self.entered_at, at_ms, held, holds))

    def enter(self, stage: Stage, at_ms: int, progress: float | None) -> None:
        if stage == self.current:
            if progress is not None:
                self.stage_progress = _clip01(progress)
            self.last_activity = at_ms
            return
        new_index = STAGE_INDEX[stage]
        if self.current is None or new_index > STAGE_INDEX[self.current]:
            low = -1 if self.current is None else STAGE_INDEX[self.current]
            skipped = tuple(s for s in self.required if low < STAGE_INDEX[s] < new_index and s not in self.entered_ever)
            if skipped:
                self.violations.append(SequenceViolation("stage_skipped", at_ms, self.current, stage, skipped))
            if self.current is not None:
                self.completed.add(self.current)
        else:
            if not self.on_hold:
                self.violations.append(SequenceViolation("stage_backwards", at_ms, self.current, stage))
            self.completed = {s for s in self.completed if STAGE_INDEX[s] < new_index}
        self._close_visit(at_ms)
        self.current = stage
        self.entered_at = at_ms
        self.entered_ever.add(stage)
        self.stage_progress = _clip01(progress) if progress is not None else 0.0
        self.holds = [(at_ms, None)] if self.on_hold else []
        self.last_activity = at_ms
        if stage is Stage.DELIVERED:
            self.delivered_at = at_ms
            self.stage_progress = 1.0

    def apply(self, event: BeaconEvent) -> None:
        self.last_event = event.at_ms if self.last_event is None else max(self.last_event, event.at_ms)
        if event.kind == "stage":
            if event.stage is None:
                logger.debug("stage event without a stage at %s ignored", event.at_ms)
                return
            self.enter(as_stage(event.stage), event.at_ms, event.progress)
        elif event.kind == "progress":
            if event.stage is not None and as_stage(event.stage) != self.current:
                self.enter(as_stage(event.stage), event.at_ms, event.progress)
            elif event.progress is not None:
                self.stage_progress = _clip01(event.progress)
                self.last_activity = event.at_ms
        elif event.kind == "hold":
            if not self.on_hold:
                self.on_hold = True
                self.hold_started = event.at_ms
                self.holds.append((event.at_ms, None))
            self.hold_reason = event.reason or self.hold_reason
        elif event.kind == "resume" and self.on_hold:
            self.on_hold = False
            self.hold_reason = None
            self.hold_started = None
            if self.holds and self.holds[-1][1] is None:
                self.holds[-1] = (self.holds[-1][0], event.at_ms)


def _clip01(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def overall_progress(
    required: Sequence[Stage],
    current: Stage | None,
    stage_progress: float,
    severity: str,
    table: Mapping[Severity, Mapping[Stage, float]] = EXPECTED_HOURS,
) -> float:
    """Share 0..1 of the job's expected hours done (see the module doc)."""
    if current is None:
        return 0.0
    if current is Stage.DELIVERED:
        return 1.0
    hours = table[as_severity(severity)]
    total = sum(hours[s] for s in required)
    if total <= 0:
        return 0.0
    index = STAGE_INDEX[current]
    done = sum(hours[s] for s in required if STAGE_INDEX[s] < index)
    if current in required:
        done += hours[current] * stage_progress
    return min(1.0, done / total)


def replay(
    required_stages: Iterable[str],
    events: Iterable[BeaconEvent],
    *,
    severity: str = Severity.MODERATE,
    table: Mapping[Severity, Mapping[Stage, float]] = EXPECTED_HOURS,
) -> JobState:
    """Replay ``events`` of one job whose repair order requires ``required_stages``.

    ``severity`` and ``table`` only weigh the overall progress. Unknown stage names raise
    ``ValueError`` (the contract's validation should have refused them already).
    """
    required = in_order(required_stages)
    state = _Replay(required)
    for event in sorted(events, key=lambda e: e.at_ms):
        state.apply(event)
    current_visit: tuple[StageVisit, ...] = ()
    if state.current is not None and state.entered_at is not None:
        current_visit = (
            StageVisit(
                state.current,
                state.entered_at,
                None,
                sum(e - s for s, e in state.holds if e is not None),
                tuple(state.holds),
            ),
        )
    closed_hold_ms = sum(e - s for s, e in state.holds if e is not None)
    return JobState(
        required_stages=required,
        current_stage=state.current,
        stage_entered_at_ms=state.entered_at,
        stage_progress=state.stage_progress,
        progress=overall_progress(required, state.current, state.stage_progress, severity, table),
        on_hold=state.on_hold,
        hold_reason=state.hold_reason,
        hold_started_at_ms=state.hold_started,
        held_ms_in_stage=closed_hold_ms,
        completed_stages=tuple(s for s in in_order(state.completed)),
        delivered_at_ms=state.delivered_at,
        last_activity_at_ms=state.last_activity,
        last_event_at_ms=state.last_event,
        holds_in_stage=tuple(state.holds),
        visits=(*state.visits, *current_visit),
        violations=tuple(state.violations),
    )
