"""deliveries: claims read a partial index over active rows in (due_at, id) order

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "state IN ('pending', 'retrying')"


def upgrade() -> None:
    op.drop_index("ix_deliveries_state_due", table_name="deliveries")
    op.create_index(
        "ix_deliveries_finished_state", "deliveries", ["finished_at", "state"], unique=False
    )
    op.create_index(
        "ix_deliveries_active_due",
        "deliveries",
        ["due_at", "id"],
        unique=False,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_active_due", table_name="deliveries")
    op.drop_index("ix_deliveries_finished_state", table_name="deliveries")
    op.create_index("ix_deliveries_state_due", "deliveries", ["state", "due_at"], unique=False)
