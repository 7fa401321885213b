"""The monitor worker: applies the rules to what ingestion committed, for the partitions it holds.

Each round (every ``poll_s``, 0.1 s by default):
1. every ``refresh_s`` the worker rebalances its partition leases (`monitor.leases`); monitors forget the
   subjects of partitions it lost;
2. it claims the inbox rows of its partitions (`store.state.inbox`): one row per subject per committed
   ingestion batch. Each subject's rows go to the monitor of its type (patients: rehab; jobs: repair),
   which applies its real-time rules to exactly that new data, and the rows are deleted in the same
   transaction as the alerts they caused. A worker killed mid-round leaves its rows for the next owner,
   and a round committed is never applied again: each event is alerted once;
3. every ``tick_s`` the monitors' time-driven rules run over the held partitions in set-based queries
   (who has sent nothing for hours, which jobs stalled), and the duties: the cases of the held
   partitions, notification delivery (each worker claims its own), and what keeps one cursor (the
   cases' claimant feed, photo checks, shop heartbeats and scores) on the worker holding partition 0.

Cost grows with the data that arrived, not with the number of registered subjects. A failing subject or
monitor is logged, counted and retried (a store outage) or skipped (a bug or bad data); it never stops
the others, and it never blocks ingestion (they share only the stores).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from devices.timestamps import now_ms
from monitor.leases import Leases
from store.state import inbox
from store.state.inbox import Arrival
from store.timeseries.base import StoreUnavailable

log = logging.getLogger(__name__)

PASS_SECONDS = Histogram("aftercare_monitor_pass_seconds", "time of one monitor pass", ["monitor"])
FAILURES = Counter("aftercare_monitor_failures_total", "monitor passes that raised", ["monitor"])
ARRIVALS = Counter("aftercare_monitor_arrivals_total", "inbox rows handled (a subject's data of one batch)")
LAG = Gauge("aftercare_monitor_lag_seconds", "age of the oldest inbox row of this worker's partitions")
HELD = Gauge("aftercare_monitor_partitions_held", "partitions this monitor worker holds")

#: failures that say a store is unreachable: the round is rolled back and tried again, nothing is skipped
TRANSIENT = (StoreUnavailable, SQLAlchemyError, OSError)


@dataclass(frozen=True, slots=True)
class Sessions:
    """The two kinds of state transaction a monitor works in."""

    #: for reading while computing (time-series reads, signal processing): never holds a write lock
    read: Callable[[], AbstractContextManager[Session]]
    #: for the changes (alerts, cursors, inbox rows deleted): fenced by the partition leases, kept short
    write: Callable[[], AbstractContextManager[Session]]


class SubjectMonitor(Protocol):
    """Rules of one subject type, driven by arrivals and by time, over the partitions the worker holds.

    New data is handled in two steps so that no write lock is held while computing: `prepare` reads
    and detects, `apply` records the outcome (in the round's write transaction, beside the deletion of
    the subject's inbox rows)."""

    name: str
    subject_type: str

    def prepare(self, read: Session, subject: str, arrivals: Sequence[Arrival], now_ms: int) -> object: ...

    def apply(self, write: Session, subject: str, prepared: object, now_ms: int) -> int: ...

    def on_tick(self, session: Session, partitions: frozenset[int], now_ms: int, *, coordinator: bool) -> int: ...

    def background(self, sessions: Sessions, partitions: frozenset[int], now_ms: int, budget_s: float) -> int:
        """Deferred work (day metrics) for about ``budget_s`` seconds; the rest waits for the next round."""
        ...

    def forget(self, partitions: frozenset[int]) -> None:
        """Drop what is cached of the subjects of these partitions (lost to another worker)."""
        ...

    def flush(self, write: Session) -> None:
        """Write what `apply` deferred (cursors), in one statement, before the round commits."""
        ...

    def rolled_back(self) -> None:
        """A write transaction failed: drop what was cached of state it may have changed."""
        ...


class Duty(Protocol):
    """Work done every tick on every worker, over the partitions it holds (work that is not split by
    subject, such as a single cursor, on the coordinator: the holder of partition 0)."""

    name: str

    def run_partitions(self, now_ms: int, partitions: frozenset[int], *, coordinator: bool) -> int: ...


class MonitorWorker:
    def __init__(
        self,
        *,
        leases: Leases,
        read_session: Callable[[], AbstractContextManager[Session]],
        monitors: Sequence[SubjectMonitor],
        duties: Sequence[Duty] = (),
        poll_s: float = 0.1,
        tick_s: float = 5.0,
        refresh_s: float = 1.0,
        batch: int = 500,
        subjects_per_commit: int = 100,
        background_s: float = 0.05,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.leases = leases
        self.monitors = {m.subject_type: m for m in monitors}
        self.duties = list(duties)
        self.poll_s, self.tick_s, self.refresh_s = poll_s, tick_s, refresh_s
        self.batch, self.subjects_per_commit = batch, subjects_per_commit
        self.background_s = background_s  # per round, after the arrivals: new data never waits behind it
        self.clock = clock
        self.sessions = Sessions(read=read_session, write=leases.session)
        self.held: frozenset[int] = frozenset()
        self.errors: dict[str, str] = {}  # monitor -> its last failure, until it passes again
        self.last_round_ms: int | None = None
        self._refreshed_at = 0.0
        self._ticked_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def coordinator(self) -> bool:
        return 0 in self.held

    def refresh(self) -> None:
        held = self.leases.refresh()
        lost = self.held - held
        if lost:
            for m in self.monitors.values():
                m.forget(lost)
        if held != self.held:
            log.info("monitor worker holds %s partitions (lost %s)", len(held), len(lost))
        self.held = held
        HELD.set(len(held))
        self._refreshed_at = time.monotonic()

    def run_round(self, *, force_tick: bool = False) -> int:
        """One round: rebalance if due, handle what arrived, then the time-driven rules if due."""
        if time.monotonic() - self._refreshed_at >= self.refresh_s or not self.held:
            self.refresh()
        handled = self._arrivals()
        if force_tick or time.monotonic() - self._ticked_at >= self.tick_s:
            self._ticked_at = time.monotonic()
            handled += self._tick()
        handled += self._background(None if force_tick else self.background_s)
        self.last_round_ms = self.clock()
        return handled

    def _background(self, budget_s: float | None) -> int:
        """The monitors' deferred work, within ``budget_s`` per monitor (None: all of it)."""
        handled = 0
        now = self.clock()
        for m in self.monitors.values():
            try:
                handled += m.background(
                    self.sessions, self.held, now, budget_s if budget_s is not None else float("inf")
                )
            except Exception as exc:
                m.rolled_back()
                self._failed(m.name, exc)
        return handled

    def drain(self, *, max_rounds: int = 1000) -> int:
        """Rounds until the inbox of the held partitions is empty, then one tick (tests, benchmarks)."""
        handled = 0
        for _ in range(max_rounds):
            done = self._arrivals_count()
            self.run_round()
            handled += done
            if done == 0:
                break
        return handled + self.run_round(force_tick=True)

    def _arrivals_count(self) -> int:
        with self.sessions.read() as s:
            return inbox.backlog(s, self.held)[0]

    def _arrivals(self) -> int:
        if not self.held:
            return 0
        try:
            with self.sessions.read() as s:
                claimed = inbox.claim(s, self.held, self.batch)
                oldest = inbox.backlog(s, self.held)[1] if claimed else None
        except TRANSIENT as exc:
            self._failed("inbox", exc)
            return 0
        LAG.set(max(0.0, (self.clock() - oldest) / 1000) if oldest is not None else 0.0)
        if not claimed:
            return 0
        by_subject: dict[tuple[str, str], list[Arrival]] = defaultdict(list)
        for a in claimed:
            by_subject[(a.subject_type, a.subject)].append(a)
        groups = list(by_subject.items())
        handled = 0
        for i in range(0, len(groups), self.subjects_per_commit):
            handled += self._apply(groups[i : i + self.subjects_per_commit])
        ARRIVALS.inc(len(claimed))
        return handled

    def _apply(self, groups: list[tuple[tuple[str, str], list[Arrival]]]) -> int:
        """Apply the rules to a slice of subjects: compute in a read transaction, then record the outcome and
        delete the slice's inbox rows in one write transaction."""
        handled = 0
        now = self.clock()
        started = time.perf_counter()
        prepared: list[tuple[SubjectMonitor, str, object]] = []
        try:
            with self.sessions.read() as r:
                for (subject_type, subject), arrivals in groups:
                    monitor = self.monitors.get(subject_type)
                    if monitor is None:
                        continue
                    try:
                        prepared.append((monitor, subject, monitor.prepare(r, subject, arrivals, now)))
                    except TRANSIENT:
                        raise
                    except Exception as exc:  # a bug or bad data: this subject's rows are skipped, not retried
                        self._skipped(monitor, subject_type, subject, exc)
            with self.sessions.write() as s:
                for monitor, subject, found in prepared:
                    try:
                        with s.begin_nested():
                            handled += monitor.apply(s, subject, found, now)
                    except TRANSIENT:
                        raise
                    except Exception as exc:
                        self._skipped(monitor, monitor.subject_type, subject, exc)
                for monitor in self.monitors.values():
                    monitor.flush(s)
                inbox.done(s, [a for _, arrivals in groups for a in arrivals])
        except TRANSIENT as exc:
            for m in self.monitors.values():
                m.rolled_back()  # what they cached during this round must not outlive it
            self._failed("inbox", exc)
            return 0
        PASS_SECONDS.labels("arrivals").observe(time.perf_counter() - started)
        return handled

    def _skipped(self, monitor: SubjectMonitor, subject_type: str, subject: str, exc: Exception) -> None:
        FAILURES.labels(monitor.name).inc()
        self.errors[monitor.name] = f"{subject}: {exc}"[:300]
        log.error(
            "%s monitor failed for %s %s; its new data is skipped", monitor.name, subject_type, subject, exc_info=exc
        )

    def _tick(self) -> int:
        handled = 0
        now = self.clock()
        for m in self.monitors.values():
            started = time.perf_counter()
            try:
                with self.sessions.write() as s:
                    handled += m.on_tick(s, self.held, now, coordinator=self.coordinator)
                self.errors.pop(m.name, None)
            except Exception as exc:
                m.rolled_back()
                self._failed(m.name, exc)
            PASS_SECONDS.labels(m.name).observe(time.perf_counter() - started)
        for duty in self.duties:
            started = time.perf_counter()
            try:
                handled += duty.run_partitions(now, self.held, coordinator=self.coordinator)
                self.errors.pop(duty.name, None)
            except Exception as exc:
                self._failed(duty.name, exc)
            PASS_SECONDS.labels(duty.name).observe(time.perf_counter() - started)
        return handled

    def _failed(self, name: str, exc: BaseException) -> None:
        FAILURES.labels(name).inc()
        self.errors[name] = str(exc)[:300]
        log.warning(
            "monitor %s failed (%s); retrying next round",
            name,
            str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
            exc_info=not isinstance(exc, TRANSIENT),
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="monitor-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.leases.close()

    def health(self) -> tuple[bool, str]:
        failing = "; ".join(f"{name} failing: {error}" for name, error in sorted(self.errors.items()))
        held = f"{len(self.held)} partitions"
        if self.last_round_ms is None:
            return not self.errors, "starting" + (f"; {failing}" if failing else "")
        age = (self.clock() - self.last_round_ms) / 1000
        ok = age < max(60.0, 10 * self.tick_s) and not self.errors
        return ok, f"last round {age:.0f} s ago, {held}" + (f"; {failing}" if failing else "")

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.run_round()
            except Exception as exc:  # never let the thread die
                self._failed("worker", exc)
            self._stop.wait(max(0.0, self.poll_s - (time.monotonic() - started)))
