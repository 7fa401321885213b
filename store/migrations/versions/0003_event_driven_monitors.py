"""Event-driven monitors: the monitor inbox, subject activity, day blocks, and one active alert per kind
and subject enforced by a partial unique index; ``series_days`` (the day marks the inbox replaces) goes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import inspect, text

from store.state.schema_all import metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLES = ("monitor_inbox", "subject_activity", "day_blocks")


def upgrade() -> None:
    bind = op.get_bind()
    # 0001 creates the tables of the current models, so on a new store these exist already
    metadata.create_all(bind, tables=[metadata.tables[t] for t in _TABLES], checkfirst=True)
    # a store written before the constraint may hold two active alerts of one kind and subject: keep the newest
    bind.execute(
        text(
            "UPDATE alerts SET state = 'resolved', resolved_ms = updated_ms WHERE state != 'resolved' AND EXISTS ("
            " SELECT 1 FROM alerts newer WHERE newer.kind = alerts.kind AND newer.subject = alerts.subject"
            " AND newer.state != 'resolved' AND (newer.opened_ms > alerts.opened_ms"
            " OR (newer.opened_ms = alerts.opened_ms AND newer.id > alerts.id)))"
        )
    )
    for index in metadata.tables["alerts"].indexes:
        if index.name == "uq_alerts_one_active":
            index.create(bind, checkfirst=True)
    if inspect(bind).has_table("series_days"):
        op.drop_table("series_days")


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("uq_alerts_one_active", table_name="alerts")
    for name in _TABLES:
        metadata.tables[name].drop(bind, checkfirst=True)
