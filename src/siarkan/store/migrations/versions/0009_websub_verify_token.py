"""websub_subscriptions: the hub.verify_token of a request awaiting verification

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding it rewrites nothing and takes no long lock.
    op.add_column(
        "websub_subscriptions",
        sa.Column("pending_verify_token", sa.String(255), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("websub_subscriptions") as batch:
        batch.drop_column("pending_verify_token")
