"""Host health (pure) and the queue's claims on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from siarkan.config import Settings
from siarkan.distribution import queue
from siarkan.distribution.breaker import (
    UNAVAILABLE_PROBE,
    BreakerPolicy,
    HostHealth,
    after_failure,
    after_success,
    allowance,
    held_until,
    state_label,
    success_changes_nothing,
)
from siarkan.distribution.outbox import InboxTarget, spread_hosts
from siarkan.federation.keys import KeyPair
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.store.tables import deliveries
from tests.distribution.conftest import add_activity, queue_activity, seed_actor

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
POLICY = BreakerPolicy(failures=3, open_for=timedelta(minutes=5), unavailable_days=3)
LEASE = timedelta(seconds=60)


# --- breaker (pure) -----------------------------------------------------------------------------


def test_breaker_opens_after_consecutive_failures_and_closes_on_success() -> None:
    h = after_success(HostHealth("a.example"), NOW)
    assert allowance(h, POLICY, 8, NOW) == 8
    h = after_failure(h, NOW, POLICY)
    assert allowance(h, POLICY, 8, NOW) == 1  # failing: one at a time
    h = after_failure(after_failure(h, NOW, POLICY), NOW, POLICY)
    assert h.breaker_open_until == NOW + POLICY.open_for
    assert allowance(h, POLICY, 8, NOW) == 0 and state_label(h, NOW, POLICY) == "open"
    later = NOW + POLICY.open_for
    assert allowance(h, POLICY, 8, later) == 1  # half-open: a probe
    assert state_label(h, later, POLICY) == "half-open"
    h = after_success(h, later)
    assert (h.consecutive_failures, h.breaker_open_until, h.failure_days) == (0, None, ())
    assert allowance(h, POLICY, 8, later) == 8


def test_unknown_host_starts_slow() -> None:
    assert allowance(None, POLICY, 8, NOW) == 1
    assert allowance(HostHealth("new.example"), POLICY, 8, NOW) == 1


def test_failures_on_distinct_days_mark_unavailable_until_one_success() -> None:
    h = HostHealth("down.example", last_success_at=NOW - timedelta(days=30))
    for day in range(3):
        for _ in range(2):  # several failures on one day count once
            h = after_failure(h, NOW + timedelta(days=day), POLICY)
    assert h.unavailable and len(h.failure_days) == 3
    last = NOW + timedelta(days=2)
    assert h.breaker_open_until == last + UNAVAILABLE_PROBE
    assert state_label(h, last, POLICY) == "unavailable"
    assert allowance(h, POLICY, 8, last + UNAVAILABLE_PROBE) == 1  # the hourly probe
    h = after_success(h, last + UNAVAILABLE_PROBE)
    assert not h.unavailable and h.failure_days == ()


def test_hold_only_extends() -> None:
    h = held_until(HostHealth("x"), NOW + timedelta(minutes=10))
    assert held_until(h, NOW + timedelta(minutes=1)).breaker_open_until == NOW + timedelta(
        minutes=10
    )


def test_success_refreshes_last_success_rarely() -> None:
    h = after_success(HostHealth("x"), NOW)
    assert after_success(h, NOW + timedelta(seconds=30)) == h  # nothing to write


@pytest.mark.parametrize(
    "health",
    [
        HostHealth("new"),
        HostHealth("fresh", last_success_at=NOW - timedelta(seconds=30)),
        HostHealth("stale", last_success_at=NOW - timedelta(days=1)),
        HostHealth("failing", consecutive_failures=1, last_success_at=NOW),
        HostHealth("open", breaker_open_until=NOW, last_success_at=NOW),
        HostHealth("days", failure_days=("2026-11-27",), last_success_at=NOW),
        HostHealth("unavail", unavailable=True, last_success_at=NOW),
        HostHealth("scheme", last_success_at=NOW, signature_scheme="rfc9421"),
    ],
)
def test_success_changes_nothing_agrees_with_after_success(health: HostHealth) -> None:
    assert success_changes_nothing(health, NOW) == (after_success(health, NOW) == health)


# --- claims -------------------------------------------------------------------------------------


async def add_rows(db: Database, host_rows: dict[str, int], now: datetime = NOW) -> None:
    rows = [
        {
            "kind": "websub",
            "target": f"http://{host}/cb/{i}",
            "host": host,
            "shared": False,
            "state": "pending",
            "attempts": 0,
            "due_at": now,
            "created_at": now,
        }
        for host, n in host_rows.items()
        for i in range(n)
    ]
    async with db.begin() as conn:
        await conn.execute(insert(deliveries), rows)


async def claim(
    db: Database, worker: str = "w1", limit: int = 100, now: datetime = NOW
) -> list[queue.Claimed]:
    async with db.begin() as conn:
        return await queue.claim(
            conn, worker_id=worker, now=now, limit=limit, lease=LEASE, per_host=4
        )


HEALTHS = {
    "healthy": HostHealth("healthy", last_success_at=NOW),
    "failing": HostHealth("failing", consecutive_failures=1, last_success_at=NOW),
    "open": HostHealth("open", consecutive_failures=3, breaker_open_until=NOW + LEASE),
    "halfopen": HostHealth("halfopen", consecutive_failures=3, breaker_open_until=NOW),
    "unavail": HostHealth(
        "unavail", unavailable=True, last_success_at=NOW, breaker_open_until=NOW - LEASE
    ),
    "held": HostHealth("held", last_success_at=NOW, breaker_open_until=NOW + LEASE),
}


async def test_claim_follows_the_breaker_rules(db: Database) -> None:
    """The SQL allowance and breaker filter agree with breaker.allowance, host by host."""
    async with db.begin() as conn:
        await queue.save_hosts(conn, HEALTHS.values())
    await add_rows(db, {name: 10 for name in [*HEALTHS, "unknown"]})
    claimed = await claim(db)
    per_host: dict[str, int] = {}
    for row in claimed:
        per_host[row.host] = per_host.get(row.host, 0) + 1
    expected = {name: allowance(h, POLICY, 4, NOW) for name, h in HEALTHS.items()}
    expected["unknown"] = allowance(None, POLICY, 4, NOW)
    assert per_host == {k: v for k, v in expected.items() if v}
    # In-flight rows count against the allowance: nothing more until they are recorded.
    assert await claim(db, "w2") == []


async def test_claim_respects_due_time_leases_and_expiry(db: Database) -> None:
    await add_rows(db, {"later": 1}, now=NOW + timedelta(minutes=1))
    async with db.begin() as conn:
        await queue.save_hosts(conn, [HEALTHS["healthy"]])
    await add_rows(db, {"healthy": 3})
    first = await claim(db, "w1")
    assert {r.host for r in first} == {"healthy"} and len(first) == 3
    assert await claim(db, "w2") == []
    # The lease of a dead worker runs out: another worker takes the rows.
    again = await claim(db, "w2", now=NOW + LEASE + timedelta(seconds=2))
    assert {r.id for r in again} >= {r.id for r in first}
    async with db.connect() as conn:
        holders = set(
            (
                await conn.execute(
                    select(deliveries.c.leased_by).where(deliveries.c.host == "healthy")
                )
            ).scalars()
        )
    assert holders == {"w2"}


async def test_release_gives_rows_back(db: Database) -> None:
    async with db.begin() as conn:
        await queue.save_hosts(conn, [HEALTHS["healthy"]])
    await add_rows(db, {"healthy": 2})
    rows = await claim(db, "w1")
    async with db.begin() as conn:
        assert await queue.release(conn, [r.id for r in rows], "someone-else") == 0
        assert await queue.release(conn, [r.id for r in rows], "w1") == 2
    assert len(await claim(db, "w2")) == 2


async def test_record_skips_hosts_a_success_leaves_unchanged(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the health the worker knows, routine successes neither read nor write `hosts`;
    a failure is written, and the next success clears it (the returned health is current)."""
    from siarkan.distribution.lifecycle import Failure, Response, decide

    async with db.begin() as conn:
        await queue.save_hosts(conn, [HEALTHS["healthy"]])
    await add_rows(db, {"healthy": 3})
    rows = await claim(db, "w1")
    loads: list[list[str]] = []
    real_load = queue.load_hosts

    async def counted(conn, names, *, lock=False):  # type: ignore[no-untyped-def]
        names = sorted(set(names))
        loads.append(names)
        return await real_load(conn, names, lock=lock)

    monkeypatch.setattr(queue, "load_hosts", counted)

    def done(row: queue.Claimed, result: Response | Failure) -> queue.Done:
        return queue.Done(
            row, result, decide(result, attempts=1, max_attempts=16, now=NOW, jitter=0.0)
        )

    async def record(item: queue.Done, known: dict[str, HostHealth]) -> dict[str, HostHealth]:
        async with db.begin() as conn:
            return await queue.record(
                conn, [item], worker_id="w1", now=NOW, policy=POLICY, known=known
            )

    single_worker = db.engine.dialect.name == "sqlite"  # PostgreSQL always reads hosts
    known = {"healthy": HEALTHS["healthy"]}
    known |= await record(done(rows[0], Response(202)), known)
    assert loads == ([] if single_worker else [["healthy"]])
    skipped = len(loads)
    known |= await record(done(rows[1], Failure("timeout")), known)
    assert len(loads) == skipped + 1 and known["healthy"].consecutive_failures == 1
    known |= await record(done(rows[2], Response(202)), known)
    assert len(loads) == skipped + 2 and known["healthy"].consecutive_failures == 0
    async with db.connect() as conn:
        stored = await real_load(conn, ["healthy"])
    assert stored["healthy"] == known["healthy"]


