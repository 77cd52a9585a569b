"""signatures_seen: signed webhook requests already applied, shared by every node

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import siarkan.store.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signatures_seen",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", siarkan.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_signatures_seen")),
    )
    with op.batch_alter_table("signatures_seen", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signatures_seen_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signatures_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signatures_seen_expires_at"))
    op.drop_table("signatures_seen")
