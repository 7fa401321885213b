"""The one alert lifecycle both halves share: open -> acknowledged -> resolved, or shelved until a time.

At most one active (not resolved) alert exists per ``(kind, subject)``: raising again while one is
active updates it (``occurrences`` + 1, newest message) instead of opening another, so a noisy signal
does not flood the manager. Conditions that can clear (a stall, a shop offline) are resolved by
`clear` only once they have stayed clear for ``clear_after_ms`` (hysteresis); the on-delay of each
condition lives in the rule that detects it (e.g. SpO2 below 90 % for 10 s). A shelved alert stays
silent until its expiry, then returns to open if the condition is raised again.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from prometheus_client import Counter
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.state.events import publish
from store.state.schema import Alert

log = logging.getLogger(__name__)

RAISED = Counter("aftercare_monitor_alerts_raised_total", "alerts opened by this process, by kind", ["kind"])
_OPENED = "aftercare_alerts_opened"  # session.info key: kinds opened in the session's open transaction


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SHELVED = "shelved"
    RESOLVED = "resolved"


ACTIVE = (AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value, AlertState.SHELVED.value)


@dataclass(frozen=True)
class AlertInput:
    kind: str
    subject: str
    subject_type: str  # patient | job | shop | case
    severity: str  # info | warning | critical
    message: str
    at_ms: int
    value: float | None = None
    patient_id: str | None = None
    shop_id: str | None = None
    job_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class LifecycleError(ValueError):
    """A transition the alert's state does not allow (the API answers 409)."""


def active_alert(session: Session, kind: str, subject: str) -> Alert | None:
    return session.execute(
        select(Alert).where(Alert.kind == kind, Alert.subject == subject, Alert.state.in_(ACTIVE)).limit(1)
    ).scalar_one_or_none()


def raise_alert(session: Session, item: AlertInput) -> tuple[Alert, bool]:
    """Open an alert or update the active one; returns (alert, newly opened).

    Two workers may race to open the same alert (a partition changing hands); the partial unique index
    `uq_alerts_one_active` lets one insert win, and the loser updates the winner's alert instead."""
    current = active_alert(session, item.kind, item.subject)
    if current is not None:
        return _recur(session, current, item), False
    alert = Alert(
        id="A-" + uuid.uuid4().hex[:12],
        kind=item.kind,
        subject=item.subject,
        subject_type=item.subject_type,
        severity=item.severity,
        state=AlertState.OPEN.value,
        message=item.message,
        value=item.value,
        patient_id=item.patient_id,
        shop_id=item.shop_id,
        job_id=item.job_id,
        details=item.details,
        occurrences=1,
        opened_ms=item.at_ms,
        updated_ms=item.at_ms,
        acked_by=None,
        resolved_ms=None,
        shelved_until_ms=None,
        shelve_reason=None,
    )
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        current = active_alert(session, item.kind, item.subject)
        if current is None:
            raise
        return _recur(session, current, item), False
    _announce(session, alert, "alert")
    _count_when_committed(session, alert.kind)
    log.info("alert %s opened: %s %s: %s", alert.id, alert.kind, alert.subject, alert.message[:200])
    return alert, True


def _count_when_committed(session: Session, kind: str) -> None:
    """Count the opened alert in `RAISED` once its transaction commits (not if it rolls back)."""
    opened: list[str] = session.info.setdefault(_OPENED, [])
    if not opened:
        event.listen(session, "after_commit", _count_opened, once=True)
        event.listen(session, "after_rollback", _forget_opened, once=True)
    opened.append(kind)


def _count_opened(session: Session) -> None:
    for kind in session.info.pop(_OPENED, []):
        RAISED.labels(kind).inc()


def _forget_opened(session: Session) -> None:
    session.info.pop(_OPENED, None)


