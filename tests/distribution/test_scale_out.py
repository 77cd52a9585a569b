"""Two workers with their own engines on one PostgreSQL: no row twice, about twice as fast."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import pytest

from siarkan.clock import SystemClock
from siarkan.config import DatabaseSettings, Settings
from siarkan.distribution.worker import Worker
from siarkan.federation.keys import KeyPair
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from tests.distribution.conftest import add_activity, queue_activity, seed_actor, tune
from tests.distribution.servers import Inbox, Reply

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HOSTS = 8
PER_HOST = 40
LATENCY = 0.2


@asynccontextmanager
async def inboxes() -> AsyncIterator[list[Inbox]]:
    async with AsyncExitStack() as stack:
        servers = []
        for _ in range(HOSTS):
            server = Inbox()
            server.default = Reply(202, delay=LATENCY)
            await stack.enter_async_context(server.running())
            servers.append(server)
        yield servers


async def fan_out(
    settings: Settings,
    url: str,
    servers: list[Inbox],
    workers: int,
    token: str,
    per_host: int = PER_HOST,
) -> float:
    """Queue one activity to every inbox; run `workers` workers until done; seconds taken."""
    setup = Database(create_engine(url))
    activity = await add_activity(setup, settings, token=token)
    targets = [s.url(f"/{token}/u{i}") for s in servers for i in range(per_host)]
    await queue_activity(setup, activity, targets, datetime.now(UTC))
    await setup.close()
    stop = asyncio.Event()
    async with AsyncExitStack() as stack:
        runners = []
        for n in range(workers):
            db = Database(create_engine(url))
            stack.push_async_callback(db.close)
            session = await stack.enter_async_context(aiohttp.ClientSession())
            worker = Worker(db, settings, SystemClock(), session, worker_id=f"{token}-w{n}")
            runners.append(asyncio.create_task(worker.run(stop)))
        started = time.perf_counter()
        total = len(targets)
        while sum(1 for s in servers for r in s.received if f"/{token}/" in r.path) < total:
            await asyncio.sleep(0.02)
            assert time.perf_counter() - started < 120
        took = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*runners)
    return took


async def test_two_workers_twice_as_fast_never_twice(
    pg_url: str, settings: Settings, key_pair: KeyPair
) -> None:
    s = tune(
        settings.model_copy(update={"database": DatabaseSettings(url=pg_url)}),
        concurrency=8,
        per_host=8,
        batch_size=16,  # claimed rows count against the per-host limit of every worker
    )
    db = Database(create_engine(pg_url))
    await seed_actor(db, s, key_pair)
    await db.close()
    async with inboxes() as servers:
        # Warm-up: every host proves healthy, so both runs start with full per-host allowance.
        await fan_out(s, pg_url, servers, 1, "warm", per_host=1)
        one = await fan_out(s, pg_url, servers, 1, "one")
        two = await fan_out(s, pg_url, servers, 2, "two")
        hits = Counter(f"{srv.port}{r.path}" for srv in servers for r in srv.received)
    for token in ("one", "two"):
        mine = {p: n for p, n in hits.items() if f"/{token}/" in p}
        assert len(mine) == HOSTS * PER_HOST
        assert set(mine.values()) == {1}, "a row was delivered twice"
    speedup = one / two
    print(f"one worker {one:.2f}s, two workers {two:.2f}s, speed-up {speedup:.2f}x")
    assert speedup >= 1.6
