"""The rehab monitor: turns each patient's new telemetry into safety alerts, day metrics and proposals.

Driven by the monitor worker (`monitor.worker`), for the patients of the partitions it holds:
- On arrival (each committed ingestion batch that brought a patient data), the real-time safety rules
  run on exactly that data plus the context window each needs (two minutes before it): desaturations,
  falls and heart rate over the plan's cap. Each event is raised once: the patient's cursor (in
  ``monitor_cursors``, written in the same transaction as the alert) remembers the newest event handled.
  Data coming back after an absence clears ``not_worn`` (after ten minutes of wear: hysteresis).
- On each tick (every few seconds), set-based over the held partitions: ``not_worn`` from every patient's
  newest data time at once (`store.state.inbox.last_seen`), and the day metrics
  (`monitor.signals.daily`) of patients that received data, recomputed at most every
  ``day_recompute_s`` for the days that changed, then the trend rules (resting heart rate rising, HRV
  below baseline) and, weekly, a plan adjustment proposal.
A patient who sent nothing costs nothing but its row in those set-based queries.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import alerts
from monitor.alerts import AlertInput
from monitor.rehab.adherence import adherence
from monitor.rehab.adjustment import propose_adjustment
from monitor.rehab.plan import RehabPlanContent, default_plan
from monitor.rehab.safety import AlertCandidate, hrv_low_alert, resting_hr_rising_alert
from monitor.rehab_plans import current_plan
from monitor.signals.daily import DayMetrics
from monitor.signals.day_blocks import blocks_touched, update_day
from monitor.signals.falls import detect_falls
from monitor.signals.heart import SessionHeartRate, hr_from_rr, session_heart_rate, sustained_above
from monitor.signals.ppg import hr_from_ppg
from monitor.signals.spo2 import desaturations
from monitor.worker import Sessions
from store.state import inbox
from store.state.alert_kinds import Severity
from store.state.events import publish
from store.state.inbox import PRESENCE_METRICS, Arrival
from store.state.partitions import PARTITIONS, partition_of
from store.state.schema import Alert, DailyMetrics, MonitorCursor, Patient, PlanAdjustment
from store.state.schema_monitor import DayBlock
from store.state.upsert import upsert
from store.stores import Stores
from store.timeseries.base import TimeSeriesStore

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
DAY_SERIES = ("heart_rate", "rr_interval", "spo2", "accel", "gyro", "joint_angle", "steps", "ppg")
CONTEXT_MS = 120_000  # what the SpO2 and heart-rate rules read before the new data: an episode that began earlier
IMPACT_G = 2.5  # a fall begins with an impact above this (monitor.signals.falls)
ACCEL_CONTEXT_MS = 10_000  # and the fall rule: the posture before an impact at the start of the new data
FAST_WINDOW_MAX_MS = DAY_MS  # a backlog older than a day is covered by the day metrics only
MIN_NONWEAR_MS = 300_000  # patients quiet for less are not even looked at by the not_worn rule
WEEK_MS = 7 * DAY_MS
TREND_EVERY_MS = 900_000  # the trend rules over 14 days change slowly: run at most this often per patient
PROPOSAL_RETRY_MS = 3_600_000  # a week's proposal not possible yet (no plan, a decision pending): tried hourly
WEAR_CLEAR_MS = 10 * 60_000


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def day_start(ms: int) -> int:
    return ms - ms % DAY_MS


def day_start_of(day: str) -> int:
    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class PatientRef:
    """What the rules need of a patient, detached from any session (the worker keeps it between rounds)."""

    id: str
    resting_hr: float | None
    max_hr: float | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """What `RehabMonitor.prepare` found in a patient's new data, for `RehabMonitor.apply` to record."""

    patient: PatientRef
    first_ms: int
    last_ms: int
    metrics: frozenset[str]
    events: list[tuple[str, int, AlertCandidate]]


@dataclass
class Cursor:
    seen_ms: int  # newest telemetry time handled by the fast rules
    data: dict[str, Any]


