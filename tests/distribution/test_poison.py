"""Poison rows: a row whose sending kills or hangs its worker every time is given up after
delivery.max_lease_expiries leases that ended without a result, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from siarkan.clock import ManualClock
from siarkan.config import Settings
from siarkan.distribution import queue
from siarkan.distribution.worker import Worker
from siarkan.federation.keys import KeyPair
from siarkan.metrics import Metrics
from siarkan.store.db import Database
from tests.distribution.conftest import (
    add_activity,
    queue_activity,
    queue_one,
    rows,
    tune,
)
from tests.distribution.servers import Inbox, Reply


async def _claim_and_die(make_worker: Callable[..., Worker], s: Settings) -> None:
    """A worker claims the row and is killed before it records anything (OOM, segfault)."""
    worker = make_worker(s)
    assert len(await worker.claim(10)) == 1
    await worker._close_connection()


async def test_a_row_whose_lease_keeps_expiring_ends_dead_and_can_be_retried(
    db: Database,
    settings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    s = tune(settings, max_lease_expiries=3)
    await queue_one(db, s, key_pair, clock.now(), inbox.url("/inbox"))
    lease = timedelta(seconds=s.delivery.lease_seconds)
    # Each way a lease ends without a result counts: taken over by the next claim, cleared
    # by housekeeping, cleared at a SQLite start-up.
    await _claim_and_die(make_worker, s)
    clock.advance(lease + timedelta(seconds=1))
    await _claim_and_die(make_worker, s)
    clock.advance(lease + timedelta(seconds=1))
    async with db.begin() as conn:
        assert await queue.release_expired(conn, clock.now()) == 1
    await _claim_and_die(make_worker, s)
    async with db.begin() as conn:
        assert await queue.release_all(conn) == 1
    [row] = await rows(db)
    assert (row["state"], row["lease_expiries"], row["attempts"]) == ("pending", 3, 0)

    metrics = Metrics()
    worker = make_worker(s, metrics=metrics)
    assert await worker.drain() == 0  # not sent again
    assert inbox.received == []
    [row] = await rows(db)
    assert (row["state"], row["lease_expiries"]) == ("dead", 3)  # the count shows why
    assert row["last_error"] == "abandoned: lease expired 3 times without a result"
    assert row["finished_at"] == clock.now()
    assert row["lease_until"] is None and row["leased_by"] is None
    assert metrics.deliveries.labels("activitypub", "dead")._value.get() == 1
    async with db.connect() as conn:  # `siarkan deliveries --status failed` lists it
        failed = await queue.list_deliveries(conn, status="failed")
    assert [(r["id"], r["last_error"]) for r in failed] == [(row["id"], row["last_error"])]

    # `siarkan retry`: a fresh lease count too, or it would be given up again at once.
    async with db.begin() as conn:
        assert await queue.requeue_dead(conn, now=clock.now()) == 1
    assert await worker.drain() == 1
    [row] = await rows(db)
    assert (row["state"], row["lease_expiries"]) == ("sent", 0)
    assert len(inbox.received) == 1


async def test_fewer_expiries_than_the_bound_are_still_sent(
    db: Database,
    settings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    s = tune(settings, max_lease_expiries=3)
    await queue_one(db, s, key_pair, clock.now(), inbox.url("/inbox"))
    for _ in range(2):
        await _claim_and_die(make_worker, s)
        clock.advance(timedelta(seconds=s.delivery.lease_seconds + 1))
    assert await make_worker(s).drain() == 1
    [row] = await rows(db)
    assert (row["state"], row["lease_expiries"], row["attempts"]) == ("sent", 2, 1)
    assert len(inbox.received) == 1


async def test_a_recorded_try_starts_the_count_again(
    db: Database,
    settings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    """Expiries count one after another: a row retried for days (a host down) is not given
    up because two unrelated crashes hit it a day apart."""
    s = tune(settings, max_lease_expiries=3)
    await queue_one(db, s, key_pair, clock.now(), inbox.url("/inbox"))
    lease = timedelta(seconds=s.delivery.lease_seconds + 1)
    for _ in range(2):
        await _claim_and_die(make_worker, s)
        clock.advance(lease)
    inbox.default = Reply(503)
    assert await make_worker(s).drain() == 1
    [row] = await rows(db)
    assert (row["state"], row["lease_expiries"], row["attempts"]) == ("retrying", 0, 1)
    clock.advance(timedelta(hours=1))
    for _ in range(2):
        await _claim_and_die(make_worker, s)
        clock.advance(lease)
    inbox.default = Reply(202)
    assert await make_worker(s).drain() == 1
    [row] = await rows(db)
    assert (row["state"], row["attempts"]) == ("sent", 2)


async def test_a_retried_row_records_tries_not_expired_leases(
    db: Database,
    settings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    # The strictest bound: one lease ending without a result would kill the row.
    s = tune(settings, max_lease_expiries=1)
    await queue_one(db, s, key_pair, clock.now(), inbox.url("/inbox"))
    inbox.default = Reply(503)
    worker = make_worker(s)
    for _ in range(4):
        assert await worker.drain() == 1
        clock.advance(timedelta(hours=1))
    [row] = await rows(db)
    assert (row["state"], row["attempts"], row["lease_expiries"]) == ("retrying", 4, 0)
    assert row["last_error"] == "HTTP 503"
    inbox.default = Reply(202)
    assert await worker.drain() == 1
    [row] = await rows(db)
    assert (row["state"], row["attempts"]) == ("sent", 5)


async def test_a_batch_of_given_up_rows_does_not_hide_the_rows_behind_it(
    db: Database,
    settings: Settings,
    key_pair: KeyPair,
    clock: ManualClock,
    inbox: Inbox,
    make_worker: Callable[..., Worker],
) -> None:
    """The claim that gives rows up claims again: an empty batch means "nothing due" to the
    worker's loop, which would wait a poll interval while sendable rows are due."""
    s = tune(settings, max_lease_expiries=1, batch_size=1)
    await queue_one(db, s, key_pair, clock.now(), inbox.url("/poison"))
    await _claim_and_die(make_worker, s)
    clock.advance(timedelta(seconds=s.delivery.lease_seconds + 1))
    second = await add_activity(db, s, token="a2", now=clock.now())
    await queue_activity(db, second, [inbox.url("/inbox")], clock.now())
    worker = make_worker(s)
    claimed = await worker.claim(1)
    assert [r.target for r in claimed] == [inbox.url("/inbox")]
    assert {r["target"]: r["state"] for r in await rows(db)}[inbox.url("/poison")] == "dead"
    await worker._close_connection()
