"""What every CLI command gets: validated settings and, on demand, the database."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from siarkan.clock import Clock, SystemClock
from siarkan.config import Settings
from siarkan.store.db import Database


@dataclass
class CliContext:
    settings: Settings
    config_path: Path
    clock: Clock = field(default_factory=SystemClock)

    @asynccontextmanager
    async def database(self, *, migrate: bool = True) -> AsyncIterator[Database]:
        """Open the database; a fresh SQLite file is migrated, an old PostgreSQL refused."""
        db = Database.from_settings(self.settings.database)
        try:
            if migrate:
                await db.ensure_schema()
            yield db
        finally:
            await db.close()

    @property
    def interactive(self) -> bool:
        return sys.stderr.isatty()
