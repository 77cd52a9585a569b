"""Alembic migrations: round trip on both databases, and the migration matches tables.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from siarkan.store.articles import upsert_article
from siarkan.store.db import Database
from siarkan.store.engine import current_revision, downgrade, head_revision, upgrade
from siarkan.store.tables import actors, metadata, posts
from tests.helpers import make_report


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_round_trip_and_no_drift(db: Database) -> None:
    assert await current_revision(db.engine) == head_revision()
    async with db.connect() as conn:
        assert await conn.run_sync(_diff) == [], "tables.py changed without a migration"
        assert set(metadata.tables) <= await conn.run_sync(_tables)
    await downgrade(db.engine, "base")
    assert await current_revision(db.engine) is None
    async with db.connect() as conn:
        assert await conn.run_sync(_tables) <= {"alembic_version"}
    await upgrade(db.engine)
    assert await current_revision(db.engine) == head_revision()
    async with db.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_deleted_posts_stay_beside_live_ones_and_a_downgrade_keeps_one_per_part(
    db: Database,
) -> None:
    """0007: a part has at most one live post, and any number of deleted ones (their ids
    answer 410); going back to 0006 keeps the live one, else the newest deleted one."""
    now = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    article = make_report()
    async with db.begin() as conn:
        await upsert_article(conn, article, now=now)
        await conn.execute(
            insert(actors).values(
                name="banten", username="banten", key_id="k", private_key_pem="-",
                public_key_pem="-", key_created_at=now, created_at=now,
            )
        )  # fmt: skip

    def post(uri: str, part: int, state: str) -> dict[str, Any]:
        return {
            "uri": uri, "actor_name": "banten", "article_id": article.id, "part": part,
            "object": {}, "object_hash": "-", "state": state, "due_at": now, "pinned": False,
        }  # fmt: skip

    async with db.begin() as conn:
        await conn.execute(
            insert(posts),
            [
                post("gone-0", 0, "deleted"),
                post("live-0", 0, "published"),
                post("gone-1a", 1, "deleted"),
                post("gone-1b", 1, "deleted"),
            ],
        )
    with pytest.raises(IntegrityError):
        async with db.begin() as conn:
            await conn.execute(insert(posts).values(post("twin-0", 0, "scheduled")))

    await downgrade(db.engine, "0006")
    async with db.connect() as conn:
        kept = (await conn.execute(select(posts.c.uri).order_by(posts.c.id))).scalars().all()
    assert kept == ["live-0", "gone-1b"]
    with pytest.raises(IntegrityError):  # the old constraint is back
        async with db.begin() as conn:
            await conn.execute(insert(posts).values(post("gone-0", 0, "deleted")))
    await upgrade(db.engine)
    assert await current_revision(db.engine) == head_revision()
