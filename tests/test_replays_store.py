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
        return await replays.claim(conn, digest, now=now, lease=WINDOW)


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


async def test_a_claim_left_unconfirmed_is_taken_over_once_its_lease_ran_out(
    db: Database, db_url: str
) -> None:
    """A process died between claim and apply: the retry after the lease is applied, once."""
    lease = timedelta(seconds=30)

    async def take(d: Database, now: datetime) -> bool:
        async with d.begin() as conn:
            return await replays.claim(conn, "left", now=now, lease=lease)

    assert await take(db, NOW)
    assert not await take(db, NOW + lease - timedelta(seconds=1))  # still being applied
    other = Database(create_engine(db_url))
    try:
        later = NOW + lease
        tries = [take(d, later) for d in (db, other, db, other)]
        assert sorted(await asyncio.gather(*tries)) == [False] * 3 + [True]
    finally:
        await other.close()


async def test_a_confirmed_claim_holds_for_its_window(db: Database) -> None:
    lease = timedelta(seconds=30)
    async with db.begin() as conn:
        assert await replays.claim(conn, "done", now=NOW, lease=lease)
        await replays.confirm(conn, "done", now=NOW, window=WINDOW)
    assert not await claim(db, "done", now=NOW + lease)
    assert not await claim(db, "done", now=NOW + WINDOW - timedelta(seconds=1))
    assert await claim(db, "done", now=NOW + WINDOW)  # stale by then: refused before this
