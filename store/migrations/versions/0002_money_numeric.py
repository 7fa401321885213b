"""Money is exact: the recovery file's amounts move from Float to Numeric(14, 2).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: table -> its money columns (amounts in cents; what a float held is rounded to the cent)
MONEY_COLUMNS = {
    "case_subrogations": ("claimed", "recovered", "deductible", "deductible_refunded"),
    "case_subrogation_events": ("claimed", "recovered", "refund"),
}


def _alter(old: sa.types.TypeEngine[Any], new: sa.types.TypeEngine[Any]) -> None:
    for table, columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table) as batch:  # SQLite rebuilds the table; PostgreSQL casts in place
            for column in columns:
                batch.alter_column(column, existing_type=old, type_=new)


def upgrade() -> None:
    _alter(sa.Float(), sa.Numeric(14, 2))


def downgrade() -> None:
    _alter(sa.Numeric(14, 2), sa.Float())