async def test_a_failure_and_a_success_in_one_batch_leave_the_host_healthy(db: Database) -> None:
    """The success after a failure of the same host in one batch is not skipped as a no-op."""
    from siarkan.distribution.lifecycle import Failure, Response, decide

    async with db.begin() as conn:
        await queue.save_hosts(conn, [HEALTHS["healthy"]])
    await add_rows(db, {"healthy": 2})
    first, second = await claim(db, "w1")
    batch = [
        queue.Done(r, res, decide(res, attempts=1, max_attempts=16, now=NOW, jitter=0.0))
        for r, res in ((first, Failure("timeout")), (second, Response(202)))
    ]
    async with db.begin() as conn:
        await queue.record(conn, batch, worker_id="w1", now=NOW, policy=POLICY, known=dict(HEALTHS))
    async with db.connect() as conn:
        stored = await queue.load_hosts(conn, ["healthy"])
    assert stored["healthy"].consecutive_failures == 0


async def test_concurrent_claims_never_share_a_row(db: Database, db_url: str) -> None:
    """Several workers with their own engines claim at once: each row goes to one of them."""
    hosts = {f"h{i}.example": 30 for i in range(20)}
    async with db.begin() as conn:
        await queue.save_hosts(conn, [HostHealth(h, last_success_at=NOW) for h in hosts])
    await add_rows(db, hosts)
    engines = [Database(create_engine(db_url)) for _ in range(4)]
    seen: dict[int, str] = {}

    async def worker(index: int, database: Database) -> None:
        for _ in range(40):
            async with database.begin() as conn:
                rows = await queue.claim(
                    conn, worker_id=f"w{index}", now=NOW, limit=25, lease=LEASE, per_host=30
                )
            for row in rows:
                assert row.id not in seen, f"row {row.id} claimed by {seen[row.id]} and w{index}"
                seen[row.id] = f"w{index}"
            if rows:  # "send" and record them as sent, so the next claim sees new rows
                async with database.begin() as conn:
                    await conn.execute(
                        update(deliveries)
                        .where(deliveries.c.id.in_([r.id for r in rows]))
                        .values(state="sent", lease_until=None, leased_by=None)
                    )
            await asyncio.sleep(0)

    try:
        await asyncio.gather(*(worker(i, e) for i, e in enumerate(engines)))
    finally:
        for e in engines:
            await e.close()
    assert len(seen) == 600


