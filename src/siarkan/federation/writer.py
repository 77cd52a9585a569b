"""The inbox writer: group commit of inbox_seen rows and handler effects.

    Inbox.receive | submit(seen row, effects) -> pending
    writer task   | take up to max_batch | one transaction on the writer's own connection:
                      inbox_seen rows, RETURNING the ids not seen before
                      | the effects of those, inserts batched per table (one statement each)
                  | every request of the batch answers 202

Requests that arrive while a transaction runs share the next one: under load N transactions
become one per batch, idle a request is written at once (no waiting for a batch to fill).
Batches are capped so that the main loop keeps verifying the next requests while one commits.
A failing batch is retried one request at a time, so one bad activity cannot fail the others.
On SQLite, batches of plain inserts take a faster road (sqlite_rows.py). (A writer thread
with its own event loop was tried: with the main thread busy checking signatures, each of its
many steps waited for the GIL, and throughput halved.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from siarkan.federation.handlers import Effect, InsertRow
from siarkan.federation.sqlite_rows import SqliteRowWriter
from siarkan.federation.sqlutil import bulk_insert_ignore
from siarkan.store.tables import inbox_seen

log = logging.getLogger(__name__)

MAX_BATCH = 1000


@dataclass(slots=True)
class _Pending:
    seen: dict[str, Any]
    effects: list[Effect]
    future: asyncio.Future[bool]


async def apply_batch(conn: AsyncConnection, batch: Sequence[_Pending]) -> list[bool]:
    """In the caller's transaction: mark activity ids seen, apply the effects of the new ones.

    Returns, per request, whether it was new (False: a duplicate delivery, still answered 202
    but changing nothing).
    """
    unique: dict[str, dict[str, Any]] = {}
    for item in batch:
        unique.setdefault(item.seen["activity_id"], item.seen)
    inserted = set(
        await bulk_insert_ignore(
            conn, inbox_seen, list(unique.values()), ["activity_id"], returning="activity_id"
        )
    )
    results: list[bool] = []
    queued: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)

    async def flush() -> None:
        for (table, conflict), rows in queued.items():
            for start in range(0, len(rows), MAX_BATCH):
                await bulk_insert_ignore(conn, table, rows[start : start + MAX_BATCH], conflict)
        queued.clear()

    for item in batch:
        activity_id = item.seen["activity_id"]
        new = activity_id in inserted
        inserted.discard(activity_id)  # a second copy in the same batch is a duplicate
        results.append(new)
        if not new:
            continue
        for effect in item.effects:
            if isinstance(effect, InsertRow):
                queued[(effect.table, effect.conflict)].append(effect.row)
            else:
                await flush()
                await effect.step(conn)
    await flush()
    return results


def _only_inserts(batch: Sequence[_Pending]) -> list[tuple[dict[str, Any], list[InsertRow]]] | None:
    """The batch as (seen row, inserts) if every effect is a plain insert, else None."""
    out: list[tuple[dict[str, Any], list[InsertRow]]] = []
    for item in batch:
        for effect in item.effects:
            if type(effect) is not InsertRow:
                return None
        out.append((item.seen, cast(list[InsertRow], item.effects)))
    return out


def _resolve_new(batch: Sequence[_Pending], new: set[str]) -> None:
    """Answer a committed batch: True for the first copy of each newly seen activity id,
    False for the rest (duplicates, already seen or repeated within the batch)."""
    remaining = set(new)
    for item in batch:
        activity_id = item.seen["activity_id"]
        if not item.future.done():
            item.future.set_result(activity_id in remaining)
        remaining.discard(activity_id)


def _resolve(items: Sequence[_Pending], outcomes: Sequence[bool | BaseException]) -> None:
    for item, outcome in zip(items, outcomes, strict=True):
        if item.future.done():
            continue
        if isinstance(outcome, BaseException):
            item.future.set_exception(outcome)
        else:
            item.future.set_result(outcome)


class InboxWriter:
    def __init__(self, engine: AsyncEngine, *, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._pending: deque[_Pending] = deque()
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection | None = None
        database = engine.url.database
        self._rows: SqliteRowWriter | None = (
            SqliteRowWriter(database, engine.dialect)
            if engine.dialect.name == "sqlite" and database and database != ":memory:"
            else None
        )

    async def submit(self, seen: dict[str, Any], effects: list[Effect]) -> bool:
        """Queue one request's rows; True once committed as new, False for a duplicate."""
        item = _Pending(seen, effects, asyncio.get_running_loop().create_future())
        self._pending.append(item)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="inbox-writer")
        return await item.future

    async def _run(self) -> None:
        pending = self._pending
        while pending:
            batch = [pending.popleft() for _ in range(min(self.max_batch, len(pending)))]
            rows = self._rows
            if rows is not None and (inserts := _only_inserts(batch)) is not None:
                try:
                    fresh = await rows.write(inserts)
                except Exception:
                    log.exception("inbox batch failed on the SQLite fast path; retrying one by one")
                else:
                    _resolve_new(batch, fresh)
                    continue
            _resolve(batch, await self._write(batch))

    async def _write(self, batch: Sequence[_Pending]) -> list[bool | BaseException]:
        """Through SQLAlchemy: the whole batch in one transaction, else one request at a time."""
        try:
            self._conn = self._conn or await self.engine.connect()
            async with self._conn.begin():
                return list(await apply_batch(self._conn, batch))
        except Exception:
            log.exception("inbox batch failed; retrying its requests one by one")
            await self._drop_connection()
        outcomes: list[bool | BaseException] = []
        for item in batch:
            try:
                self._conn = self._conn or await self.engine.connect()
                async with self._conn.begin():
                    (new,) = await apply_batch(self._conn, [item])
                outcomes.append(new)
            except Exception as exc:
                outcomes.append(exc)
                await self._drop_connection()
        return outcomes

    async def _drop_connection(self) -> None:
        """The connection may be what failed (a restarted server): start afresh."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self._drop_connection()
        if self._rows is not None:
            await self._rows.close()
