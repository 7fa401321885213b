"""Delivers the outbox to the insurer's messaging gateway as signed webhooks, at least once each.

Each pass (`run_once`, called by every monitor worker) claims the due notifications, POSTs each one
and records the outcome:

- the body is JSON, signed with ``X-Aftercare-Signature: sha256=<hex HMAC-SHA256 of the raw body
  keyed with AFTERCARE_WEBHOOK_SECRET>``; ``X-Aftercare-Delivery`` carries the notification id,
  which the gateway uses to drop duplicates;
- a 2xx answer marks the notification delivered; anything else (an error status, a refused
  connection, a timeout) schedules a retry with capped exponential backoff and jitter in
  ``next_attempt_ms``, for ever: a gateway down for minutes or hours loses nothing;
- claiming moves ``next_attempt_ms`` a lease ahead before the POST and commits, so a worker killed
  between the POST and recording the answer leaves the notification to be sent again when the
  lease runs out (hence "at least once"), and two workers never send the same row at once;
- a case's notifications go out in the order they were written: only the oldest undelivered one of
  each case is due, so "car ready" never overtakes "plan ready" while the gateway is failing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
from dataclasses import dataclass
from typing import Final

import httpx
from prometheus_client import Counter
from sqlalchemy import and_, select, update
from sqlalchemy.orm import aliased

from cases.outbox import DELIVERED, PENDING, webhook_body
from store.state.engine import StateStore
from store.state.schema_cases import CaseNotification

log = logging.getLogger(__name__)

DELIVERIES = Counter("aftercare_outbox_deliveries_total", "webhook delivery attempts by result", ["result"])

SIGNATURE_HEADER: Final = "X-Aftercare-Signature"
DELIVERY_HEADER: Final = "X-Aftercare-Delivery"


def sign(secret: str, body: bytes) -> str:
    """The signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_ms(attempts: int, *, base_ms: int, max_ms: int, rng: random.Random | None = None) -> int:
    """Delay before the next try after `attempts` failed ones: base * 2^(attempts-1), capped, minus up to 20 %."""
    delay = min(max_ms, base_ms * 2 ** max(0, min(attempts - 1, 30)))
    jitter = (rng or random).uniform(0.8, 1.0)
    return max(1, int(delay * jitter))


@dataclass(frozen=True, slots=True)
class _Claimed:
    seq: int
    id: str
    attempts: int
    body: bytes


class OutboxWorker:
    """The outbox delivery worker; every monitor worker runs it (it has `name` and `run_once`)."""

    name = "outbox"

    def __init__(
        self,
        state: StateStore,
        *,
        url: str | None,
        secret: str | None,
        timeout_s: float = 10.0,
        batch: int = 100,
        lease_ms: int = 60_000,
        backoff_base_ms: int = 2_000,
        backoff_max_ms: int = 10 * 60_000,
        client: httpx.Client | None = None,
    ) -> None:
        self.state = state
        self.url = url
        self.secret = secret
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
        if not self.url or not self.secret:
            if not self._warned:
                log.warning(
                    "notifications stay queued: AFTERCARE_WEBHOOK_URL and AFTERCARE_WEBHOOK_SECRET "
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
                if self._deliver(item, now_ms):
                    delivered += 1
                    progressed = True
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
                    claimed.append(_Claimed(seq=row.seq, id=row.id, attempts=row.attempts + 1, body=webhook_body(row)))
        return claimed

    def _deliver(self, item: _Claimed, now_ms: int) -> bool:
        assert self.url is not None
        assert self.secret is not None
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self.secret, item.body),
            DELIVERY_HEADER: item.id,
            "X-Aftercare-Attempt": str(item.attempts),
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
        with self.state.session() as session:
            values: dict[str, object]
            if error is None:
                values = {"state": DELIVERED, "delivered_ms": now_ms, "last_status": status, "last_error": None}
            else:
                retry = now_ms + backoff_ms(item.attempts, base_ms=self.backoff_base_ms, max_ms=self.backoff_max_ms)
                values = {"next_attempt_ms": retry, "last_status": status, "last_error": error}
            session.execute(
                update(CaseNotification)
                .where(CaseNotification.seq == item.seq, CaseNotification.state == PENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if error is None:
            DELIVERIES.labels("delivered").inc()
            log.info("notification %s delivered (attempt %s)", item.id, item.attempts)
            return True
        DELIVERIES.labels("failed").inc()
        log.warning("notification %s not delivered (attempt %s): %s", item.id, item.attempts, error)
        return False
