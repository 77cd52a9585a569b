"""signatures_seen on SQLite and PostgreSQL: a digest is claimed once until released or pruned."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from siarkan.store import replays
from siarkan.store.db import Database
from siarkan.store.engine import create_engine

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)


async def claim(db: Database, digest: str, now: datetime = NOW) -> bool:
    async with db.begin() as conn:
        return await replays.claim(conn, digest, now=now, window=WINDOW)


async def test_a_digest_is_claimed_once_until_released(db: Database) -> None:
    digest = replays.signature_digest("ghost", "ab12")
    assert await claim(db, digest)
    assert not await claim(db, digest)
    assert await claim(db, replays.signature_digest("other", "ab12"))  # schemes never share
    async with db.begin() as conn:
        await replays.release(conn, digest)
    assert await claim(db, digest)


async def test_concurrent_claims_from_two_engines_have_one_winner(
    db: Database, db_url: str
) -> None:
    other = Database(create_engine(db_url))  # another node: its own pool
    try:
        tries = [claim(d, "same") for d in (db, other, db, other, db, other)]
        assert sorted(await asyncio.gather(*tries)) == [False] * 5 + [True]
    finally:
        await other.close()


async def test_expired_claims_are_pruned_and_the_rest_kept(db: Database) -> None:
    assert await claim(db, "old")
    assert await claim(db, "new", now=NOW + WINDOW)
    async with db.begin() as conn:
        assert await replays.prune(conn, NOW + WINDOW) == 1
    assert await claim(db, "old", now=NOW + WINDOW)
    assert not await claim(db, "new", now=NOW + WINDOW)
