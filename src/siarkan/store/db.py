"""The Database handle: one AsyncEngine per process, opened and closed around the app's life."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from siarkan.config import DatabaseSettings
from siarkan.store.engine import create_engine, ensure_schema


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> Database:
        return cls(create_engine(settings.url, pool_size=settings.pool_size, echo=settings.echo))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """For reads (autobegin; nothing is committed)."""
        async with self.engine.connect() as conn:
            yield conn

    async def ensure_schema(self) -> None:
        await ensure_schema(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()
