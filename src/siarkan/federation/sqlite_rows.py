"""SQLite fast path of the inbox writer: a whole batch of row inserts in one thread hand-off.

    batch of (inbox_seen row, [InsertRow]) | thread: BEGIN IMMEDIATE
        | INSERT inbox_seen ... RETURNING the new ids | their rows, one INSERT per table
        | COMMIT -> the new ids

Through aiosqlite every statement costs several round trips to its thread (cursor, execute,
fetch, close), and under load each trip waits for the GIL held by the signature checks on the
main thread: a batch took tens of milliseconds. Here the batch is one function on one thread
with a plain sqlite3 connection; sqlite's C code runs without the GIL. Only batches whose
effects are all plain inserts (likes, boosts, replies: most inbox traffic) come here; the rest
go through SQLAlchemy (writer.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from siarkan.federation.handlers import InsertRow
from siarkan.federation.sqlutil import insert_ignore_sql
from siarkan.store.tables import inbox_seen

CHUNK = 1000  # rows per INSERT (SQLite allows 32766 parameters)
Batch = Sequence[tuple[dict[str, Any], Sequence[InsertRow]]]


class SqliteRowWriter:
    def __init__(self, path: str, dialect: Dialect) -> None:
        self.path = path
        self.dialect = dialect
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-sqlite")
        self._conn: sqlite3.Connection | None = None

    async def write(self, batch: Batch) -> set[str]:
        """Commit the batch; returns the activity ids that were new."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._write, batch)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        # The same settings as store/engine.py gives every SQLite connection.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    def _insert(
        self,
        conn: sqlite3.Connection,
        table: Table,
        rows: list[dict[str, Any]],
        conflict: Sequence[str],
        returning: str | None = None,
    ) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(rows), CHUNK):
            sql, params = insert_ignore_sql(
                self.dialect, table, rows[start : start + CHUNK], conflict, returning=returning
            )
            cursor = conn.execute(sql, params)
            if returning is not None:
                out.extend(row[0] for row in cursor.fetchall())
        return out

    def _write(self, batch: Batch) -> set[str]:
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        unique: dict[str, dict[str, Any]] = {}
        for seen, _ in batch:
            unique.setdefault(seen["activity_id"], seen)
        try:
            conn.execute("BEGIN IMMEDIATE")
            new = set(
                self._insert(
                    conn, inbox_seen, list(unique.values()), ["activity_id"], "activity_id"
                )
            )
            grouped: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
            pending = set(new)
            for seen, effects in batch:
                if seen["activity_id"] not in pending:
                    continue
                pending.discard(seen["activity_id"])  # a second copy in the batch is a duplicate
                for effect in effects:
                    grouped[(effect.table, effect.conflict)].append(effect.row)
            for (table, conflict), rows in grouped.items():
                self._insert(conn, table, rows, conflict)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return new

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)
