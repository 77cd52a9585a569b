"""interactions: an index on actor_uri (an account's Delete: "do we know it?", its cleanup)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 14:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_interactions_actor_uri", "interactions", ["actor_uri"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_interactions_actor_uri", table_name="interactions")
