"""The domain's outbox of live events: a row of the `events` table per change worth showing live.

Whatever should appear live (new alerts, stage changes, plan adjustments, case updates) is added here
in the same transaction as the change itself, so an event exists exactly when its change was committed.
The API streams the table to subscribers (`api.events.EventHub`); nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from devices.timestamps import now_ms
from store.state.schema import EventRow


def publish(
    session: Session,
    kind: str,
    data: dict[str, Any],
    *,
    patient_id: str | None = None,
    shop_id: str | None = None,
    job_id: str | None = None,
    case_id: str | None = None,
) -> None:
    """Add an event to the feed as part of the caller's transaction."""
    session.add(
        EventRow(
            kind=kind, at_ms=now_ms(), patient_id=patient_id, shop_id=shop_id, job_id=job_id, case_id=case_id, data=data
        )
    )
