"""The cases monitor: one pass links, progresses and closes cases, and watches the recovery files.

Run by every monitor worker over the cases of its partitions (the claimant feed, one cursor, by the one
holding partition 0) (`name` and `run_once(now_ms)`); each pass:

1. turns new repair and rehab events of linked jobs and patients into claimant notifications
   (`cases.feeds.notify_from_events`), resuming from a cursor kept in ``monitor_cursors``; it
   re-reads a window of `OVERLAP` events behind the cursor, because on PostgreSQL a transaction
   can commit an event with a lower id after a higher one (dedup keys make re-reading harmless);
2. links open cases to the repair job and patient opened for the same claim (when not linked by
   hand) and moves their services forward from the job and patient (a delivered car completes the
   repair; a registered wearable the kit), closing cases whose services are all done;
3. raises the ``subrogation_deadline`` alert when a recovery file nears its limitation deadline and
   sends the claimant a progress notice when the last one is 30 days old.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cases.feeds import notify_from_events
from cases.lifecycle import link, sync_services
from cases.plans import current_plan
from cases.subrogation import ACTIVE_STAGES, check_deadline, progress_reminder
from store.state.engine import StateStore
from store.state.partitions import PARTITIONS, partition_of
from store.state.schema import MonitorCursor, Patient, RepairJob
from store.state.schema_cases import Case, Subrogation

log = logging.getLogger(__name__)

CURSOR: Final = "cases.feeds"
OVERLAP: Final = 200


class CasesMonitor:
    """Cases' progress, recovery deadlines and the claimant feed, one pass at a time."""

    name = "cases"

    def __init__(
        self, state: StateStore, *, warn_days: int = 90, progress_every_days: int = 30, batch: int = 500
    ) -> None:
        self.state = state
        self.warn_days = warn_days
        self.progress_every_days = progress_every_days
        self.batch = batch

    def run_once(self, now_ms: int) -> int:
        """A pass over every case (tests and tools; the monitor workers call `run_partitions`)."""
        return self.run_partitions(now_ms, frozenset(range(PARTITIONS)), coordinator=True)

    def run_partitions(self, now_ms: int, partitions: frozenset[int], *, coordinator: bool) -> int:
        """A pass over the cases of these partitions; the claimant feed (one cursor) on the coordinator."""
        handled = 0
        if coordinator:
            with self.state.session() as session:
                handled += self._feeds(session)
        with self.state.session() as session:
            open_cases = (
                session.execute(select(Case.id).where(Case.state == "open").order_by(Case.opened_ms)).scalars().all()
            )
            files = (
                session.execute(
                    select(Subrogation.case_id)
                    .where(Subrogation.stage.in_(sorted(ACTIVE_STAGES)))
                    .order_by(Subrogation.deadline_ms)
                )
                .scalars()
                .all()
            )
        for case_id in open_cases:
            if partition_of(case_id) in partitions:
                handled += self._each(case_id, now_ms, self._progress)
        for case_id in files:
            if partition_of(case_id) in partitions:
                handled += self._each(case_id, now_ms, self._recovery)
        return handled

    def _each(self, case_id: str, now_ms: int, step: Callable[[Session, Case, int], int]) -> int:
        """One case in its own transaction: a case changed meanwhile by the API is left for the next pass."""
        try:
            with self.state.session() as session:
                case = session.get(Case, case_id)
                return 0 if case is None else step(session, case, now_ms)
        except StaleDataError:
            log.info("case %s changed during the cases pass; it is looked at again on the next one", case_id)
            return 0

    def _feeds(self, session: Session) -> int:
        cursor = session.get(MonitorCursor, CURSOR)
        start = cursor.value_ms if cursor is not None else 0
        last = notify_from_events(session, max(0, start - OVERLAP), limit=self.batch + OVERLAP)
        if cursor is None:
            session.add(MonitorCursor(name=CURSOR, value_ms=max(start, last), data={}))
        elif last > cursor.value_ms:
            cursor.value_ms = last
        return max(0, last - start)

    def _progress(self, session: Session, case: Case, now_ms: int) -> int:
        """Link the case to its claim's job and patient when not linked yet, and move its services forward."""
        if case.state != "open":
            return 0
        moved = 0
        plan = current_plan(session, case.id)
        keys = {i["key"] for i in (plan.items if plan else [])}
        job_id = patient_id = None
        if case.job_id is None and "repair" in keys:
            job_id = session.execute(
                select(RepairJob.id)
                .where(RepairJob.claim_id == case.claim_id)
                .order_by(RepairJob.created_ms.desc())
                .limit(1)
            ).scalar()
            if job_id is not None and session.execute(select(Case.id).where(Case.job_id == job_id)).first():
                job_id = None
        if case.patient_id is None and "rehab" in keys:
            patient_id = session.execute(
                select(Patient.id).where(Patient.claim_id == case.claim_id).order_by(Patient.created_ms.desc()).limit(1)
            ).scalar()
            if patient_id is not None and session.execute(select(Case.id).where(Case.patient_id == patient_id)).first():
                patient_id = None
        if job_id is not None or patient_id is not None:
            link(session, case, job_id=job_id, patient_id=patient_id, by="cases monitor", at_ms=now_ms)
            log.info("case %s linked by claim id: job %s, patient %s", case.id, job_id, patient_id)
            moved += 1
        return moved + sync_services(session, case, now_ms)

    def _recovery(self, session: Session, case: Case, now_ms: int) -> int:
        """The deadline alert and the 30-day progress notice of the case's recovery file."""
        file = session.get(Subrogation, case.id)
        if file is None:
            return 0
        done = 0
        if check_deadline(session, case, file, now_ms, warn_days=self.warn_days):
            done += 1
        if progress_reminder(session, case, file, now_ms, every_days=self.progress_every_days):
            done += 1
        return done