def _recur(session: Session, current: Alert, item: AlertInput) -> Alert:
    """The condition of an active alert happened again: count it, keep the newest message."""
    current.occurrences += 1
    current.updated_ms = max(current.updated_ms, item.at_ms)
    current.message = item.message
    current.value = item.value
    if item.details:
        current.details = {**(current.details or {}), **item.details}
    if (
        current.state == AlertState.SHELVED
        and current.shelved_until_ms is not None
        and current.shelved_until_ms <= item.at_ms
    ):
        current.state = AlertState.OPEN.value
        current.shelved_until_ms = None
        _announce(session, current, "alert_reopened")
    return current


def clear(
    session: Session,
    kind: str,
    subject: str,
    *,
    now_ms: int,
    clear_after_ms: int = 0,
    clear_since_ms: int | None = None,
    note: str = "condition cleared",
) -> Alert | None:
    """Resolve the active alert once its condition has stayed clear long enough (hysteresis)."""
    current = active_alert(session, kind, subject)
    if current is None:
        return None
    if clear_since_ms is not None and now_ms - clear_since_ms < clear_after_ms:
        return None
    current.state = AlertState.RESOLVED.value
    current.resolved_ms = now_ms
    current.updated_ms = now_ms
    current.details = {**(current.details or {}), "resolution": note}
    _announce(session, current, "alert_resolved")
    return current


def acknowledge(session: Session, alert: Alert, *, by: str, now_ms: int) -> Alert:
    if alert.state == AlertState.RESOLVED:
        raise LifecycleError(f"alert {alert.id} is resolved; it cannot be acknowledged")
    alert.state = AlertState.ACKNOWLEDGED.value
    alert.acked_by = by
    alert.updated_ms = now_ms
    _announce(session, alert, "alert_acknowledged")
    return alert


def resolve(session: Session, alert: Alert, *, by: str, now_ms: int, note: str | None = None) -> Alert:
    if alert.state == AlertState.RESOLVED:
        raise LifecycleError(f"alert {alert.id} is already resolved")
    alert.state = AlertState.RESOLVED.value
    alert.resolved_ms = now_ms
    alert.updated_ms = now_ms
    alert.details = {**(alert.details or {}), "resolved_by": by, **({"note": note} if note else {})}
    _announce(session, alert, "alert_resolved")
    return alert


def shelve(session: Session, alert: Alert, *, by: str, now_ms: int, reason: str, until_ms: int) -> Alert:
    if alert.state == AlertState.RESOLVED:
        raise LifecycleError(f"alert {alert.id} is resolved; it cannot be shelved")
    if until_ms <= now_ms:
        raise LifecycleError("a shelve needs an expiry in the future")
    alert.state = AlertState.SHELVED.value
    alert.shelve_reason = reason
    alert.shelved_until_ms = until_ms
    alert.acked_by = by
    alert.updated_ms = now_ms
    _announce(session, alert, "alert_shelved")
    return alert


def unshelve_expired(session: Session, now_ms: int) -> int:
    """Shelved alerts whose expiry passed return to open."""
    rows = (
        session.execute(select(Alert).where(Alert.state == AlertState.SHELVED.value, Alert.shelved_until_ms <= now_ms))
        .scalars()
        .all()
    )
    for alert in rows:
        alert.state = AlertState.OPEN.value
        alert.shelved_until_ms = None
        alert.updated_ms = now_ms
        _announce(session, alert, "alert_reopened")
    return len(rows)


def alert_dict(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": alert.id,
        "kind": alert.kind,
        "subject": alert.subject,
        "subject_type": alert.subject_type,
        "severity": alert.severity,
        "state": alert.state,
        "message": alert.message,
        "value": alert.value,
        "opened_ms": alert.opened_ms,
        "occurrences": alert.occurrences,
    }


def _announce(session: Session, alert: Alert, kind: str) -> None:
    publish(session, kind, alert_dict(alert), patient_id=alert.patient_id, shop_id=alert.shop_id, job_id=alert.job_id)