async def test_requeue_and_kill_held(db: Database) -> None:
    await add_rows(db, {"gone.example": 2, "fine.example": 1})
    async with db.begin() as conn:
        await queue.save_hosts(
            conn,
            [HostHealth("gone.example", unavailable=True, breaker_open_until=NOW + LEASE)],
        )
        killed = await queue.kill_held(conn, created_before=NOW + timedelta(seconds=1), now=NOW)
        assert killed == 2
        ids = list(
            (
                await conn.execute(select(deliveries.c.id).where(deliveries.c.state == "dead"))
            ).scalars()
        )
        assert await queue.requeue_dead(conn, now=NOW, ids=ids[:1]) == 1
        assert await queue.requeue_dead(conn, now=NOW) == 1
        states = list((await conn.execute(select(deliveries.c.state, deliveries.c.attempts))).all())
    assert sorted(s for s, _ in states) == ["pending", "pending", "pending"]


@pytest.mark.parametrize("status", [None, "pending", "failed"])
async def test_list_deliveries_filters(db: Database, status: str | None) -> None:
    await add_rows(db, {"a": 2})
    async with db.begin() as conn:
        await conn.execute(
            update(deliveries).where(deliveries.c.id == 1).values(state="dead", attempts=3)
        )
        listed = await queue.list_deliveries(conn, status=status)
    expected = {None: 2, "pending": 1, "failed": 1}[status]
    assert len(listed) == expected


