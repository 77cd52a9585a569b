"""fetch_validators: ETag / Last-Modified of imported feeds and sitemaps (conditional GET)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import siarkan.store.tables

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fetch_validators",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("fetched_at", siarkan.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_fetch_validators")),
    )


def downgrade() -> None:
    op.drop_table("fetch_validators")
