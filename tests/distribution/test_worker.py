"""The worker against real loopback inboxes that fail in scripted ways, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from siarkan.clock import ManualClock
from siarkan.config import Settings
from siarkan.distribution import queue
from siarkan.distribution.activitypub import follower_sync_digest
from siarkan.distribution.outbox import InboxTarget
from siarkan.distribution.worker import Worker
from siarkan.federation.keys import KeyPair
from siarkan.metrics import Metrics
from siarkan.store.db import Database
from siarkan.store.tables import followers, hosts
from tests.distribution.conftest import (
    add_activity,
    add_follower,
    queue_activity,
    queue_one,
    rows,
    seed_actor,
    tune,
)
from tests.distribution.servers import Inbox, Reply


async def setup(db: Database, settings: Settings, key: KeyPair, clock: ManualClock) -> int:
    await seed_actor(db, settings, key, now=clock.now())
    return await add_activity(db, settings, now=clock.now())


async def test_delivers_signed_activity_once(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    activity = await setup(db, dsettings, key_pair, clock)
    targets = [inbox.url(f"/users/u{i}/inbox") for i in range(5)]
    await queue_activity(db, activity, targets, clock.now())
    metrics = Metrics()
    worker = make_worker(dsettings, metrics=metrics)
    assert await worker.drain() == 5
    assert sorted(r.path for r in inbox.received) == sorted(f"/users/u{i}/inbox" for i in range(5))
    assert all(r.signature_ok for r in inbox.received)
    assert all(r.scheme == "draft-cavage" for r in inbox.received)
    assert {r.headers["Content-Type"] for r in inbox.received} == {"application/activity+json"}
    assert all(b'"type": "Create"' in r.body for r in inbox.received)
    assert [r["state"] for r in await rows(db)] == ["sent"] * 5
    assert all(r["lease_until"] is None and r["attempts"] == 1 for r in await rows(db))
    assert await worker.drain() == 0  # nothing is sent twice
    assert len(inbox.received) == 5
    sent = metrics.deliveries.labels("activitypub", "sent")._value.get()
    assert sent == 5


async def test_503_retry_after_then_success(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    activity = await setup(db, dsettings, key_pair, clock)
    inbox.script["/inbox"] = [Reply(503, {"Retry-After": "120"})]
    await queue_activity(db, activity, [inbox.url("/inbox")], clock.now())
    worker = make_worker(dsettings)
    await worker.drain()
    [row] = await rows(db)
    assert row["state"] == "retrying" and row["last_status"] == 503
    assert row["due_at"] == clock.now() + timedelta(seconds=120)
    clock.advance(timedelta(seconds=119))
    assert await worker.drain() == 0  # Retry-After honoured (the host is held too)
    clock.advance(timedelta(seconds=2))
    assert await worker.drain() == 1
    [row] = await rows(db)
    assert row["state"] == "sent" and row["attempts"] == 2


async def test_429_with_http_date_holds_the_whole_host(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    activity = await setup(db, dsettings, key_pair, clock)
    until = clock.now() + timedelta(minutes=10)
    inbox.script["/a"] = [Reply(429, {"Retry-After": format_datetime(until, usegmt=True)})]
    # /b's row is claimed later: slow start lets one request reach an unproven host first.
    await queue_activity(db, activity, [inbox.url("/a"), inbox.url("/b")], clock.now())
    worker = make_worker(dsettings)
    await worker.drain()
    assert [r.path for r in inbox.received] == ["/a"]
    clock.advance(timedelta(minutes=9))
    assert await worker.drain() == 0
    clock.advance(timedelta(minutes=1, seconds=1))
    assert await worker.drain() == 2
    assert sorted(r["state"] for r in await rows(db)) == ["sent", "sent"]


async def test_permanent_4xx_is_dead_and_410_removes_followers(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    activity = await setup(db, dsettings, key_pair, clock)
    gone, bad = inbox.url("/gone"), inbox.url("/bad")
    await add_follower(db, "utama", inbox.url("/users/x"), gone, None, clock.now())
    await add_follower(db, "utama", inbox.url("/users/y"), bad, None, clock.now())
    inbox.script["/gone"] = [Reply(410)]
    inbox.script["/bad"] = [Reply(400)]
    await queue_activity(db, activity, [gone, bad], clock.now())
    later = await add_activity(db, dsettings, token="a2", now=clock.now())
    await queue_activity(db, later, [gone], clock.now())
    await make_worker(dsettings).drain()
    states = {(r["target"], r["activity_id"]): r["state"] for r in await rows(db)}
    assert states[(gone, activity)] == "dead"
    assert states[(gone, later)] in ("skipped", "dead")  # never retried either way
    assert states[(bad, activity)] == "dead"
    assert len(inbox.hits("/bad")) == 1  # 400 is not retried
    async with db.connect() as conn:
        left = (await conn.execute(select(followers.c.inbox))).scalars().all()
    assert left == [bad]


async def test_timeouts_retry_with_backoff_and_open_the_breaker(
    db: Database,
    settings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    s = tune(settings, read_timeout=0.2, connect_timeout=0.2, breaker_failures=3)
    activity = await setup(db, s, key_pair, clock)
    inbox.default = Reply(202, delay=1.0)
    targets = [inbox.url(f"/i{i}") for i in range(6)]
    await queue_activity(db, activity, targets, clock.now())
    worker = make_worker(s)
    for _ in range(3):  # one probe at a time: the host never answered
        await worker.drain()
        clock.advance(timedelta(seconds=40))
    async with db.connect() as conn:
        host = (await conn.execute(select(hosts))).mappings().one()
    assert host["consecutive_failures"] == 3
    assert host["breaker_open_until"] > clock.now()
    tried = [r for r in await rows(db) if r["attempts"]]
    assert tried and all(r["state"] == "retrying" and r["last_error"] == "timeout" for r in tried)
    before = len(inbox.received)
    clock.advance(timedelta(seconds=60))
    assert await worker.drain() == 0  # breaker open: nothing claimed for this host
    assert len(inbox.received) == before
    # Half-open after breaker_seconds: one probe; the host is healthy again, all go out.
    inbox.default = Reply(202)
    clock.advance(timedelta(seconds=s.delivery.breaker_seconds))
    await worker.drain()
    clock.advance(timedelta(days=1))
    await worker.drain()
    assert {r["state"] for r in await rows(db)} == {"sent"}
    async with db.connect() as conn:
        host = (await conn.execute(select(hosts))).mappings().one()
    assert host["consecutive_failures"] == 0 and host["breaker_open_until"] is None


async def test_double_knock_remembers_the_scheme(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    activity = await setup(db, dsettings, key_pair, clock)
    inbox.reject = {"draft-cavage"}
    await queue_activity(db, activity, [inbox.url("/a")], clock.now())
    worker = make_worker(dsettings)
    await worker.drain()
    assert [r.scheme for r in inbox.received] == ["draft-cavage", "rfc9421"]
    assert [r["state"] for r in await rows(db)] == ["sent"]
    async with db.connect() as conn:
        assert await conn.scalar(select(hosts.c.signature_scheme)) == "rfc9421"
    # A new worker (restart) starts with the remembered scheme: one request, no knock.
    second = await add_activity(db, dsettings, token="a2", now=clock.now())
    await queue_activity(db, second, [inbox.url("/a")], clock.now())
    await make_worker(dsettings).drain()
    assert [r.scheme for r in inbox.received][2:] == ["rfc9421"]


async def test_thread_part_two_waits_for_part_one(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    await seed_actor(db, dsettings, key_pair, now=clock.now())
    part1 = await add_activity(db, dsettings, token="p1", now=clock.now())
    part2 = await add_activity(db, dsettings, token="p2", now=clock.now())
    part3 = await add_activity(db, dsettings, token="p3", now=clock.now())
    targets = [inbox.url("/x"), inbox.url("/y")]
    inbox.script["/x"] = [Reply(503)]
    first = await queue_activity(db, part1, targets, clock.now())
    second = await queue_activity(db, part2, targets, clock.now(), after=first)
    await queue_activity(db, part3, targets, clock.now(), after=second)
    worker = make_worker(dsettings)
    for _ in range(5):
        await worker.drain()
        clock.advance(timedelta(minutes=5))

    def parts(path: str) -> list[str]:
        return [
            next(t for t in ("p1", "p2", "p3") if t.encode() in r.body) for r in inbox.hits(path)
        ]

    assert parts("/y") == ["p1", "p2", "p3"]
    # At /x the first try of part 1 got 503: part 2 went only after part 1 was accepted.
    assert parts("/x") == ["p1", "p1", "p2", "p3"]
    assert {r["state"] for r in await rows(db)} == {"sent"}


async def test_collection_synchronization_on_shared_inbox(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    activity = await setup(db, dsettings, key_pair, clock)
    shared = inbox.url("/inbox")
    ids = [inbox.url(f"/users/{n}") for n in ("ani", "budi")]
    for uri in ids:
        await add_follower(db, "utama", uri, uri + "/inbox", shared, clock.now())
    await add_follower(
        db,
        "utama",
        "http://elsewhere.example/users/c",
        "http://elsewhere.example/i",
        None,
        clock.now(),
    )
    await queue_activity(db, activity, [InboxTarget(shared, shared=True)], clock.now())
    await make_worker(dsettings).drain()
    [hit] = inbox.received
    header = hit.headers["Collection-Synchronization"]
    assert f'digest="{follower_sync_digest(ids)}"' in header
    assert 'collectionId="http://127.0.0.1:' in header and "/ap/actors/utama/followers" in header
    assert f"followers_synchronization?domain=127.0.0.1%3A{inbox.port}" in header


def test_follower_digest_matches_fep_8fcf_example() -> None:
    ids = ["https://testing.example.org/users/1", "https://testing.example.org/users/2"]
    assert follower_sync_digest(ids) == (
        "c33f48cd341ef046a206b8a72ec97af65079f9a3a9b90eef79c5920dce45c61f"
    )
    assert follower_sync_digest([]) == "0" * 64


async def test_obsolete_rows_are_skipped(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    # An actor without a key row cannot sign: the row is skipped, not retried forever.
    activity = await setup(db, dsettings, key_pair, clock)
    await queue_activity(db, activity, [inbox.url("/a")], clock.now(), actor="ghost")
    await make_worker(dsettings).drain()
    [row] = await rows(db)
    assert row["state"] == "skipped" and inbox.received == []
    async with db.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(hosts)) == 0


async def test_an_inbox_on_a_private_address_is_never_contacted(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    """Production settings (no allow_private_addresses): a follower whose inbox resolves to
    loopback gets nothing, the row is dead with the reason, and the host's health is untouched."""
    guarded = dsettings.model_copy(
        update={
            "federation": dsettings.federation.model_copy(update={"allow_private_addresses": False})
        }
    )
    activity = await setup(db, guarded, key_pair, clock)
    await queue_activity(db, activity, [inbox.url("/users/u1/inbox")], clock.now())
    assert await make_worker(guarded).drain() == 1
    assert inbox.received == []
    [row] = await rows(db)
    assert row["state"] == "dead" and "non-public address" in row["last_error"]
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(hosts))).scalar_one() == 0