def _load_cursor(session: Session, name: str, default_ms: int) -> Cursor:
    row = session.get(MonitorCursor, name)
    return Cursor(row.value_ms, dict(row.data or {})) if row else Cursor(default_ms, {})


def _save_cursor(session: Session, name: str, cursor: Cursor) -> None:
    upsert(
        session,
        MonitorCursor.__table__,  # type: ignore[arg-type]
        [
            {
                "name": name,
                "value_ms": cursor.seen_ms,
                "data": cursor.data,
            }
        ],
        ["name"],
    )


def plan_content(session: Session, patient: Patient | PatientRef) -> tuple[RehabPlanContent, int]:
    plan = current_plan(session, patient.id)
    if plan is None:
        return default_plan(patient.resting_hr or 65.0, patient.max_hr or 175.0), 0
    return RehabPlanContent.model_validate(plan.content), plan.version


def stored_days(session: Session, patient_id: str, *, before_ms: int, days: int = 28) -> list[DayMetrics]:
    rows = session.execute(
        select(DailyMetrics)
        .where(
            DailyMetrics.patient_id == patient_id,
            DailyMetrics.day >= day_of(before_ms - days * DAY_MS),
            DailyMetrics.day <= day_of(before_ms),
        )
        .order_by(DailyMetrics.day)
    ).scalars()
    return [DayMetrics.from_dict(r.metrics) for r in rows]


def _raise(session: Session, patient: Patient | PatientRef, c: AlertCandidate) -> None:
    alerts.raise_alert(
        session,
        AlertInput(
            kind=c.kind,
            subject=patient.id,
            subject_type="patient",
            severity=c.severity,
            message=c.message,
            at_ms=c.at_ms,
            value=c.value,
            patient_id=patient.id,
        ),
    )


def propose_for_patient(
    session: Session, patient: Patient | PatientRef, now_ms: int, *, force: bool = False
) -> PlanAdjustment | None:
    """Propose a plan adjustment from the last week, unless one is already waiting for a decision."""
    pending = (
        session.execute(
            select(PlanAdjustment).where(PlanAdjustment.patient_id == patient.id, PlanAdjustment.state == "proposed")
        )
        .scalars()
        .first()
    )
    if pending is not None:
        return pending if force else None
    plan, version = plan_content(session, patient)
    if version == 0:
        return None
    # whole days only: today is still being recorded
    days = stored_days(session, patient.id, before_ms=day_start(now_ms) - 1, days=7)
    open_kinds = set(
        session.execute(
            select(Alert.kind).where(Alert.patient_id == patient.id, Alert.state.in_(alerts.ACTIVE))
        ).scalars()
    )
    proposal = propose_adjustment(plan, days, open_kinds)
    if proposal is None:
        return None
    adj = PlanAdjustment(
        id="ADJ-" + uuid.uuid4().hex[:12],
        patient_id=patient.id,
        base_version=version,
        direction=proposal.direction,
        changes=[{"path": p, "old": o, "new": n} for p, o, n in proposal.changes],
        new_content=proposal.new_plan.model_dump(mode="json"),
        rationale=proposal.rationale,
        state="proposed",
        created_ms=now_ms,
    )
    session.add(adj)
    session.flush()
    publish(
        session,
        "adjustment_proposed",
        {"adjustment_id": adj.id, "patient_id": patient.id, "direction": adj.direction, "rationale": adj.rationale},
        patient_id=patient.id,
    )
    log.info("proposed %s for %s: %s", adj.direction, patient.id, adj.rationale)
    return adj


