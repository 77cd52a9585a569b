"""websub_subscriptions: the digest of the last content a subscriber received

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding it rewrites nothing and takes no long lock.
    op.add_column("websub_subscriptions", sa.Column("sent_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("websub_subscriptions") as batch:
        batch.drop_column("sent_digest")
