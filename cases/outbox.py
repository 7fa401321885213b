"""The transactional outbox: claimant notifications written in the same transaction as their cause.

`enqueue` only adds a row to the caller's session, so a notification exists if and only if the
change that caused it was committed; `cases.outbox_worker.OutboxWorker` delivers the rows later,
at least once each, to the insurer's messaging gateway. The body sent is a function of the row
alone (`webhook_body`), so every retry sends the same bytes with the same delivery id.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from devices.timestamps import ms_to_iso, now_ms
from store.state.schema_cases import Case, CaseNotification

log = logging.getLogger(__name__)

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"  # given up after AFTERCARE_WEBHOOK_MAX_AGE_S; never sent again


def enqueue(
    session: Session,
    case: Case,
    kind: str,
    *,
    subject: str,
    text: str,
    data: dict[str, Any] | None = None,
    dedup_key: str | None = None,
    at_ms: int | None = None,
) -> CaseNotification | None:
    """Add a notification for the case's claimant to the session; None when `dedup_key` was already used."""
    if (
        dedup_key is not None
        and session.execute(select(CaseNotification.seq).where(CaseNotification.dedup_key == dedup_key)).first()
        is not None
    ):
        return None
    at = at_ms if at_ms is not None else now_ms()
    claimant = case.claimant or {}
    row = CaseNotification(
        id="N-" + uuid.uuid4().hex[:20],
        case_id=case.id,
        kind=kind,
        channel=claimant.get("channel", "app"),
        language=claimant.get("language", "en"),
        payload={
            "subject": subject,
            "text": text,
            "data": data or {},
            "claim_id": case.claim_id,
            "recipient": {k: claimant.get(k) for k in ("name", "email", "phone")},
        },
        dedup_key=dedup_key,
        state=PENDING,
        attempts=0,
        next_attempt_ms=at,
        last_status=None,
        last_error=None,
        created_ms=at,
        delivered_ms=None,
    )
    if dedup_key is None:
        session.add(row)
        session.flush()
        return row
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        log.info("notification %s for case %s already queued", dedup_key, case.id)
        return None
    return row


def webhook_body(row: CaseNotification) -> bytes:
    """The JSON the gateway receives for this notification (the same bytes on every attempt)."""
    payload = row.payload or {}
    body = {
        "id": row.id,
        "sequence": row.seq,
        "case_id": row.case_id,
        "claim_id": payload.get("claim_id"),
        "kind": row.kind,
        "channel": row.channel,
        "language": row.language,
        "created_at": ms_to_iso(row.created_ms),
        "recipient": payload.get("recipient", {}),
        "subject": payload.get("subject", ""),
        "text": payload.get("text", ""),
        "data": payload.get("data", {}),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def notifications_of(session: Session, case_id: str) -> list[CaseNotification]:
    return list(
        session.execute(
            select(CaseNotification).where(CaseNotification.case_id == case_id).order_by(CaseNotification.seq)
        ).scalars()
    )
