"""Repair-job alert rules: pure functions from a job's replayed state to alert candidates.

Each rule looks at one job (or one shop) at ``now_ms`` and returns what should be alerted,
with a message in plain words and numbers. Raising, de-duplicating (``RepairAlertCandidate.key``)
and resolving alerts is the alert lifecycle's job; the rules only say what holds now.

Kinds: ``stall`` (working time in the current stage, holds excluded, above
``stall_factor`` x expected; a raised stall is cleared only by a stage change or a progress
report, see ``stall_cleared``, after which the stall clock restarts there), ``long_hold``,
``stage_skipped``, ``stage_backwards``, ``missing_photo`` (the job left a required checkpoint
stage and no photo of that stage arrived within a grace period), ``sla_breach`` (predicted
completion after the promised time) and ``shop_offline`` (the shop gateway's last heartbeat is
older than the on-delay). While a shop is offline its jobs' stall alerts are inhibited: the
shop may be working without being able to report it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from monitor.repair.prediction import HOUR_MS, Prediction
from monitor.repair.stages import (
    CHECKPOINT_STAGES,
    EXPECTED_HOURS,
    Severity,
    Stage,
    expected_hours,
)
from monitor.repair.timeline import JobState

AlertKind = Literal[
    "stall",
    "long_hold",
    "stage_skipped",
    "stage_backwards",
    "missing_photo",
    "sla_breach",
    "shop_offline",
]
MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class RepairAlertCandidate:
    """An alert a rule says should be open: ``subject`` is the job id (the shop id for
    ``shop_offline``), ``at_ms`` when the condition arose (epoch ms), ``stage`` the stage it
    concerns, if any."""

    kind: AlertKind
    subject: str
    message: str
    at_ms: int
    stage: Stage | None = None

    @property
    def key(self) -> str:
        """Identity for de-duplication: one open alert per kind, subject and stage."""
        return f"{self.kind}:{self.subject}:{self.stage or '-'}"


@dataclass(frozen=True, slots=True)
class RepairRuleConfig:
    """Thresholds of the repair rules."""

    stall_factor: float = 1.5
    """Stall when working hours in a stage exceed this multiple of the expected hours."""
    long_hold_hours: float = 48.0
    """A hold lasting longer than this many hours is a ``long_hold``."""
    photo_grace_ms: int = 30 * MINUTE_MS
    """Time after leaving a checkpoint stage for its photo to arrive (uploads lag)."""
    shop_offline_after_ms: int = 15 * MINUTE_MS
    """On-delay: a shop is offline when its last heartbeat is older than this."""
    inhibited_when_offline: frozenset[str] = frozenset({"stall"})
    """Alert kinds suppressed for the jobs of an offline shop."""


DEFAULT_RULES = RepairRuleConfig()


def _hours(ms: float) -> str:
    return f"{ms / HOUR_MS:.1f} h"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_stall(
    job_id: str,
    state: JobState,
    *,
    now_ms: int,
    severity: str,
    config: RepairRuleConfig = DEFAULT_RULES,
    table: Mapping[Severity, Mapping[Stage, float]] = EXPECTED_HOURS,
    since_ms: int | None = None,
) -> RepairAlertCandidate | None:
    """``stall`` when working time in the current stage exceeds ``stall_factor`` x expected.

    ``since_ms``: where the stall clock restarts after a stall of this stage was cleared
    (pass the ``last_activity_at_ms`` that cleared it); hold time is never counted. Delivered
    jobs and stages with no expected duration do not stall.
    """
    stage = state.current_stage
    if stage is None or stage is Stage.DELIVERED or state.stage_entered_at_ms is None:
        return None
    expected = expected_hours(stage, severity, table)
    if expected <= 0:
        return None
    active = state.active_ms_in_stage(now_ms, since_ms)
    limit_ms = config.stall_factor * expected * HOUR_MS
    if active <= limit_ms:
        return None
    start = state.stage_entered_at_ms if since_ms is None else max(state.stage_entered_at_ms, since_ms)
    return RepairAlertCandidate(
        kind="stall",
        subject=job_id,
        message=(
            f"{stage} has taken {_hours(active)} of work (holds excluded), more than "
            f"{config.stall_factor:g} x the expected {expected:g} h = {_hours(limit_ms)}"
        ),
        at_ms=_crossing_ms(start, limit_ms, state.holds_in_stage, now_ms),
        stage=stage,
    )


def _crossing_ms(start_ms: int, work_ms: float, holds: Iterable[tuple[int, int | None]], now_ms: int) -> int:
    """The moment ``work_ms`` of working time had passed since ``start_ms``, holds skipped."""
    t = float(start_ms)
    remaining = work_ms
    for hold_start, hold_end in sorted(holds):
        end = hold_end if hold_end is not None else now_ms
        if end <= t:
            continue
        begin = max(float(hold_start), t)
        if begin - t >= remaining:
            break
        remaining -= begin - t
        t = end
    return round(t + remaining)


def stall_cleared(alert_at_ms: int, state: JobState) -> bool:
    """True when a stall raised at ``alert_at_ms`` is cleared: a stage change or a progress
    report came after it (a resume or a heartbeat does not clear it)."""
    return state.last_activity_at_ms is not None and state.last_activity_at_ms > alert_at_ms


def check_long_hold(
    job_id: str, state: JobState, *, now_ms: int, config: RepairRuleConfig = DEFAULT_RULES
) -> RepairAlertCandidate | None:
    """``long_hold`` when the current hold has lasted longer than ``long_hold_hours``."""
    if not state.on_hold or state.hold_started_at_ms is None:
        return None
    held = state.hold_ms(now_ms)
    limit_ms = config.long_hold_hours * HOUR_MS
    if held <= limit_ms:
        return None
    reason = state.hold_reason or "no reason given"
    return RepairAlertCandidate(
        kind="long_hold",
        subject=job_id,
        message=(f"on hold for {_hours(held)} ({reason}), longer than {config.long_hold_hours:g} h"),
        at_ms=state.hold_started_at_ms + round(limit_ms),
        stage=state.current_stage,
    )


def sequence_alerts(job_id: str, state: JobState) -> list[RepairAlertCandidate]:
    """One ``stage_skipped`` / ``stage_backwards`` candidate per violation in the replay."""
    return [
        RepairAlertCandidate(kind=v.kind, subject=job_id, message=v.message, at_ms=v.at_ms, stage=v.to_stage)
        for v in state.violations
    ]


def check_missing_photos(
    job_id: str,
    state: JobState,
    photo_stages: Collection[str],
    *,
    now_ms: int,
    config: RepairRuleConfig = DEFAULT_RULES,
) -> list[RepairAlertCandidate]:
    """``missing_photo`` for each required checkpoint stage the job has left (at least
    ``photo_grace_ms`` ago) without any photo of that stage in ``photo_stages``."""
    have = {str(s) for s in photo_stages}
    required = set(state.required_stages) & CHECKPOINT_STAGES
    alerts: dict[Stage, RepairAlertCandidate] = {}
    for visit in state.visits:
        if (
            visit.stage not in required
            or visit.stage in have
            or visit.stage in alerts
            or visit.left_at_ms is None
            or now_ms - visit.left_at_ms < config.photo_grace_ms
        ):
            continue
        alerts[visit.stage] = RepairAlertCandidate(
            kind="missing_photo",
            subject=job_id,
            message=(
                f"left checkpoint stage {visit.stage} at {_iso(visit.left_at_ms)} with no "
                f"photo of it after {(now_ms - visit.left_at_ms) / MINUTE_MS:.0f} min "
                f"(grace {config.photo_grace_ms / MINUTE_MS:g} min)"
            ),
            at_ms=visit.left_at_ms + config.photo_grace_ms,
            stage=visit.stage,
        )
    return list(alerts.values())


def check_sla(
    job_id: str, prediction: Prediction, *, promised_at_ms: int | None, now_ms: int
) -> RepairAlertCandidate | None:
    """``sla_breach`` when the predicted completion is after the promised time."""
    if promised_at_ms is None or prediction.completion_at_ms <= promised_at_ms:
        return None
    late = prediction.completion_at_ms - promised_at_ms
    return RepairAlertCandidate(
        kind="sla_breach",
        subject=job_id,
        message=(
            f"predicted completion {_iso(prediction.completion_at_ms)} is {_hours(late)} "
            f"after the promised {_iso(promised_at_ms)} ({prediction.remaining_hours:.1f} h "
            f"of work left at shop pace x{prediction.history_factor:.2f})"
        ),
        at_ms=now_ms,
    )


def check_shop_offline(
    shop_id: str,
    last_heartbeat_ms: int | None,
    *,
    now_ms: int,
    config: RepairRuleConfig = DEFAULT_RULES,
) -> RepairAlertCandidate | None:
    """``shop_offline`` when the shop's last heartbeat is older than the on-delay.

    A shop never heard from (``None``) is not alerted: it has not been installed yet.
    """
    if last_heartbeat_ms is None:
        return None
    silent = now_ms - last_heartbeat_ms
    if silent <= config.shop_offline_after_ms:
        return None
    return RepairAlertCandidate(
        kind="shop_offline",
        subject=shop_id,
        message=(
            f"no heartbeat for {silent / MINUTE_MS:.0f} min (last {_iso(last_heartbeat_ms)}), "
            f"offline after {config.shop_offline_after_ms / MINUTE_MS:g} min"
        ),
        at_ms=last_heartbeat_ms + config.shop_offline_after_ms,
    )


def is_inhibited(kind: str, shop_offline: bool, config: RepairRuleConfig = DEFAULT_RULES) -> bool:
    """True when an alert of ``kind`` for a job of a shop that is offline must not be raised."""
    return shop_offline and kind in config.inhibited_when_offline


def drop_inhibited(
    candidates: Iterable[RepairAlertCandidate],
    job_shop: Mapping[str, str],
    offline_shops: Collection[str],
    config: RepairRuleConfig = DEFAULT_RULES,
) -> list[RepairAlertCandidate]:
    """``candidates`` without the job alerts inhibited because the job's shop is offline."""
    return [
        c
        for c in candidates
        if c.kind == "shop_offline" or not is_inhibited(c.kind, job_shop.get(c.subject) in offline_shops, config)
    ]


def evaluate_job(
    job_id: str,
    state: JobState,
    *,
    now_ms: int,
    severity: str,
    prediction: Prediction | None = None,
    promised_at_ms: int | None = None,
    photo_stages: Collection[str] = (),
    shop_offline: bool = False,
    stall_since_ms: int | None = None,
    config: RepairRuleConfig = DEFAULT_RULES,
    table: Mapping[Severity, Mapping[Stage, float]] = EXPECTED_HOURS,
) -> list[RepairAlertCandidate]:
    """All job rules at once, inhibited kinds dropped when the shop is offline."""
    found: list[RepairAlertCandidate | None] = [
        check_stall(
            job_id, state, now_ms=now_ms, severity=severity, config=config, table=table, since_ms=stall_since_ms
        ),
        check_long_hold(job_id, state, now_ms=now_ms, config=config),
    ]
    if prediction is not None:
        found.append(check_sla(job_id, prediction, promised_at_ms=promised_at_ms, now_ms=now_ms))
    candidates = [c for c in found if c is not None]
    candidates += sequence_alerts(job_id, state)
    candidates += check_missing_photos(job_id, state, photo_stages, now_ms=now_ms, config=config)
    return [c for c in candidates if not is_inhibited(c.kind, shop_offline, config)]
