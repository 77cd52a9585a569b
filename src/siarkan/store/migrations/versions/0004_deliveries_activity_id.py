"""deliveries: an index on activity_id (enqueue read-back, thread and edit order, cascades)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 13:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_deliveries_activity_id", "deliveries", ["activity_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_activity_id", table_name="deliveries")
