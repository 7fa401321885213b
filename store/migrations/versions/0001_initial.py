"""Initial schema: every table of the first release.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from store.state.schema_all import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The first release creates its tables from the models; later revisions alter them step by step.
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
