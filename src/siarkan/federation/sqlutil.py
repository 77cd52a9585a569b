"""Dialect-aware statements the federation code needs on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
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


def _placeholders(paramstyle: str, rows: int, columns: int) -> str:
    if paramstyle == "numeric_dollar":
        return ", ".join(
            "(" + ", ".join(f"${r * columns + c + 1}" for c in range(columns)) + ")"
            for r in range(rows)
        )
    mark = {"qmark": "?", "format": "%s"}.get(paramstyle)
    if mark is None:
        raise NotImplementedError(f"paramstyle {paramstyle}")
    one = "(" + ", ".join([mark] * columns) + ")"
    return ", ".join([one] * rows)


def insert_ignore_sql(
    dialect: Dialect,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    *,
    returning: str | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """Driver SQL + parameters for a multi-row INSERT ... ON CONFLICT DO NOTHING [RETURNING].

    Values go through each column type's bind processor (UtcDateTime included), as SQLAlchemy
    would; what is skipped is its per-row bookkeeping, which at thousands of inbox requests per
    second is most of the budget.
    """
    columns = list(rows[0].keys())
    processors = [table.c[name].type.bind_processor(dialect) for name in columns]
    params: list[Any] = []
    for row in rows:
        for name, process in zip(columns, processors, strict=True):
            value = row[name]
            params.append(process(value) if process is not None and value is not None else value)
    quote = dialect.identifier_preparer.quote
    # Identifiers come from our Table metadata (table.c[name] above refuses others), quoted;
    # every value is a bound parameter.
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES {_placeholders(dialect.paramstyle, len(rows), len(columns))} "
        f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO NOTHING"
    )
    if returning is not None:
        sql += f" RETURNING {quote(returning)}"
    return sql, tuple(params)


async def bulk_insert_ignore(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    *,
    returning: str | None = None,
) -> list[Any]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING; the `returning` values of the rows
    actually inserted."""
    if not rows:
        return []
    sql, params = insert_ignore_sql(conn.dialect, table, rows, conflict, returning=returning)
    result = await conn.exec_driver_sql(sql, params)
    return list(result.scalars()) if returning is not None else []
