"""Delivers the outbox to the insurer's messaging gateway as signed webhooks, at least once each.

Each pass (`run_once`, called by every monitor worker) claims the due notifications, POSTs each one
and records the outcome:

- the body is JSON, signed per Standard Webhooks (`cases.webhook_signing`): ``webhook-id`` is the
  notification id (the same on every retry: the gateway drops duplicates on it), ``webhook-timestamp``
  the time of this attempt, ``webhook-signature`` one ``v1,...`` entry per secret of
  AFTERCARE_WEBHOOK_SECRETS (several during a rotation);
- a 2xx answer marks the notification delivered; anything else (an error status, a refused
  connection, a timeout) schedules a retry with capped exponential backoff and jitter in
  ``next_attempt_ms``, until the notification is `max_age_ms` old (AFTERCARE_WEBHOOK_MAX_AGE_S,
  24 h by default): the last try is made at that age, and when it fails too the notification is
  ``failed`` (counted in ``aftercare_outbox_failed_total``, a ``case_notification_failed`` live
  event, shown by ``GET /cases/{id}/notifications``) and never sent again;
- claiming moves ``next_attempt_ms`` a lease ahead before the POST and commits, so a worker killed
  between the POST and recording the answer leaves the notification to be sent again when the
  lease runs out (hence "at least once"), and two workers never send the same row at once;
- a case's notifications go out in the order they were written: only the oldest pending one of
  each case is due, so "car ready" never overtakes "plan ready" while the gateway is failing (a
  failed one no longer holds the line).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import httpx
from prometheus_client import Counter
from sqlalchemy import and_, select, update
from sqlalchemy.orm import aliased

from cases.outbox import DELIVERED, FAILED, PENDING, webhook_body
from cases.webhook_signing import parse_secrets, sign_headers
from store.state.engine import StateStore
from store.state.events import publish
from store.state.schema_cases import CaseNotification

log = logging.getLogger(__name__)

DELIVERIES = Counter("aftercare_outbox_deliveries_total", "webhook delivery attempts by result", ["result"])
FAILED_NOTIFICATIONS = Counter(
    "aftercare_outbox_failed_total", "notifications given up after AFTERCARE_WEBHOOK_MAX_AGE_S (state failed)"
)

ATTEMPT_HEADER: Final = "X-Aftercare-Attempt"
DEFAULT_MAX_AGE_MS: Final = 24 * 3600 * 1000


def backoff_ms(attempts: int, *, base_ms: int, max_ms: int, rng: random.Random | None = None) -> int:
    """Delay before the next try after `attempts` failed ones: base * 2^(attempts-1), capped, minus up to 20 %."""
    delay = min(max_ms, base_ms * 2 ** max(0, min(attempts - 1, 30)))
    jitter = (rng or random).uniform(0.8, 1.0)
    return max(1, int(delay * jitter))


@dataclass(frozen=True, slots=True)
class _Claimed:
    seq: int
    id: str
    case_id: str
    kind: str
    attempts: int
    created_ms: int
    body: bytes


class OutboxWorker:
    """The outbox delivery worker; every monitor worker runs it (it has `name` and `run_once`)."""

    name = "outbox"

    def __init__(
        self,
        state: StateStore,
        *,
        url: str | None,
        secrets: str | None,
        max_age_ms: int = DEFAULT_MAX_AGE_MS,
        timeout_s: float = 10.0,
        batch: int = 100,
        lease_ms: int = 60_000,
        backoff_base_ms: int = 2_000,
        backoff_max_ms: int = 10 * 60_000,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.url = url
        self.keys = parse_secrets(secrets)
        self.max_age_ms = max_age_ms
        self.clock = clock
        self.batch = batch
        self.lease_ms = lease_ms
        self.backoff_base_ms = backoff_base_ms
        self.backoff_max_ms = backoff_max_ms
        self._client = client or httpx.Client(
            timeout=timeout_s, follow_redirects=False, headers={"User-Agent": "aftercare-outbox/1"}
        )
        self._warned = False

    def close(self) -> None:
        self._client.close()

    def run_partitions(self, now_ms: int, partitions: frozenset[int], *, coordinator: bool) -> int:
        """As `run_once`, on every monitor worker: each claims its own notifications, whatever it holds."""
        return self.run_once(now_ms)

    def run_once(self, now_ms: int) -> int:
        """Deliver what is due at `now_ms`; returns the number of notifications delivered."""
        if not self.url or not self.keys:
            if not self._warned:
                log.warning(
                    "notifications stay queued: AFTERCARE_WEBHOOK_URL and AFTERCARE_WEBHOOK_SECRETS "
                    "must both be set to deliver them"
                )
                self._warned = True
            return 0
        delivered = 0
        tried = 0
        while tried < self.batch:
            claimed = self._claim(now_ms, self.batch - tried)
            if not claimed:
                break
            progressed = False
            for item in claimed:
                tried += 1
                outcome = self._deliver(item, now_ms)
                if outcome == DELIVERED:
                    delivered += 1
                progressed = progressed or outcome != PENDING  # the case's next notification is due now
            if not progressed:
                break
        return delivered

    def _claim(self, now_ms: int, limit: int) -> list[_Claimed]:
        """Take the due heads of line (oldest pending of each case), leasing them to this worker."""
        earlier = aliased(CaseNotification)
        blocked = (
            select(earlier.seq)
            .where(
                earlier.case_id == CaseNotification.case_id,
                earlier.state == PENDING,
                earlier.seq < CaseNotification.seq,
            )
            .exists()
        )
        claimed: list[_Claimed] = []
        with self.state.session() as session:
            rows = (
                session.execute(
                    select(CaseNotification)
                    .where(CaseNotification.state == PENDING, CaseNotification.next_attempt_ms <= now_ms, ~blocked)
                    .order_by(CaseNotification.next_attempt_ms, CaseNotification.seq)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
            for row in rows:
                taken = session.execute(
                    update(CaseNotification)
                    .where(
                        and_(
                            CaseNotification.seq == row.seq,
                            CaseNotification.state == PENDING,
                            CaseNotification.next_attempt_ms == row.next_attempt_ms,
                        )
                    )
                    .values(next_attempt_ms=now_ms + self.lease_ms, attempts=CaseNotification.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(
                        _Claimed(
                            seq=row.seq,
                            id=row.id,
                            case_id=row.case_id,
                            kind=row.kind,
                            attempts=row.attempts + 1,
                            created_ms=row.created_ms,
                            body=webhook_body(row),
                        )
                    )
        return claimed

    def _deliver(self, item: _Claimed, now_ms: int) -> str:
        """POST one notification and record the outcome: its new state (delivered, pending or failed)."""
        assert self.url is not None
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            **sign_headers(self.keys, item.id, int(self.clock()), item.body),
            ATTEMPT_HEADER: str(item.attempts),
        }
        status: int | None = None
        error: str | None = None
        try:
            response = self._client.post(self.url, content=item.body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"gateway answered {status}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
        deadline = item.created_ms + self.max_age_ms
        outcome = DELIVERED if error is None else FAILED if now_ms >= deadline else PENDING
        with self.state.session() as session:
            values: dict[str, object]
            if outcome == DELIVERED:
                values = {"state": DELIVERED, "delivered_ms": now_ms, "last_status": status, "last_error": None}
            elif outcome == FAILED:
                values = {"state": FAILED, "last_status": status, "last_error": error}
            else:
                backoff = backoff_ms(item.attempts, base_ms=self.backoff_base_ms, max_ms=self.backoff_max_ms)
                retry = max(now_ms + 1, min(now_ms + backoff, deadline))  # the last try at the deadline
                values = {"next_attempt_ms": retry, "last_status": status, "last_error": error}
            changed = session.execute(
                update(CaseNotification)
                .where(CaseNotification.seq == item.seq, CaseNotification.state == PENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if outcome == FAILED and changed.rowcount == 1:  # type: ignore[attr-defined]
                publish(
                    session,
                    "case_notification_failed",
                    {
                        "case_id": item.case_id,
                        "id": item.id,
                        "kind": item.kind,
                        "attempts": item.attempts,
                        "last_status": status,  # not the gateway's text: the claimant sees this feed too
                    },
                    case_id=item.case_id,
                )
        if outcome == DELIVERED:
            DELIVERIES.labels("delivered").inc()
            log.info("notification %s delivered (attempt %s)", item.id, item.attempts)
            return outcome
        DELIVERIES.labels("failed").inc()
        if outcome == FAILED:
            FAILED_NOTIFICATIONS.inc()
            log.error(
                "notification %s of case %s given up after %s attempts over %s s: %s",
                item.id,
                item.case_id,
                item.attempts,
                self.max_age_ms // 1000,
                error,
            )
            return outcome
        log.warning("notification %s not delivered (attempt %s): %s", item.id, item.attempts, error)
        return outcome