# --- fan-out order ------------------------------------------------------------------------------


def test_spread_hosts_takes_hosts_in_turns() -> None:
    targets = [
        InboxTarget("https://big.example/users/a/inbox"),
        InboxTarget("https://big.example/users/b/inbox"),
        InboxTarget("https://big.example/users/a/inbox"),  # the same inbox twice: once
        InboxTarget("https://BIG.example/users/c/inbox"),
        InboxTarget("https://small.example/inbox", shared=True),
        InboxTarget("https://other.example/users/z/inbox"),
    ]
    assert [t.inbox for t in spread_hosts(targets)] == [
        "https://big.example/users/a/inbox",
        "https://small.example/inbox",
        "https://other.example/users/z/inbox",
        "https://big.example/users/b/inbox",
        "https://BIG.example/users/c/inbox",
    ]
    assert spread_hosts([]) == []


async def test_a_fan_out_gives_the_first_claim_work_for_every_host(
    db: Database, settings: Settings, key_pair: KeyPair
) -> None:
    """Followers of one big host listed first must not fill the claim's window of oldest rows
    (the big host, new to us, may only have one request in flight)."""
    await seed_actor(db, settings, key_pair, now=NOW)
    activity_id = await add_activity(db, settings, now=NOW)
    big = [f"https://big.example/users/u{i}/inbox" for i in range(300)]
    small = [f"https://s{i}.example/inbox" for i in range(60)]
    await queue_activity(db, activity_id, big + small, NOW)
    claimed = await claim(db, limit=70)
    assert {row.host for row in claimed} == {"big.example"} | {f"s{i}.example" for i in range(60)}
    assert len(claimed) == 61


async def test_a_success_in_the_same_flush_does_not_lift_a_429_hold(db: Database) -> None:
    """A rate-limited host answers 429 to one request and 202 to another sent at the same
    time; whatever their order in the recorded batch, the host stays held as it asked."""
    from siarkan.distribution.breaker import BreakerPolicy
    from siarkan.distribution.lifecycle import Response, decide
    from siarkan.distribution.queue import Claimed, Done

    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

    def done(row_id: int, status: int, retry_after: str | None = None) -> Done:
        row = Claimed(row_id, "activitypub", "https://m.example/inbox", "m.example", None, None,
                      None, "utama", True, 0)  # fmt: skip
        result = Response(status, retry_after)
        return Done(row, result, decide(result, attempts=1, max_attempts=16, now=now))

    async with db.begin() as conn:
        healths = await queue.record(
            conn, [done(1, 429, "600"), done(2, 202)], worker_id="w", now=now,
            policy=BreakerPolicy(),
        )  # fmt: skip
    assert healths["m.example"].breaker_open_until == now + timedelta(minutes=10)
    async with db.connect() as conn:
        [health] = (await queue.load_hosts(conn, ["m.example"])).values()
    assert health.breaker_open_until == now + timedelta(minutes=10)
    assert health.consecutive_failures == 0 and health.last_success_at == now


async def test_deliveries_are_indexed_by_activity(db: Database) -> None:
    """Every enqueue reads its rows back by activity_id, and edits and thread parts find the
    deliveries they follow by it: without an index each is a scan of a week of sent rows."""
    from sqlalchemy import inspect

    async with db.connect() as conn:
        indexes = await conn.run_sync(lambda c: inspect(c).get_indexes("deliveries"))
    assert any(ix["column_names"][:1] == ["activity_id"] for ix in indexes)
