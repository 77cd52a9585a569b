"""What every CLI command gets: validated settings and, on demand, the database."""

from __future__ import annotations

import argparse
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


def positive_int(text: str) -> int:
    """An argparse type for --limit: SQLite reads LIMIT -1 as "no limit" and PostgreSQL
    refuses it (reported as a database failure); 0 would show "nothing stored yet"."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value
