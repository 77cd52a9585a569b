"""Claims outlive their wait: a row held in the worker's ready queue longer than its lease is
still sent once, and a row another worker took meanwhile is not sent at all."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import update

from siarkan.clock import ManualClock, SystemClock
from siarkan.config import Settings
from siarkan.distribution import queue
from siarkan.distribution.breaker import HostHealth
from siarkan.distribution.worker import Worker
from siarkan.federation.keys import KeyPair
from siarkan.store.db import Database
from siarkan.store.tables import deliveries
from tests.distribution.conftest import (
    add_activity,
    queue_activity,
    queue_one,
    rows,
    seed_actor,
    tune,
)
from tests.distribution.servers import Inbox, Reply


async def poll(predicate: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def sent(db: Database) -> int:
    return sum(r["state"] == "sent" for r in await rows(db))


async def test_rows_waiting_longer_than_their_lease_are_sent_once(
    db: Database, settings: Settings, key_pair: KeyPair, inbox: Inbox
) -> None:
    # One slot, eight rows of one host claimed at once, a quarter second each: the last rows
    # wait twice their lease before they are sent. Their leases ran out and the worker claimed
    # them again (no other worker needed), and the inbox got them twice.
    s = tune(settings, lease_seconds=1, concurrency=1, per_host=8, batch_size=8)
    await seed_actor(db, s, key_pair)
    activity = await add_activity(db, s)
    inbox.default = Reply(202, delay=0.25)
    paths = [f"/users/u{i}/inbox" for i in range(8)]
    await queue_activity(db, activity, [inbox.url(p) for p in paths], datetime.now(UTC))
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        worker = Worker(db, s, SystemClock(), session, sign_threads=0)
        task = asyncio.create_task(worker.run(stop))

        async def all_sent() -> bool:
            return await sent(db) == len(paths)

        await poll(all_sent)
        stop.set()
        await task
    hits = Counter(r.path for r in inbox.received)
    assert hits == Counter(paths)  # every inbox once


async def test_a_waiting_row_another_worker_took_is_not_sent(
    db: Database, settings: Settings, key_pair: KeyPair, inbox: Inbox
) -> None:
    # The worker stalled past its lease and another worker claimed a row it still holds: the
    # row is the other worker's to send now.
    s = tune(settings, lease_seconds=2, concurrency=1, per_host=8, batch_size=4)
    await seed_actor(db, s, key_pair)
    activity = await add_activity(db, s)
    inbox.default = Reply(202, delay=1.0)
    paths = [f"/users/u{i}/inbox" for i in range(4)]
    ids = await queue_activity(db, activity, [inbox.url(p) for p in paths], datetime.now(UTC))
    taken = ids[inbox.url(paths[-1])]
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        worker = Worker(db, s, SystemClock(), session, sign_threads=0)
        task = asyncio.create_task(worker.run(stop))

        async def first_arrived() -> bool:
            return len(inbox.received) >= 1

        await poll(first_arrived)
        async with db.begin() as conn:
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.id == taken)
                .values(leased_by="other", lease_until=datetime.now(UTC) + timedelta(hours=1))
            )

        async def others_sent() -> bool:
            return await sent(db) == len(paths) - 1

        await poll(others_sent)
        stop.set()
        await task
    assert sorted(r.path for r in inbox.received) == sorted(paths[:-1])
    [row] = [r for r in await rows(db) if r["id"] == taken]
    assert (row["state"], row["leased_by"]) == ("pending", "other")


async def test_a_row_it_still_holds_is_not_claimed_again(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    # The loop stalled past a renewal and the lease ran out: the next claim finds the row free
    # again, but it is still waiting here, and would have been queued (and sent) twice.
    await queue_one(db, dsettings, key_pair, clock.now(), inbox.url("/inbox"))
    async with db.begin() as conn:  # a proven host: several rows of it may be in flight
        await queue.save_hosts(conn, [HostHealth(inbox.host, last_success_at=clock.now())])
    worker = make_worker(dsettings)
    assert len(await worker.claim(10)) == 1
    clock.advance(worker.lease + timedelta(seconds=1))
    assert await worker.claim(10) == []
    [stored] = await rows(db)
    assert stored["leased_by"] == worker.worker_id
    await worker._close_connection()
