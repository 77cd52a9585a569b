"""Dialect-aware statements the federation code needs on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
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


Processor = Callable[[Any], Any] | None


@lru_cache(maxsize=64)
def _processors(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> tuple[Processor, ...]:
    # dialect_impl: the processor SQLAlchemy itself would apply (the column type's own step and
    # the dialect's, e.g. SQLite DATETIME's text), not only the type's first step.
    return tuple(
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    )


@lru_cache(maxsize=256)
def _insert_sql(
    dialect: Dialect,
    table: Table,
    columns: tuple[str, ...],
    rows: int,
    conflict: tuple[str, ...],
    returning: str | None,
) -> str:
    # Under load the writer sends batches of a few recurring sizes: each text is built once.
    quote = dialect.identifier_preparer.quote
    # Identifiers come from our Table metadata (table.c[name] refuses others), quoted; every
    # value is a bound parameter.
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES {_placeholders(dialect.paramstyle, rows, len(columns))} "
        f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO NOTHING"
    )
    if returning is not None:
        sql += f" RETURNING {quote(returning)}"
    return sql


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
    columns = tuple(rows[0].keys())
    getter, processed = _row_reader(dialect, table, columns)
    params: list[Any] = []
    extend = params.extend
    for row in rows:
        extend(getter(row))
    # Converted a column at a time, in place: a copy of every row to convert one value of
    # it cost as much as the conversion.
    width = len(columns)
    for index, process in processed:
        params[index::width] = [None if v is None else process(v) for v in params[index::width]]
    sql = _insert_sql(dialect, table, columns, len(rows), tuple(conflict), returning)
    return sql, tuple(params)


@lru_cache(maxsize=64)
def _row_reader(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> tuple[
    Callable[[Mapping[str, Any]], tuple[Any, ...]], tuple[tuple[int, Callable[[Any], Any]], ...]
]:
    """A row's values in column order (itemgetter: one C call), and the few columns whose
    type converts the value (timestamps, on SQLite) with their position."""
    getter = itemgetter(*columns)
    processors = _processors(dialect, table, columns)
    processed = tuple((i, p) for i, p in enumerate(processors) if p is not None)
    if len(columns) == 1:  # itemgetter of one name returns the value, not a tuple
        return (lambda row: (getter(row),)), processed
    return getter, processed


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
