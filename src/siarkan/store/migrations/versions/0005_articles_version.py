"""articles_version: a counter every write to articles bumps, in commit order

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE articles_version SET version = version + 1 WHERE id = 1"
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "articles_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles_version")),
    )
    op.execute("INSERT INTO articles_version (id, version) VALUES (1, 0)")
    # A trigger, so that every path that writes articles (imports, the API, the scheduler's
    # release, retraction, housekeeping) bumps it without remembering to.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION siarkan_bump_articles_version() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER articles_version AFTER INSERT OR UPDATE OR DELETE ON articles "
            "FOR EACH STATEMENT EXECUTE FUNCTION siarkan_bump_articles_version()"
        )
    else:
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER articles_version_{event.lower()} AFTER {event} ON articles "
                f"BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS articles_version ON articles")
        op.execute("DROP FUNCTION IF EXISTS siarkan_bump_articles_version()")
    else:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS articles_version_{event.lower()}")
    op.drop_table("articles_version")
