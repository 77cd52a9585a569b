"""Dialect-aware statements the federation code needs on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_ignore(conn: AsyncConnection, table: Table, index: Sequence[str]) -> Insert:
    """INSERT ... ON CONFLICT (index) DO NOTHING, for the connection's dialect.

    Idempotent across processes and nodes: two nodes creating the same row both succeed and
    one row remains.
    """
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(index))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(index))


def upsert(
    conn: AsyncConnection, table: Table, index: Sequence[str], update: Mapping[str, Any]
) -> Insert:
    """INSERT ... ON CONFLICT (index) DO UPDATE SET update (values bound at execute time)."""
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(index_elements=list(index), set_=dict(update))
    lite = sqlite.insert(table)
    return lite.on_conflict_do_update(index_elements=list(index), set_=dict(update))
