"""posts: one live post per part; deleted posts stay (410 Tombstone) beside their successors

A re-publication after a retraction, or a part an edit dropped and then added again, gets a new
post with a new id while the deleted one keeps answering 410 at its own id. The unique constraint
over (actor_name, article_id, part) allowed one row per part whatever its state, so the deleted
rows had to be erased first (their ids then answered 404, and their Create activities were
served with the retracted text); now uniqueness holds over rows that are not deleted.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "state <> 'deleted'"


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_constraint("uq_posts_actor_name_article_id_part", type_="unique")
    op.create_index(
        "uq_posts_live_part",
        "posts",
        ["actor_name", "article_id", "part"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_posts_live_part", table_name="posts")
    # The old constraint allows one row per part: keep the live one, else the newest deleted
    # one. The ids of the deleted rows dropped here answer 404 again instead of 410.
    op.execute(
        "DELETE FROM posts WHERE state = 'deleted' AND EXISTS ("
        " SELECT 1 FROM posts AS other"
        " WHERE other.actor_name = posts.actor_name AND other.article_id = posts.article_id"
        " AND other.part = posts.part AND (other.state <> 'deleted' OR other.id > posts.id))"
    )
    with op.batch_alter_table("posts") as batch:
        batch.create_unique_constraint(
            "uq_posts_actor_name_article_id_part", ["actor_name", "article_id", "part"]
        )
