"""Database engine and schema state.

Settings.database.url -> AsyncEngine (SQLite in WAL mode, or PostgreSQL via asyncpg)
-> ensure_schema(): migrate a fresh/old SQLite file, refuse an out-of-date PostgreSQL
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaOutOfDate(Exception):
    pass


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets feed readers read while the importer writes; NORMAL sync is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _private_file(path: Path) -> None:
    """The SQLite file holds the accounts' private keys: readable by its owner only (0600).

    Created here with that mode, so SQLite's -wal and -shm files, which it gives the
    database's permissions, are private too; an existing file readable by others is tightened
    (it belongs to the user siarkan runs as; if not, say so and go on).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
            for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                if extra.exists():
                    os.chmod(extra, extra.stat().st_mode & 0o700)
    except OSError as exc:
        log.warning(
            "cannot make the database file private", extra={"path": str(path), "error": str(exc)}
        )


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            _private_file(Path(database))
        # A pool, not NullPool: each aiosqlite connection is a thread plus a file open with
        # its pragmas, about 3 ms of CPU to set up, three times the cost of a typical read.
        # An in-memory database keeps SQLAlchemy's single shared connection.
        pooling: dict[str, Any] = {}
        if database and database != ":memory:":
            pooling = {"pool_size": pool_size, "max_overflow": pool_size}
        engine = create_async_engine(url, echo=echo, **pooling)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current_revision)


def _upgrade(connection: Connection, url: str, target: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)


def _downgrade(connection: Connection, url: str, target: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, target)


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    url = engine.url.render_as_string(hide_password=False)
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, url, target)


async def downgrade(engine: AsyncEngine, target: str) -> None:
    url = engine.url.render_as_string(hide_password=False)
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, url, target)


async def ensure_schema(engine: AsyncEngine) -> None:
    """SQLite migrates itself (embedded, one owner); PostgreSQL is migrated by ops on purpose."""
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if engine.dialect.name == "sqlite":
        await upgrade(engine)
        return
    raise SchemaOutOfDate(
        f"the PostgreSQL schema is at revision {current or 'none (empty database)'}, "
        f"this siarkan needs {head}: run `siarkan db upgrade` first"
    )


def run_sync(coro: Any) -> Any:
    return asyncio.run(coro)