async def test_a_flush_cancelled_at_shutdown_keeps_its_rows_for_the_final_flush(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shutdown cancels the flusher; what it was recording is recorded by the final flush."""
    activity = await setup(db, dsettings, key_pair, clock)
    await queue_activity(db, activity, [inbox.url("/users/a/inbox")], clock.now())
    worker = make_worker(dsettings)
    claimed = await worker.claim(10)
    await worker._deliver(claimed[0])
    assert len(worker._buffer) == 1
    started = asyncio.Event()
    real_record = queue.record

    async def stuck(*args: Any, **kwargs: Any) -> Any:
        started.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(queue, "record", stuck)
    flushing = asyncio.create_task(worker.flush())
    await started.wait()
    flushing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flushing
    assert len(worker._buffer) == 1
    monkeypatch.setattr(queue, "record", real_record)
    await worker.flush()
    assert [r["state"] for r in await rows(db)] == ["sent"]
    assert worker.stats.recorded == 1
    await worker._close_connection()


async def test_deliveries_name_the_instance_in_their_user_agent(
    db: Database,
    dsettings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    # A receiving server's admin sees which instance calls, as Mastodon's own User-Agent says.
    await queue_one(db, dsettings, key_pair, clock.now(), inbox.url("/inbox"))
    await make_worker(dsettings).drain()
    (received,) = inbox.received
    assert f"(+{dsettings.site.base_url}/;" in received.headers["User-Agent"]