class RehabMonitor:
    """`monitor.worker.SubjectMonitor` of patients (see module docstring)."""

    name = "rehab"
    subject_type = "patient"

    def __init__(
        self,
        stores: Stores,
        *,
        day_recompute_s: float = 60.0,
        lookback_days: int = 14,
        hr_cap_seconds: float = 60.0,
        cache_s: float = 30.0,
    ) -> None:
        self.timeseries: TimeSeriesStore = stores.timeseries
        self.state = stores.state
        self.day_recompute_ms = int(day_recompute_s * 1000)
        self.lookback_ms = lookback_days * DAY_MS
        self.hr_cap_seconds = hr_cap_seconds
        self.cache_ms = int(cache_s * 1000)
        self._cursors: dict[str, Cursor] = {}  # patients of the held partitions: this worker alone writes them
        self._plans: dict[str, tuple[int, PatientRef, RehabPlanContent]] = {}  # patient -> (read at, patient, plan)
        self._dirty: dict[str, tuple[int, int]] = {}  # patient -> data times whose day metrics are to redo
        self._days_at: dict[str, int] = {}  # patient -> when its day metrics were last refreshed
        self._known: frozenset[int] = frozenset()  # partitions whose dirty cursors were loaded
        self._unsaved: set[str] = set()  # patients whose cursor `apply` changed, for `flush`
        self._baselines: dict[tuple[str, int], tuple[int, float | None]] = {}  # (patient, day) -> (read at, SpO2)
        self._trends_at: dict[str, int] = {}  # patient -> when the trend rules last ran
        self._not_worn: set[str] = set()  # patients with an active not_worn alert (refreshed each tick)

    # -- driven by the worker -------------------------------------------------------------------
    def prepare(self, read: Session, subject: str, arrivals: Sequence[Arrival], now_ms: int) -> Prepared | None:
        found = self._context(read, subject, now_ms)
        if found is None:
            return None  # data of a patient deleted since: nothing to watch
        patient, plan = found
        cursor = self._cursor(read, subject, now_ms)
        first = min(a.first_ms for a in arrivals)
        last = max(a.last_ms for a in arrivals)
        metrics = frozenset(m for a in arrivals for m in a.metrics)
        events = self._detect(patient, plan, cursor, metrics, max(first, last - FAST_WINDOW_MAX_MS), last + 1)
        return Prepared(patient, first, last, metrics, events)

    def apply(self, write: Session, subject: str, prepared: object, now_ms: int) -> int:
        if not isinstance(prepared, Prepared):
            return 0
        cursor = self._cursor(write, subject, now_ms)
        raised = 0
        for mark, at_ms, candidate in prepared.events:
            if at_ms > int(cursor.data.get(mark, 0)):  # each event once, however often its data is read
                _raise(write, prepared.patient, candidate)
                cursor.data[mark] = at_ms
                raised += 1
        cursor.seen_ms = max(cursor.seen_ms, prepared.last_ms)
        if subject in self._not_worn and prepared.metrics & PRESENCE_METRICS:
            self._worn_again(write, prepared.patient, cursor, prepared.last_ms)
        # the day metrics to redo, kept in the cursor too: a worker taking over the patient finds them there
        cursor.data["dirty"] = list(self._mark_dirty(subject, prepared.first_ms, prepared.last_ms))
        self._days_at.setdefault(subject, self._first_refresh(subject, cursor, now_ms))
        self._unsaved.add(subject)
        return raised

    def _first_refresh(self, patient_id: str, cursor: Cursor, now_ms: int) -> int:
        """When the day metrics were last refreshed; for a patient never refreshed, a time that makes the first
        refresh due within ``day_recompute_s``, spread by patient (a cold start does not refresh everyone at once)."""
        at = int(cursor.data.get("days_at_ms", 0))
        if at:
            return at
        return now_ms - self.day_recompute_ms + zlib.crc32(patient_id.encode()) % max(1, self.day_recompute_ms)

    def flush(self, write: Session) -> None:
        """The cursors `apply` changed, in one statement, in the same transaction."""
        rows = [
            {"name": f"rehab:{p}", "value_ms": self._cursors[p].seen_ms, "data": self._cursors[p].data}
            for p in sorted(self._unsaved)
            if p in self._cursors
        ]
        upsert(write, MonitorCursor.__table__, rows, ["name"])  # type: ignore[arg-type]
        self._unsaved.clear()

    def on_tick(self, session: Session, partitions: frozenset[int], now_ms: int, *, coordinator: bool) -> int:
        return self._absent(session, partitions, now_ms)

    def background(self, sessions: Sessions, partitions: frozenset[int], now_ms: int, budget_s: float) -> int:
        """Day metrics of the patients whose data changed, at most every ``day_recompute_s``: the blocks the new
        data touched are computed again in a read transaction, then stored with the merged day in a short
        write transaction (`monitor.signals.day_blocks`)."""
        started = time.perf_counter()
        handled = 0
        gained = partitions - self._known
        if gained:  # a worker that held them may have died with days still to do: they are in its cursors
            with sessions.read() as read:
                self._load_dirty(read, gained, now_ms)
            self._known |= gained
        due = sorted(
            p
            for p, at in self._days_at.items()
            if p in self._dirty and now_ms - at >= self.day_recompute_ms and partition_of(p) in partitions
        )
        for patient_id in due:
            if time.perf_counter() - started >= budget_s:
                break
            lo, hi = self._dirty.pop(patient_id)
            try:
                handled += self._refresh(sessions, patient_id, lo, hi, now_ms)
            except BaseException:
                self._mark_dirty(patient_id, lo, hi)  # still to do: a failed refresh is tried again
                raise
        return handled

    def _refresh(self, sessions: Sessions, patient_id: str, lo: int, hi: int, now_ms: int) -> int:
        """One patient's day metrics for the data in ``[lo, hi]``; returns the days stored."""
        with sessions.read() as read:
            found = self._context(read, patient_id, now_ms)
            if found is None:
                return 0  # a patient deleted since
            patient, plan = found
            cursor = self._cursor(read, patient_id, now_ms)
            blocks, days = self._compute_days(read, patient, plan, lo, hi, now_ms)
        with sessions.write() as write:
            handled = self._store_days(write, patient, blocks, days)
            cursor.data["days_at_ms"] = now_ms
            cursor.data.pop("dirty", None)
            # the weekly proposal, tried whenever the day metrics were refreshed until one is made
            if (
                now_ms - int(cursor.data.get("proposal_at_ms", 0)) >= WEEK_MS
                and now_ms - int(cursor.data.get("proposal_tried_ms", 0)) >= PROPOSAL_RETRY_MS
            ):
                cursor.data["proposal_tried_ms"] = now_ms
                if propose_for_patient(write, patient, now_ms) is not None:
                    cursor.data["proposal_at_ms"] = now_ms
            _save_cursor(write, f"rehab:{patient_id}", cursor)
        self._days_at[patient_id] = now_ms
        return handled

    def _load_dirty(self, read: Session, partitions: frozenset[int], now_ms: int) -> None:
        for name, data in read.execute(
            select(MonitorCursor.name, MonitorCursor.data).where(MonitorCursor.name.like("rehab:%"))
        ):
            patient_id = name.removeprefix("rehab:")
            if partition_of(patient_id) not in partitions:
                continue
            self._days_at.setdefault(patient_id, int((data or {}).get("days_at_ms", 0)))
            dirty = (data or {}).get("dirty")
            if dirty:
                self._mark_dirty(patient_id, int(dirty[0]), int(dirty[1]))

    def _mark_dirty(self, patient_id: str, lo: int, hi: int) -> tuple[int, int]:
        old = self._dirty.get(patient_id)
        span = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
        self._dirty[patient_id] = span
        return span

    def rolled_back(self) -> None:
        self._cursors.clear()  # a cursor may hold marks of alerts that were never committed
        self._unsaved.clear()

    def forget(self, partitions: frozenset[int]) -> None:
        for cache in (self._cursors, self._plans, self._trends_at):
            for key in [k for k in cache if partition_of(k) in partitions]:
                del cache[key]
        self._baselines = {k: v for k, v in self._baselines.items() if partition_of(k[0]) not in partitions}
        self._dirty = {p: v for p, v in self._dirty.items() if partition_of(p) not in partitions}
        self._days_at = {p: v for p, v in self._days_at.items() if partition_of(p) not in partitions}
        self._known -= partitions
        self._not_worn = {p for p in self._not_worn if partition_of(p) not in partitions}

    def run_once(self, now_ms: int) -> int:
        """Everything at once, for every patient, in this process (tests and tools; the worker is the service)."""
        everything = frozenset(range(PARTITIONS))
        handled = 0
        with self.state.session() as s:
            self._refresh_not_worn(s, everything)
            while arrivals := inbox.claim(s, everything, subject_type=self.subject_type):
                by_subject: dict[str, list[Arrival]] = {}
                for a in arrivals:
                    by_subject.setdefault(a.subject, []).append(a)
                for subject, items in by_subject.items():
                    handled += self.apply(s, subject, self.prepare(s, subject, items, now_ms), now_ms)
                self.flush(s)
                inbox.done(s, arrivals)
            self._days_at = dict.fromkeys(self._days_at, 0)  # a tool's pass recomputes whatever changed, due or not
            handled += self.on_tick(s, everything, now_ms, coordinator=True)
        handled += self.background(
            Sessions(read=self.state.session, write=self.state.session), everything, now_ms, float("inf")
        )
        return handled

    # -- context -------------------------------------------------------------------------------
    def _context(self, session: Session, patient_id: str, now_ms: int) -> tuple[PatientRef, RehabPlanContent] | None:
        """The patient and current plan, cached for ``cache_s`` (a new plan applies within that time)."""
        hit = self._plans.get(patient_id)
        if hit is not None and now_ms - hit[0] < self.cache_ms:
            return hit[1], hit[2]
        row = session.get(Patient, patient_id)
        if row is None:
            return None
        patient = PatientRef(row.id, row.resting_hr, row.max_hr)
        plan, _version = plan_content(session, patient)
        self._plans[patient_id] = (now_ms, patient, plan)
        return patient, plan

    def _cursor(self, session: Session, patient_id: str, now_ms: int) -> Cursor:
        cursor = self._cursors.get(patient_id)
        if cursor is None:
            cursor = self._cursors[patient_id] = _load_cursor(session, f"rehab:{patient_id}", now_ms - self.lookback_ms)
        return cursor

    # -- real-time safety rules -------------------------------------------------------------------
    def _detect(
        self,
        patient: PatientRef,
        plan: RehabPlanContent,
        cursor: Cursor,
        metrics: frozenset[str],
        new_from: int,
        end: int,
    ) -> list[tuple[str, int, AlertCandidate]]:
        """The safety rules on the new data ``[new_from, end)`` and the context before it: (cursor mark,
        event time, alert) of every event seen, handled or not (`apply` raises those past the mark)."""
        found: list[tuple[str, int, AlertCandidate]] = []
        start = new_from - CONTEXT_MS
        if "spo2" in metrics:
            spo2 = self.timeseries.read(patient.id, "spo2", start, end)
            baseline = cursor.data.get("spo2_baseline")
            # no event is possible unless a value is below 90 % or 4 points under the baseline (which, when
            # not known, is the window's median: at most its highest value): skip the detector then
            if spo2.n and (
                spo2.values.min() < 90.0
                or spo2.values.min() <= (baseline if baseline is not None else spo2.values.max()) - 4.0
            ):
                events = desaturations(spo2.t_ms, spo2.values, baseline_pct=baseline)
            else:
                events = ()
            for d in events:
                found.append(
                    (
                        "desat_ms",
                        d.start_ms,
                        AlertCandidate(
                            kind="desaturation",
                            subject=patient.id,
                            severity=Severity.CRITICAL,
                            at_ms=d.start_ms,
                            value=d.nadir_pct,
                            message=f"SpO2 fell to {d.nadir_pct:.0f} % for {(d.end_ms - d.start_ms) / 1000:.0f} s"
                            f"{' so far' if d.end_ms >= end - 2000 else ''} (baseline {d.baseline_pct:.0f} %)",
                        ),
                    )
                )
        if "accel" in metrics:
            accel = self.timeseries.read(patient.id, "accel", new_from - ACCEL_CONTEXT_MS, end)
            impact = accel.n > 0 and float(np.einsum("ij,ij->i", accel.values, accel.values).max()) > IMPACT_G**2
            for f in detect_falls(accel.t_ms, accel.values, impact_g=IMPACT_G) if impact else ():
                found.append(
                    (
                        "fall_ms",
                        f.at_ms,
                        AlertCandidate(
                            kind="fall",
                            subject=patient.id,
                            severity=Severity.CRITICAL,
                            at_ms=f.at_ms,
                            value=f.peak_g,
                            message=f"fall: impact {f.peak_g:.1f} g, then still"
                            + (
                                f", orientation changed {f.orientation_change_deg:.0f} deg"
                                if f.orientation_change_deg is not None
                                else ""
                            ),
                        ),
                    )
                )
        if "heart_rate" in metrics:
            cap = plan.medical.hr_cap_bpm
            hr = self.timeseries.read(patient.id, "heart_rate", start, end)
            over = hr.n > 0 and float(hr.values.max()) >= cap
            for e in sustained_above(hr.t_ms, hr.values, cap, min_duration_s=self.hr_cap_seconds) if over else ():
                found.append(
                    (
                        "hrcap_ms",
                        e.start_ms,
                        AlertCandidate(
                            kind="hr_over_cap",
                            subject=patient.id,
                            severity=Severity.WARNING,
                            at_ms=e.start_ms,
                            value=e.peak_bpm,
                            message=f"heart rate above the plan's cap of {cap:.0f} bpm for "
                            f"{(e.end_ms - e.start_ms) / 1000:.0f} s (peak {e.peak_bpm:.0f})",
                        ),
                    )
                )
        return sorted(found, key=lambda item: item[1])

    # -- wear -------------------------------------------------------------------------------------
    def _refresh_not_worn(self, s: Session, partitions: frozenset[int]) -> None:
        active = s.execute(
            select(Alert.subject).where(Alert.kind == "not_worn", Alert.state.in_(alerts.ACTIVE))
        ).scalars()
        self._not_worn = {p for p in active if partition_of(p) in partitions}

    def _absent(self, s: Session, partitions: frozenset[int], now_ms: int) -> int:
        """``not_worn`` for every patient whose newest data is older than the plan allows: one query for all."""
        self._refresh_not_worn(s, partitions)
        quiet = inbox.last_seen(s, partitions, before_ms=now_ms - MIN_NONWEAR_MS)
        raised = 0
        for patient_id, latest in sorted(quiet.items()):
            if patient_id in self._not_worn:
                continue  # one alert per time off the wrist, not one per tick
            found = self._context(s, patient_id, now_ms)
            if found is None:
                continue
            patient, plan = found
            if now_ms - latest <= int(plan.max_nonwear_hours * 3_600_000):
                continue
            cursor = self._cursor(s, patient_id, now_ms)
            cursor.data.pop("worn_again_ms", None)
            hours = (now_ms - latest) / 3_600_000
            _raise(
                s,
                patient,
                AlertCandidate(
                    kind="not_worn",
                    subject=patient.id,
                    severity=Severity.WARNING,
                    at_ms=now_ms,
                    value=round(hours, 1),
                    message=f"no data for {hours:.1f} h (the plan allows {plan.max_nonwear_hours:g} h)",
                ),
            )
            _save_cursor(s, f"rehab:{patient_id}", cursor)
            self._not_worn.add(patient_id)
            raised += 1
        return raised

    def _worn_again(self, s: Session, patient: PatientRef, cursor: Cursor, latest: int) -> None:
        """Cleared once data has flowed again for ``WEAR_CLEAR_MS`` (hysteresis: a device put on for a minute
        does not flap the alert)."""
        since = int(cursor.data.setdefault("worn_again_ms", latest))
        if (
            alerts.clear(
                s,
                "not_worn",
                patient.id,
                now_ms=latest,
                clear_after_ms=WEAR_CLEAR_MS,
                clear_since_ms=since,
                note="worn again",
            )
            is not None
        ):
            cursor.data.pop("worn_again_ms", None)
            self._not_worn.discard(patient.id)

    # -- day metrics ------------------------------------------------------------------------------
    def _compute_days(
        self, s: Session, patient: PatientRef, plan: RehabPlanContent, lo: int, hi: int, now_ms: int
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The block partials and ``daily_metrics`` rows of the days that data in ``[lo, hi]`` changed (reads
        only): the touched blocks from the time series, the other blocks of each day as stored."""
        zone = plan.zone_bpm()
        lo = max(lo, day_start(now_ms) - self.lookback_ms)
        block_rows: list[dict[str, Any]] = []
        day_rows: list[dict[str, Any]] = []
        if hi < lo:
            return block_rows, day_rows  # older than the look-back: left as computed
        touched = blocks_touched(lo, hi)

        def read(metric: str, start: int, end: int) -> tuple[Any, Any]:
            d = self.timeseries.read(patient.id, metric, start, end)
            return d.t_ms, d.values

        def session_hr(source: str, start: int, end: int) -> SessionHeartRate:
            t, v = read(source, start - 60_000, end + 120_000)
            if source == "heart_rate":
                ok = (v >= 20) & (v <= 250)
                return session_heart_rate(t[ok], v[ok], start, end)
            derived = hr_from_rr(t, v) if source == "rr_interval" else hr_from_ppg(t, v)
            return session_heart_rate(*derived, start, end)

        for start in range(day_start(lo), hi + 1, DAY_MS):  # a block reads only its own day
            bounds = (start, start + DAY_MS)
            stored = {
                int(b): dict(p)
                for b, p in s.execute(
                    select(DayBlock.block_ms, DayBlock.partial).where(
                        DayBlock.subject == patient.id, DayBlock.block_ms >= bounds[0], DayBlock.block_ms < bounds[1]
                    )
                )
            }
            spo2_base = self._spo2_baseline(s, patient.id, start, now_ms)
            blocks, changed, metrics = update_day(
                stored,
                touched,
                read,
                DAY_SERIES,
                bounds,
                zone=(zone[0], zone[1]),
                spo2_baseline=spo2_base,
                resting_hr_baseline=patient.resting_hr,
                session_hr=session_hr,
            )
            block_rows += [
                {"subject": patient.id, "block_ms": b, "partial": blocks[b], "computed_ms": now_ms}
                for b in sorted(changed)
                if b in blocks
            ]
            if not blocks:
                continue
            doc = metrics.to_dict()
            doc["adherence"] = adherence(plan, [metrics]).to_dict()
            day_rows.append({"patient_id": patient.id, "day": day_of(start), "metrics": doc, "computed_ms": now_ms})
        return block_rows, day_rows

    def _spo2_baseline(self, s: Session, patient_id: str, day_start_ms: int, now_ms: int) -> float | None:
        """The patient's usual SpO2 before a day (median of the 14 days' medians), read at most hourly."""
        hit = self._baselines.get((patient_id, day_start_ms))
        if hit is not None and now_ms - hit[0] < TREND_EVERY_MS * 4:
            return hit[1]
        history = stored_days(s, patient_id, before_ms=day_start_ms - DAY_MS, days=14)
        base = _median([d.spo2_median for d in history if d.spo2_median is not None])
        self._baselines[(patient_id, day_start_ms)] = (now_ms, base)
        return base

    def _store_days(
        self, s: Session, patient: PatientRef, blocks: list[dict[str, Any]], rows: list[dict[str, Any]]
    ) -> int:
        """Store the partials and days, then (at most every quarter of an hour) the trend rules over the
        stored days."""
        upsert(s, DayBlock.__table__, blocks, ["subject", "block_ms"])  # type: ignore[arg-type]
        if not rows:
            return 0
        upsert(s, DailyMetrics.__table__, rows, ["patient_id", "day"])  # type: ignore[arg-type]
        now = max(r["computed_ms"] for r in rows)
        if now - self._trends_at.get(patient.id, 0) >= TREND_EVERY_MS:
            self._trends_at[patient.id] = now
            days = stored_days(s, patient.id, before_ms=now, days=14)
            for candidate in (
                resting_hr_rising_alert(days, subject=patient.id),
                hrv_low_alert(days, subject=patient.id),
            ):
                if candidate is not None:
                    _raise(s, patient, candidate)
        publish(
            s, "metrics_updated", {"patient_id": patient.id, "days": [r["day"] for r in rows]}, patient_id=patient.id
        )
        return len(rows)


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[len(ordered) // 2]
