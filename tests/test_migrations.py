"""Alembic migrations: round trip on both databases, and the migration matches tables.py."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from siarkan.store.db import Database
from siarkan.store.engine import current_revision, downgrade, head_revision, upgrade
from siarkan.store.tables import metadata


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
