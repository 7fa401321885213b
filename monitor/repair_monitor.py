"""The repair monitor: follows every job through its beacons and checks every photo.

Driven by the monitor worker (`monitor.worker`) for the jobs of the partitions it holds: a job whose
beacons or photos arrived is replayed and checked at once (step 3 for that job alone); every
``recheck_s`` the undelivered jobs are checked again for the rules that time alone can trigger (stall,
long hold, SLA), and the worker holding partition 0 checks new photos, shops' heartbeats and scores.
A job with nothing new is not re-read each round. What a check does:
1. Photos not yet checked: quality (blur, exposure, size, not an image), perceptual-hash reuse
   against every earlier photo (and its mirror), EXIF time and place against the beacon time and
   the shop's location; flags stored on the photo, alerts raised, and checkpoints sampled for an
   inspector (risk-weighted, seeded, auditable).
2. Shops: a missed heartbeat beyond the on-delay raises ``shop_offline`` and inhibits the stall
   alerts of that shop's jobs; a heartbeat clears it.
3. Jobs: the beacons are replayed into the job's state (stage, progress, holds, timeline),
   completion is predicted from expected durations scaled by the shop's own history, and the rules
   raise sequence, stall, long-hold, missing-photo and SLA alerts (each condition once). Stage
   changes are announced on the live feed; delivery issues the warranty; a car that cannot be
   driven or a long repair records the courtesy-car entitlement and a task for claims staff.
4. Every few minutes the shops' scores are recomputed and kept.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import alerts
from monitor.alerts import AlertInput
from monitor.photos.exif import haversine_km
from monitor.photos.phash import DEFAULT_MAX_DISTANCE, HashIndex
from monitor.photos.quality import PhotoCheck, check_photo
from monitor.repair.courtesy import courtesy_entitlement
from monitor.repair.prediction import history_factor, predict_completion, samples_from_visits
from monitor.repair.rules import RepairAlertCandidate, check_shop_offline, evaluate_job, stall_cleared
from monitor.repair.spot_check import should_sample
from monitor.repair.stages import checkpoint_stages
from monitor.repair.timeline import BeaconEvent, JobState, replay
from monitor.repair.warranty import term_months, warranty
from monitor.shop_scores import NEUTRAL_SCORE, FeedbackMean, current_score, record_scores
from monitor.worker import Sessions
from store.state import inbox
from store.state.alert_kinds import SEVERITY_OF_KIND, severity_of
from store.state.events import publish
from store.state.inbox import Arrival
from store.state.partitions import PARTITIONS, partition_of
from store.state.schema import Alert, PhotoRow, RepairEvent, RepairJob, Shop
from store.state.schema_cases import Case, CasePlan
from store.state.schema_repair import SpotCheck
from store.stores import Stores

log = logging.getLogger(__name__)

_U64 = 1 << 64


def to_signed(h: int) -> int:
    """A 64-bit hash as the signed BIGINT both SQLite and PostgreSQL can store."""
    return h - _U64 if h >= 1 << 63 else h


def to_unsigned(h: int) -> int:
    return h + _U64 if h < 0 else h


class RepairMonitor:
    """`monitor.worker.SubjectMonitor` of repair jobs (see module docstring)."""

    name = "repair"
    subject_type = "job"

    def __init__(
        self,
        stores: Stores,
        *,
        spot_base_rate: float = 0.1,
        spot_seed: str = "aftercare",
        reuse_distance: int = DEFAULT_MAX_DISTANCE,
        exif_max_km: float = 2.0,
        exif_max_skew_h: float = 12.0,
        score_every_s: float = 300.0,
        feedback: FeedbackMean | None = None,
        max_photo_bytes: int = 8 * 1024 * 1024,
        recheck_s: float = 60.0,
    ) -> None:
        self.stores = stores
        self.state = stores.state
        self.spot_base_rate = spot_base_rate
        self.spot_seed = spot_seed
        self.reuse_distance = reuse_distance
        self.exif_max_km = exif_max_km
        self.exif_max_skew_ms = int(exif_max_skew_h * 3_600_000)
        self.score_every_ms = int(score_every_s * 1000)
        self.feedback = feedback
        self.max_photo_bytes = max_photo_bytes
        self._index: HashIndex | None = None
        self._photo_meta: dict[str, tuple[str, str]] = {}  # photo id -> (job id, stage)
        self._delivered_samples: dict[str, list[Any]] = {}
        self._scored_at = 0
        self.recheck_ms = int(recheck_s * 1000)
        self._rechecked_at = 0
        self._factors: dict[str, float] | None = None  # shop -> history factor, from the last full check
        self._offline: set[str] | None = None  # shops offline at the last tick

    # -- driven by the worker --------------------------------------------------------------------
    def prepare(self, read: Session, subject: str, arrivals: Sequence[Arrival], now_ms: int) -> None:
        """Nothing to compute apart: a job's replay and checks are quick (see `apply`)."""

    def apply(self, write: Session, subject: str, prepared: object, now_ms: int) -> int:
        if self._factors is None or self._offline is None:
            self._factors, self._offline = {}, self._offline_shops(write, now_ms)
        return self._jobs(write, now_ms, self._offline, only={subject}, factors=self._factors)

    def on_tick(self, session: Session, partitions: frozenset[int], now_ms: int, *, coordinator: bool) -> int:
        handled = 0
        if coordinator:
            self._offline = self._shops(session, now_ms)
            alerts.unshelve_expired(session, now_ms)
            if now_ms - self._scored_at >= self.score_every_ms:
                kwargs = {"feedback": self.feedback} if self.feedback else {}
                record_scores(session, now_ms, **kwargs)
                self._scored_at = now_ms
        else:
            self._offline = self._offline_shops(session, now_ms)
        if now_ms - self._rechecked_at >= self.recheck_ms:
            handled += self._jobs(session, now_ms, self._offline, partitions=partitions)
            self._rechecked_at = now_ms
        return handled

    def background(self, sessions: Sessions, partitions: frozenset[int], now_ms: int, budget_s: float) -> int:
        """New photos' checks, by the coordinator (the reuse index holds every shop's photos)."""
        return self.check_photos(now_ms, sessions, budget_s=budget_s) if 0 in partitions else 0

    def forget(self, partitions: frozenset[int]) -> None:
        self._rechecked_at = 0  # check the jobs of the partitions gained on the next tick

    def flush(self, write: Session) -> None:
        """Nothing deferred: a job's bookkeeping is written by `apply` itself."""

    def rolled_back(self) -> None:
        """Nothing cached depends on a write: the jobs' bookkeeping is read again from their rows."""

    def run_once(self, now_ms: int) -> int:
        """Everything at once, for every job, in this process (tests and tools; the worker is the service)."""
        everything = frozenset(range(PARTITIONS))
        with self.state.session() as s:
            while arrivals := inbox.claim(s, everything, subject_type=self.subject_type):
                inbox.done(s, arrivals)  # the full check below covers every job
        handled = self.check_photos(now_ms, Sessions(read=self.state.session, write=self.state.session))
        with self.state.session() as s:
            offline = self._shops(s, now_ms)
            handled += self._jobs(s, now_ms, offline)
            alerts.unshelve_expired(s, now_ms)
            if now_ms - self._scored_at >= self.score_every_ms:
                kwargs = {"feedback": self.feedback} if self.feedback else {}
                record_scores(s, now_ms, **kwargs)
                self._scored_at = now_ms
        return handled

    # -- photos -----------------------------------------------------------------------------
    def _hash_index(self, read: Session) -> HashIndex:
        if self._index is None:
            index = HashIndex()
            for pid, job_id, stage, h in read.execute(
                select(PhotoRow.id, PhotoRow.job_id, PhotoRow.stage, PhotoRow.phash)
                .where(PhotoRow.phash.is_not(None))
                .order_by(PhotoRow.received_ms)
            ):
                index.add(pid, to_unsigned(int(h or 0)))
                self._photo_meta[pid] = (job_id, stage)
            self._index = index
        return self._index

    def check_photos(self, now_ms: int, sessions: Sessions, *, limit: int = 200, budget_s: float = float("inf")) -> int:
        """Check the photos not checked yet, oldest first, for about ``budget_s``: the image analysis outside
        any write transaction, then each photo's outcome in a short one."""
        started = time.perf_counter()
        with sessions.read() as r:
            index = self._hash_index(r)
            todo = r.execute(
                select(PhotoRow.id, PhotoRow.path)
                .where(PhotoRow.checked.is_(False))
                .order_by(PhotoRow.received_ms, PhotoRow.taken_ms)
                .limit(limit)
            ).all()
        done = 0
        for photo_id, path in todo:
            if time.perf_counter() - started >= budget_s:
                break
            try:
                check: PhotoCheck | OSError = check_photo(self.stores.photos.read(path), max_bytes=self.max_photo_bytes)
            except OSError as exc:
                check = exc
            with sessions.write() as s:
                row = s.get(PhotoRow, photo_id)
                if row is None or row.checked:
                    continue
                h = self._check_one(s, row, check, index, now_ms)
            if h is not None:
                # at once, so later photos are compared with it; should its transaction have failed, the
                # photo is checked again and its own hash is skipped (match.photo_id == row.id)
                index.add(photo_id, h)
                self._photo_meta[photo_id] = (row.job_id, row.stage)
            done += 1
        return done

    def _check_one(
        self, s: Session, row: PhotoRow, check: PhotoCheck | OSError, index: HashIndex, now_ms: int
    ) -> int | None:
        if isinstance(check, OSError):
            row.checked, row.flags, row.checks = True, ["missing_file"], {"reasons": [f"file unreadable: {check}"]}
            return None
        flags = list(check.flags)
        reasons = list(check.reasons)
        job = s.get(RepairJob, row.job_id)
        shop = s.get(Shop, row.shop_id)
        if job is None:
            row.checked, row.flags = True, flags
            return None
        found: list[tuple[str, str, str]] = (
            [("photo_quality", ", ".join(reasons), severity_of("photo_quality"))] if flags else []
        )
        reuse = []
        if check.phash is not None and check.phash_mirror is not None:
            for match in index.find_reuse(check.phash, check.phash_mirror, self.reuse_distance):
                other_job, other_stage = self._photo_meta.get(match.photo_id, ("?", "?"))
                same_place = other_job == row.job_id and other_stage == row.stage
                if match.photo_id == row.id or same_place:
                    continue
                other = s.get(RepairJob, other_job)
                reuse.append(
                    {
                        "photo_id": match.photo_id,
                        "job_id": other_job,
                        "stage": other_stage,
                        "shop_id": other.shop_id if other is not None else None,
                        "distance": match.distance,
                        "mirrored": match.mirrored,
                    }
                )
        if reuse:
            flags.append("reused")
            first = reuse[0]
            # the message names this photo only: the shop reads it, and the earlier photo may be another
            # shop's (both sides are in the details, which a shop is served redacted: monitor.photos.reuse_sides)
            whose = "this shop" if first["shop_id"] == row.shop_id else "another shop"
            text = (
                f"photo {row.id} ({row.job_id} {row.stage}) nearly duplicates an earlier photo of {whose}, "
                f"{first['distance']} bits apart" + (" as a mirror image" if first["mirrored"] else "")
            )
            reasons.append(text)
            found.append(("photo_reuse", text, severity_of("photo_reuse")))
        if check.exif_lat is not None and check.exif_lon is not None and shop is not None:
            km = haversine_km(check.exif_lat, check.exif_lon, shop.lat, shop.lon)
            if km > self.exif_max_km:
                flags.append("exif_far")
                text = f"photo {row.id} was taken {km:.1f} km from shop {shop.id} (EXIF GPS)"
                reasons.append(text)
                found.append(("photo_location", text, severity_of("photo_location")))
        if check.exif_taken_at_ms is not None:
            skew = abs(check.exif_taken_at_ms - row.taken_ms)
            entered = self._stage_entry(s, row.job_id, row.stage)
            early = entered is not None and check.exif_taken_at_ms < entered - self.exif_max_skew_ms
            if skew > self.exif_max_skew_ms or early:
                flags.append("exif_time")
                text = f"photo {row.id} EXIF time is {skew / 3_600_000:.1f} h from the time reported" + (
                    f", before the job entered {row.stage}" if early else ""
                )
                reasons.append(text)
                found.append(("photo_time", text, severity_of("photo_time")))
        for kind, message, severity in found:
            alerts.raise_alert(
                s,
                AlertInput(
                    kind=kind,
                    subject=row.job_id,
                    subject_type="job",
                    severity=severity,
                    message=message,
                    at_ms=now_ms,
                    job_id=row.job_id,
                    shop_id=row.shop_id,
                    details={"photo_id": row.id, "stage": row.stage, "reuse": reuse},
                ),
            )
        row.flags = flags
        row.checks = {
            "ok": not flags,
            "reasons": reasons,
            "blur_score": check.blur_score,
            "brightness": check.brightness,
            "clipped_fraction": check.clipped_fraction,
            "width": check.width,
            "height": check.height,
            "exif_taken_at_ms": check.exif_taken_at_ms,
            "exif_lat": check.exif_lat,
            "exif_lon": check.exif_lon,
            "reuse": reuse,
        }
        row.checked = True
        self._sample(s, row, bool(flags), now_ms)
        if check.phash is None:
            return None
        row.phash, row.phash_mirror = to_signed(check.phash), to_signed(check.phash_mirror or 0)
        return check.phash

    @staticmethod
    def _stage_entry(s: Session, job_id: str, stage: str) -> int | None:
        return s.execute(
            select(RepairEvent.at_ms)
            .where(RepairEvent.job_id == job_id, RepairEvent.event == "stage", RepairEvent.stage == stage)
            .order_by(RepairEvent.at_ms)
            .limit(1)
        ).scalar_one_or_none()

    def _sample(self, s: Session, row: PhotoRow, flagged: bool, now_ms: int) -> None:
        latest = current_score(s, row.shop_id)
        score = latest.score if latest else NEUTRAL_SCORE
        decision = should_sample(self.spot_seed, row.job_id, row.stage, self.spot_base_rate, score, flagged)
        if not decision.sampled:
            return
        if s.execute(select(SpotCheck.id).where(SpotCheck.photo_id == row.id)).first() is not None:
            return
        s.add(
            SpotCheck(
                id="SC-" + uuid.uuid4().hex[:12],
                job_id=row.job_id,
                shop_id=row.shop_id,
                stage=row.stage,
                photo_id=row.id,
                probability=decision.probability,
                draw=decision.draw,
                flagged=flagged,
                shop_score=score,
                state="pending",
                created_ms=now_ms,
            )
        )
        publish(
            s,
            "spot_check",
            {"job_id": row.job_id, "photo_id": row.id, "stage": row.stage},
            job_id=row.job_id,
            shop_id=row.shop_id,
        )

    # -- shops ------------------------------------------------------------------------------
    @staticmethod
    def _offline_shops(s: Session, now_ms: int) -> set[str]:
        """Shops whose heartbeat is overdue (read only: the coordinator raises and clears their alerts)."""
        return {
            shop_id
            for shop_id, beat in s.execute(select(Shop.id, Shop.last_heartbeat_ms))
            if check_shop_offline(shop_id, beat, now_ms=now_ms) is not None
        }

    def _shops(self, s: Session, now_ms: int) -> set[str]:
        offline = set()
        for shop in s.execute(select(Shop)).scalars():
            candidate = check_shop_offline(shop.id, shop.last_heartbeat_ms, now_ms=now_ms)
            if candidate is None:
                alerts.clear(s, "shop_offline", shop.id, now_ms=now_ms, note="heartbeat received")
                continue
            offline.add(shop.id)
            if alerts.active_alert(s, "shop_offline", shop.id) is not None:
                continue  # one alert per outage, not one per pass
            alerts.raise_alert(
                s,
                AlertInput(
                    kind="shop_offline",
                    subject=shop.id,
                    subject_type="shop",
                    severity=severity_of("shop_offline"),
                    message=candidate.message,
                    at_ms=candidate.at_ms,
                    shop_id=shop.id,
                ),
            )
        return offline

    # -- jobs -------------------------------------------------------------------------------
    def _jobs(
        self,
        s: Session,
        now_ms: int,
        offline: set[str],
        *,
        only: set[str] | None = None,
        partitions: frozenset[int] | None = None,
        factors: dict[str, float] | None = None,
    ) -> int:
        """Replay and check jobs: ``only`` these (with the shop factors of the last full check), or all of
        the ``partitions`` (or every job), which also refreshes the shop factors."""
        query = select(RepairJob)
        event_query = select(RepairEvent).where(RepairEvent.job_id.is_not(None))
        if only is not None:
            query = query.where(RepairJob.id.in_(sorted(only)))
            event_query = event_query.where(RepairEvent.job_id.in_(sorted(only)))
        jobs = list(s.execute(query).scalars())
        events: dict[str, list[BeaconEvent]] = defaultdict(list)
        for e in s.execute(event_query.order_by(RepairEvent.at_ms, RepairEvent.id)).scalars():
            if e.event != "heartbeat" and e.job_id is not None:
                events[e.job_id].append(
                    BeaconEvent(kind=e.event, at_ms=e.at_ms, stage=e.stage, progress=e.progress, reason=e.reason)
                )
        photo_stages: dict[str, set[str]] = defaultdict(set)
        photo_query = select(PhotoRow.job_id, PhotoRow.stage)
        if only is not None:
            photo_query = photo_query.where(PhotoRow.job_id.in_(sorted(only)))
        for job_id, stage in s.execute(photo_query):
            photo_stages[job_id].add(stage)
        states = {j.id: replay(j.required_stages, events.get(j.id, []), severity=j.severity) for j in jobs}
        if factors is None:
            factors = self._factors = self._shop_factors(jobs, states)
        changed = 0
        for job in jobs:
            if partitions is not None and partition_of(job.id) not in partitions:
                continue
            if job.delivered_ms is not None and "warranty" in (job.state or {}):
                continue
            changed += self._job(
                s,
                job,
                states[job.id],
                now_ms,
                factors.get(job.shop_id, 1.0),
                photo_stages.get(job.id, set()),
                job.shop_id in offline,
            )
        return changed

    def _shop_factors(self, jobs: list[RepairJob], states: dict[str, JobState]) -> dict[str, float]:
        samples: dict[str, list[Any]] = defaultdict(list)
        for job in jobs:
            cached = self._delivered_samples.get(job.id)
            if cached is None:
                cached = samples_from_visits(states[job.id].visits, job.severity)
                if states[job.id].delivered_at_ms is not None:
                    self._delivered_samples[job.id] = cached
            samples[job.shop_id].extend(cached)
        return {shop: history_factor(items) for shop, items in samples.items()}

    def _job(
        self,
        s: Session,
        job: RepairJob,
        state: JobState,
        now_ms: int,
        factor: float,
        photos: set[str],
        shop_offline: bool,
    ) -> int:
        before = job.current_stage
        doc = dict(job.state or {})
        stage = state.current_stage.value if state.current_stage is not None else None
        job.current_stage, job.progress = stage, round(state.progress, 4)
        job.on_hold, job.hold_reason = state.on_hold, state.hold_reason
        job.delivered_ms = state.delivered_at_ms
        prediction = predict_completion(state, now_ms=now_ms, severity=job.severity, factor=factor)
        job.predicted_ms = prediction.completion_at_ms
        doc["prediction"] = {
            "remaining_hours": round(prediction.remaining_hours, 1),
            "history_factor": round(prediction.history_factor, 2),
        }
        doc["completed_stages"] = [st.value for st in state.completed_stages]
        if stage != before:
            job.updated_ms = now_ms
            publish(
                s,
                "stage_change",
                {
                    "job_id": job.id,
                    "shop_id": job.shop_id,
                    "stage": stage,
                    "previous": before,
                    "progress": job.progress,
                    "at_ms": state.stage_entered_at_ms,
                },
                job_id=job.id,
                shop_id=job.shop_id,
            )
        book = dict(doc.get("_monitor", {}))  # the monitor's own bookkeeping, not shown by the API
        raised = set(book.get("raised", []))
        stall_since = book.get("stall_since_ms")
        active_stall = alerts.active_alert(s, "stall", job.id)
        if active_stall is not None and stall_cleared(active_stall.opened_ms, state):
            alerts.clear(s, "stall", job.id, now_ms=now_ms, note="the job moved again")
            stall_since = state.last_activity_at_ms
            raised = {k for k in raised if not k.startswith("stall:")}
        if "missing_photo" in {a.kind for a in self._active(s, job.id)}:
            required = set(checkpoint_stages(job.required_stages))
            passed = {st.value for st in state.completed_stages}
            if (required & passed) <= photos:
                alerts.clear(s, "missing_photo", job.id, now_ms=now_ms, note="the photos arrived")
                raised = {k for k in raised if not k.startswith("missing_photo:")}
        candidates = evaluate_job(
            job.id,
            state,
            now_ms=now_ms,
            severity=job.severity,
            prediction=prediction,
            promised_at_ms=job.promised_ms,
            photo_stages=photos,
            shop_offline=shop_offline,
            stall_since_ms=stall_since,
        )
        for c in candidates:
            if c.key in raised:
                continue
            self._raise(s, job, c)
            raised.add(c.key)
        book["raised"] = sorted(raised)
        if stall_since is not None:
            book["stall_since_ms"] = stall_since
        doc["_monitor"] = book
        if "courtesy_car" not in doc and stage not in ("ready", "delivered"):
            ent = courtesy_entitlement(
                drivable=bool(job.vehicle.get("drivable", True)),
                now_ms=now_ms,
                predicted_completion_ms=prediction.completion_at_ms,
            )
            doc["courtesy_car"] = {
                "entitled": ent.entitled,
                "reason": ent.reason,
                "days": ent.days,
                "decided_ms": now_ms,
            }
            if ent.entitled:
                alerts.raise_alert(
                    s,
                    AlertInput(
                        kind="courtesy_car",
                        subject=job.id,
                        subject_type="job",
                        severity=severity_of("courtesy_car"),
                        at_ms=now_ms,
                        message=f"arrange a courtesy car for claim {job.claim_id} for {ent.days} days: {ent.reason}",
                        job_id=job.id,
                        shop_id=job.shop_id,
                    ),
                )
        if state.delivered_at_ms is not None and "warranty" not in doc:
            repair_type = str(doc.get("repair_type", "body"))
            declined = extension_declined(s, job.id)
            w = warranty(repair_type, job.severity, delivered_at_ms=state.delivered_at_ms, extended=not declined)
            doc["warranty"] = {
                **asdict(w),
                "severity": str(w.severity),
                "base_months": term_months(repair_type, job.severity),
                "extension_declined": declined,
            }
            publish(
                s,
                "warranty_issued",
                {"job_id": job.id, "months": w.months, "expires_at_ms": w.expires_at_ms},
                job_id=job.id,
                shop_id=job.shop_id,
            )
        job.state = doc
        return 1 if stage != before else 0

    @staticmethod
    def _active(s: Session, job_id: str) -> list[Alert]:
        return list(s.execute(select(Alert).where(Alert.job_id == job_id, Alert.state.in_(alerts.ACTIVE))).scalars())

    @staticmethod
    def _raise(s: Session, job: RepairJob, c: RepairAlertCandidate) -> None:
        alerts.raise_alert(
            s,
            AlertInput(
                kind=c.kind,
                subject=job.id,
                subject_type="job",
                severity=SEVERITY_OF_KIND.get(c.kind, "warning"),
                message=c.message,
                at_ms=c.at_ms,
                job_id=job.id,
                shop_id=job.shop_id,
                details={"stage": str(c.stage) if c.stage else None},
            ),
        )


def extension_declined(s: Session, job_id: str) -> bool:
    """True when the post-claim case of this job declined the extended warranty in its current plan.

    The claimant or claims staff decline it with ``PATCH /cases/{id}/plan {"extended_warranty": false}``;
    the plan's stored preferences say so. A job without a case gets the extension (1.5 x the base term).
    """
    case_id = s.execute(select(Case.id).where(Case.job_id == job_id).limit(1)).scalar_one_or_none()
    if case_id is None:
        return False
    prefs = s.execute(
        select(CasePlan.preferences).where(CasePlan.case_id == case_id).order_by(CasePlan.version.desc()).limit(1)
    ).scalar_one_or_none()
    pref = (prefs or {}).get("extended_warranty")
    return isinstance(pref, dict) and pref.get("value") is False
