"""The delivery worker: a loop that claims due rows and applies the lifecycle to them.

    loop: claim (a batch when few rows wait; per-host allowance, breaker)
        | rows whose leases kept running out without a result: dead at once (abandoned)
        | sender.prepare
        | ready queue | sender.send (a task per busy slot; bounded globally and per host)
        | lifecycle.decide | buffer | record (every FLUSH_SECONDS or FLUSH_ROWS, one transaction)

Sends run in two lanes: proven hosts (`delivery.concurrency` at a time), and probes (one request
at a time to a host that is new, failing or half-open; twice as many slots, as probes mostly
wait), so dead hosts never take the slots healthy ones are served from. A claimed row is
waiting (not sent yet), in flight, or sent and waiting to be recorded, so a crash repeats at
most the rows in flight plus one unrecorded buffer (receivers dedupe by activity id). Shutdown
stops claiming, lets in-flight sends finish within a grace period, records them and gives every
other claim back.

A claimed row may wait in the ready queue longer than its lease (a batch of 200 behind four
slots and slow inboxes): the worker renews the leases of the rows it holds every quarter lease,
and never starts a row with less than half its lease left or that another worker took since.
Otherwise the lease runs out while the row waits, the row is claimed again (by another worker,
or by this one) and the inbox gets it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import aiohttp
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.clock import Clock
from siarkan.config import Settings
from siarkan.distribution import queue
from siarkan.distribution.activitypub import ActivityPubSender
from siarkan.distribution.breaker import BreakerPolicy, HostHealth
from siarkan.distribution.lifecycle import (
    Effect,
    Failure,
    Obsolete,
    State,
    abandoned,
    decide,
    max_attempts_for,
)
from siarkan.distribution.queue import Claimed, Done
from siarkan.distribution.sending import Sender, Sent
from siarkan.distribution.topics import RenderTopic
from siarkan.distribution.websub_send import FeedRenderer, NotifySender, PingSender, VerifySender
from siarkan.metrics import HotHistogramChild, Metrics
from siarkan.store.db import Database

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05
PROBE_LANE_FACTOR = 2
MAX_HEALTHS = 10_000  # hosts whose health the worker remembers between claim and record
HEALTH_TTL = 5.0  # seconds a host's health read from the database is used without a re-read
SHUTDOWN_GRACE = 10.0
RENEW_EVERY = 0.25  # of the lease: held rows' leases are renewed this often
MIN_LEASE_LEFT = 0.5  # of the lease: a row with less left is not started (left to lapse)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


def default_sign_threads() -> int:
    """Signing threads: none on one core (a thread hop only costs there), else up to 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(4, (cores or 1) - 1)


def breaker_policy(settings: Settings) -> BreakerPolicy:
    d = settings.delivery
    return BreakerPolicy(
        failures=d.breaker_failures,
        open_for=timedelta(seconds=d.breaker_seconds),
        unavailable_days=d.unavailable_days,
    )


def default_senders(
    settings: Settings,
    db: Database,
    clock: Clock,
    session: aiohttp.ClientSession,
    render: RenderTopic | None = None,
    sign_pool: Executor | None = None,
) -> dict[str, Sender]:
    render = render or FeedRenderer(settings, db, clock)
    senders: list[Sender] = [
        ActivityPubSender(settings, sign_pool),
        NotifySender(settings, session, render),
        VerifySender(settings, session),
        PingSender(settings, session, render),
    ]
    return {str(s.kind): s for s in senders}


@dataclass(slots=True)
class _HostSlot:
    """A host's send slots (`delivery.per_host`): taken at once while one is free, else waited
    for in turn. asyncio.Semaphore does the same, but its acquire builds two coroutines and a
    generator (Python 3.11) on every delivery, though a fan-out never waits here."""

    free: int
    users: int = 0  # sends holding or waiting for a slot
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)

    def take(self) -> bool:
        """A slot, if one is free now. Waiters exist only while none is free (`give`)."""
        if self.free > 0:
            self.free -= 1
            return True
        return False

    async def wait(self) -> None:
        """A slot, once `give` hands this caller one."""
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.cancelled():
                with contextlib.suppress(ValueError):  # `give` may have dropped it already
                    self.waiters.remove(waiter)
            else:
                self.give()  # handed a slot while being cancelled: pass it on
            raise

    def give(self) -> None:
        """Hand the slot to the first waiter, or free it."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1


@dataclass(slots=True)
class WorkerStats:
    claimed: int = 0
    recorded: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


class Worker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        session: aiohttp.ClientSession,
        *,
        metrics: Metrics | None = None,
        senders: Mapping[str, Sender] | None = None,
        render: RenderTopic | None = None,
        worker_id: str | None = None,
        rng: random.Random | None = None,
        sign_threads: int | None = None,
    ) -> None:
        self.db = db
        if sign_threads is None:
            sign_threads = default_sign_threads()
        self.sign_pool = (
            ThreadPoolExecutor(sign_threads, thread_name_prefix="sign") if sign_threads else None
        )
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.worker_id = worker_id or new_worker_id()
        self.senders: dict[str, Sender] = dict(
            senders or default_senders(settings, db, clock, session, render, self.sign_pool)
        )
        self.policy = breaker_policy(settings)
        self.rng = rng or random.Random()
        self.stats = WorkerStats()
        d = settings.delivery
        self.concurrency = d.concurrency
        # Probes mostly wait (on hosts that are new, failing or silent until the read timeout),
        # so their lane is wider: a handful of dead hosts must not hold back every new one.
        self._lane_size = {False: d.concurrency, True: d.concurrency * PROBE_LANE_FACTOR}
        self.lease = timedelta(seconds=d.lease_seconds)
        self._min_lease_left = self.lease * MIN_LEASE_LEFT
        # Claimed rows wait in `_ready` until a send slot frees; a new claim is made when fewer
        # than `low_water` wait, so claims are batches, not one row per finished send.
        self.batch = d.batch_size
        self.low_water = max(1, d.batch_size // 2)
        self.flush_rows = max(32, d.concurrency)
        # Two lanes: proven hosts, and probes of unproven or failing hosts (one request per
        # host at a time). A host that never answers then ties up a probe slot for the read
        # timeout, never the slots healthy hosts are served from.
        self._ready: dict[bool, deque[Claimed]] = {False: deque(), True: deque()}
        self._running: dict[bool, int] = {False: 0, True: 0}
        self._inflight: set[asyncio.Task[None]] = set()
        self._held: set[int] = set()  # claimed and not yet recorded
        self._lease_until: dict[int, datetime] = {}  # held row -> its lease as last written
        self._renewed = time.monotonic()
        self._held_per_host: Counter[str] = Counter()
        self._probing: set[str] = set()  # hosts allowed one request at a time (breaker.py)
        self._buffer: list[Done] = []
        self._flush_lock = asyncio.Lock()
        self._flush_now = asyncio.Event()
        self._signal = asyncio.Event()
        self._hosts: dict[str, _HostSlot] = {}
        # Host health as last read or written: lets `record` skip hosts a success leaves as
        # they are (queue.record).
        self._healths: dict[str, HostHealth] = {}
        self._health_read: dict[str, float] = {}  # host -> when its health was read/written
        # One connection for the worker's own claims and records (opening one per transaction
        # costs more than the statements on SQLite); used by one transaction at a time.
        self._conn: AsyncConnection | None = None
        self._conn_lock = asyncio.Lock()
        self._stopping = False
        self._seconds: dict[str, HotHistogramChild] = {}

    # --- public ---------------------------------------------------------------------------------

    def notify(self) -> None:
        """Rows were queued in this process: look now instead of at the next poll."""
        self._signal.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, then finish or release what is in flight."""
        watcher = asyncio.create_task(self._relay(stop))
        flusher = asyncio.create_task(self._flush_loop(stop))
        log.info("delivery worker started", extra={"worker": self.worker_id})
        try:
            while not stop.is_set():
                self._dispatch()
                asked = got = 0
                waiting = self._waiting()
                if waiting < self.low_water:
                    asked = self.batch - waiting
                    got = await self._claim_ready(asked)
                    self._dispatch()
                if got and got == asked:
                    continue  # more may be due right now
                if self._dispatchable():
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._signal.wait(), timeout=self.settings.delivery.poll_interval
                    )
                self._signal.clear()
        finally:
            await self._shutdown()
            for task in (watcher, flusher):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self.flush()
            for lane in self._ready.values():
                lane.clear()
            await self._release_held()
            await self._close_connection()
            for sender in self.senders.values():
                await sender.close()
            if self.sign_pool is not None:
                self.sign_pool.shutdown(wait=False)
            log.info("delivery worker stopped", extra={"worker": self.worker_id})

    async def drain(self, *, rounds: int = 10_000) -> int:
        """Deliver everything due now, batch by batch (tests, `siarkan deliver --once`)."""
        total = 0
        for _ in range(rounds):
            rows = await self.claim(self.settings.delivery.batch_size)
            if not rows:
                break
            await asyncio.gather(*(self._deliver(row) for row in rows))
            await self.flush()
            total += len(rows)
        await self._close_connection()
        for sender in self.senders.values():
            await sender.close()
        return total

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the worker's own connection (reopened after any error)."""
        async with self._conn_lock:
            if self._conn is None:
                self._conn = await self.db.engine.connect()
            try:
                async with self._conn.begin():
                    yield self._conn
            except BaseException:
                await self._close_connection()
                raise

    async def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def claim(self, limit: int) -> list[Claimed]:
        """Lease due rows and let their senders load what they need, in one transaction: a
        batch is either claimed and ready to send, or not claimed at all."""
        now = self.clock.now()
        abandoned: list[Done] = []
        async with self.transaction() as conn:
            while True:
                rows = await queue.claim(
                    conn,
                    worker_id=self.worker_id,
                    now=now,
                    limit=limit,
                    lease=self.lease,
                    per_host=self.settings.delivery.per_host,
                    skip_hosts=self._saturated(),
                )
                # A row of ours whose lease ran out (the loop stalled past a renewal) is
                # claimed again: it is already waiting or in flight here, and must not be sent
                # twice.
                rows = [r for r in rows if r.id not in self._held]
                given_up = self._abandon(rows, now)
                if not given_up:
                    break
                # Recorded in the claim's transaction, not sent or prepared: preparing or
                # sending it is what kept killing its workers.
                settle = {kind: sender.settle for kind, sender in self.senders.items()}
                await queue.record(
                    conn, given_up, worker_id=self.worker_id, now=now, policy=self.policy,
                    settle=settle,
                )  # fmt: skip
                abandoned += given_up
                gone = {d.row.id for d in given_up}
                rows = [r for r in rows if r.id not in gone]
                if rows:
                    break
                # A batch of given-up rows only: claim again, or the caller would take the
                # empty batch for "nothing due" while sendable rows wait behind them.
            if rows:
                await self._prepare(conn, rows)
        self._recorded(abandoned)
        self._held.update(r.id for r in rows)
        until = now + self.lease
        self._lease_until.update((r.id, until) for r in rows)
        self._held_per_host.update(r.host for r in rows)
        self.stats.claimed += len(rows)
        return rows

    async def _prepare(self, conn: AsyncConnection, rows: list[Claimed]) -> None:
        """Note which hosts are probed, and let each kind's sender load what its rows need."""
        batch_hosts = {r.host for r in rows}
        await self._refresh_hosts(conn, batch_hosts)
        schemes: dict[str, str] = {}
        for host in batch_hosts:
            health = self._healths.get(host)
            if health is None or health.probing:
                self._probing.add(host)
            else:
                self._probing.discard(host)
            if health is not None and health.signature_scheme:
                schemes[host] = health.signature_scheme
        by_kind: dict[str, list[Claimed]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(row)
        for kind, items in by_kind.items():
            sender = self.senders.get(kind)
            if sender is not None:
                await sender.prepare(conn, items, schemes)

    def _abandon(self, rows: list[Claimed], now: datetime) -> list[Done]:
        """The claimed rows whose leases ran out too often without a result, as dead tries."""
        bound = self.settings.delivery.max_lease_expiries
        given_up: list[Done] = []
        for row in rows:
            result = abandoned(row.lease_expiries, bound)
            if result is not None:
                outcome = decide(result, attempts=row.attempts + 1, max_attempts=1, now=now)
                given_up.append(Done(row, result, outcome))
        return given_up

    def _recorded(self, batch: list[Done]) -> None:
        """Logs, metrics and stats of tries recorded (not held: unhold is the caller's)."""
        for done in batch:
            self._observe(done)
        self._count(batch)
        self.stats.recorded += len(batch)

    async def _refresh_hosts(self, conn: AsyncConnection, names: set[str]) -> None:
        """Read the health of the hosts not read or written within HEALTH_TTL. A fan-out claims
        each host's rows over many batches; our own records keep `_healths` current between
        reads, and other workers' findings reach us within the TTL."""
        now = time.monotonic()
        if len(self._healths) > MAX_HEALTHS:
            self._healths.clear()
            self._health_read.clear()
        stale = {h for h in names if now - self._health_read.get(h, -HEALTH_TTL) >= HEALTH_TTL}
        if not stale:
            return
        healths = await queue.load_hosts(conn, stale)
        for host in stale:
            self._health_read[host] = now
            health = healths.get(host)
            if health is None:
                self._healths.pop(host, None)  # never recorded: a new host
            else:
                self._healths[host] = health

    async def flush(self) -> None:
        """Record finished tries (one transaction); on a database error keep them for later."""
        async with self._flush_lock:
            batch, self._buffer = self._buffer, []
            if not batch:
                return
            settle = {kind: sender.settle for kind, sender in self.senders.items()}
            try:
                async with self.transaction() as conn:
                    healths = await queue.record(
                        conn,
                        batch,
                        worker_id=self.worker_id,
                        now=self.clock.now(),
                        policy=self.policy,
                        settle=settle,
                        known=self._healths,
                    )
            except asyncio.CancelledError:
                # Shutdown cancels the flusher: the final flush records these (a repeat of a
                # record that did commit finds no row still leased to this worker).
                self._buffer[:0] = batch
                raise
            except Exception:
                log.exception("recording deliveries failed; will retry", extra={"rows": len(batch)})
                self._buffer[:0] = batch
                return
        self._healths.update(healths)
        read = time.monotonic()
        self._health_read.update((host, read) for host in healths)
        for done in batch:
            self._unhold(done.row)
        self._recorded(batch)
        self._signal.set()  # a recorded thread part may unblock the next one

    async def renew(self) -> None:
        """Extend the leases of the rows held and not yet sent or in flight; forget waiting
        rows that are not ours any more (their lease ran out and another worker took them)."""
        self._renewed = time.monotonic()
        done = {d.row.id for d in self._buffer}
        ids = self._held - done
        if not ids:
            return
        until = self.clock.now() + self.lease
        try:
            async with self.transaction() as conn:
                kept = await queue.renew(conn, ids, self.worker_id, until)
        except Exception:
            log.exception("renewing leases failed", extra={"rows": len(ids)})
            return
        for row_id in kept:
            if row_id in self._held:
                self._lease_until[row_id] = until
        # Rows recorded meanwhile are not kept either; only waiting ones are dropped.
        lost = ids - kept
        dropped = 0
        for lane in self._ready.values():
            for row in [r for r in lane if r.id in lost]:
                lane.remove(row)
                self._unhold(row)
                dropped += 1
        if dropped:
            log.warning("claims lost to another worker; not sent", extra={"rows": dropped})

    # --- internals ------------------------------------------------------------------------------

    def _unhold(self, row: Claimed) -> None:
        if row.id not in self._held:
            return
        self._held.discard(row.id)
        self._lease_until.pop(row.id, None)
        self._held_per_host[row.host] -= 1
        if self._held_per_host[row.host] <= 0:
            del self._held_per_host[row.host]
            # The host's send slot lives while this worker holds rows of it: a fan-out
            # sends a host's rows one after another, each needing the same slot.
            slot = self._hosts.get(row.host)
            if slot is not None and slot.users == 0:
                del self._hosts[row.host]

    def _lease_left(self, row: Claimed, now: datetime) -> bool:
        """Is enough of the row's lease left to start it? One with less is not sent: its
        lease lapses and whoever claims it next sends it once."""
        until = self._lease_until.get(row.id)
        if until is None:
            return row.id in self._held
        return until - now >= self._min_lease_left

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._signal.set()

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        """The one place records are written while running: every FLUSH_SECONDS, or at once
        when `flush_rows` tries wait. Sends only append to the buffer; had each send that
        filled it waited for a flush itself, the sends finishing during one flush would each
        write a few rows, and a fan-out would take several times the transactions."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_SECONDS):
                    await self._flush_now.wait()
            self._flush_now.clear()
            if self._buffer:
                await self.flush()
            if time.monotonic() - self._renewed >= self.lease.total_seconds() * RENEW_EVERY:
                await self.renew()

    def _saturated(self) -> set[str]:
        """Hosts this worker already holds as many rows of as it may have in flight."""
        per_host = self.settings.delivery.per_host
        return {
            host
            for host, held in self._held_per_host.items()
            if held >= per_host or host in self._probing
        }

    async def _claim_ready(self, limit: int) -> int:
        try:
            rows = await self.claim(limit)
        except Exception:
            log.exception("claiming deliveries failed")
            await asyncio.sleep(self.settings.delivery.poll_interval)
            return 0
        for row in rows:
            self._ready[row.host in self._probing].append(row)
        return len(rows)

    def _waiting(self) -> int:
        return len(self._ready[False]) + len(self._ready[True])

    def _dispatchable(self) -> bool:
        return any(
            self._ready[lane] and self._running[lane] < self._lane_size[lane]
            for lane in (False, True)
        )

    def _dispatch(self) -> None:
        """Start waiting rows while their lane has free slots: `concurrency` for proven hosts,
        PROBE_LANE_FACTOR times that for new, failing and half-open ones."""
        for lane in (False, True):
            ready = self._ready[lane]
            while ready and self._running[lane] < self._lane_size[lane]:
                self._running[lane] += 1
                task = asyncio.create_task(self._drive(lane, ready.popleft()))
                self._inflight.add(task)
                task.add_done_callback(partial(self._finished, lane))

    async def _drive(self, lane: bool, row: Claimed) -> None:
        """One busy slot: deliver `row`, then the lane's next waiting rows until none wait.
        A task per slot rather than per row: a fan-out keeps its slots busy for thousands of
        rows, and a task's start and finish cost about as much as the worker's own work."""
        ready = self._ready[lane]
        now = self.clock.now()
        while True:
            if self._lease_left(row, now):
                # The time read as a send finished serves the next row's lease check (and its
                # send, when no wait comes between): nothing is awaited in between.
                now = await self._deliver(row, now)
            else:
                log.warning("lease ran out before sending; left for a later claim",
                            extra={"delivery_id": row.id})  # fmt: skip
                self._unhold(row)
            if not ready or self._waiting() < self.low_water:
                self._signal.set()  # the loop claims more before the lane runs dry
            if not ready or self._stopping:
                return
            row = ready.popleft()

    def _finished(self, lane: bool, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._running[lane] -= 1
        if self._ready[lane] and not self._stopping:
            self._dispatch()
        if not self._ready[lane] or self._waiting() < self.low_water:
            self._signal.set()  # the loop claims more before the lane runs dry

    async def _deliver(self, row: Claimed, now: datetime | None = None) -> datetime:
        """Send `row` within its host's slots and buffer the result; the time it finished.
        `now`: the time, if the caller read it with nothing awaited since."""
        sender = self.senders.get(row.kind)
        slot = self._hosts.get(row.host)
        if slot is None:
            slot = self._hosts[row.host] = _HostSlot(self.settings.delivery.per_host)
        slot.users += 1
        started = time.perf_counter()
        try:
            if not slot.take():
                await slot.wait()
                now = None
            try:
                if sender is None:
                    sent = Sent(Obsolete(f"no sender for kind {row.kind!r}"))
                else:
                    try:
                        sent = await sender.send(row, self.clock.now() if now is None else now)
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # a sender bug must not stop the worker
                        log.exception("sender failed", extra={"delivery_id": row.id})
                        sent = Sent(Failure(f"internal error: {type(exc).__name__}: {exc}"))
            finally:
                slot.give()
        finally:
            slot.users -= 1
        now = self.clock.now()
        outcome = decide(
            sent.result,
            attempts=row.attempts + 1,
            max_attempts=max_attempts_for(row.kind, self.settings.delivery.max_attempts),
            now=now,
            jitter=self.rng.random(),
        )
        self._buffer.append(
            Done(
                row,
                sent.result,
                outcome,
                seconds=time.perf_counter() - started,
                scheme=sent.scheme,
                detail=sent.detail,
            )
        )
        if len(self._buffer) >= self.flush_rows:
            self._flush_now.set()
        return now

    async def _shutdown(self) -> None:
        self._stopping = True
        if not self._inflight:
            return
        grace = min(self.settings.server.shutdown_timeout, SHUTDOWN_GRACE)
        _, pending = await asyncio.wait(set(self._inflight), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _release_held(self) -> None:
        held = self._held - {d.row.id for d in self._buffer}
        if not held:
            return
        try:
            async with self.transaction() as conn:
                released = await queue.release(conn, held, self.worker_id)
        except Exception:
            log.exception("releasing claims failed; their leases will expire")
            return
        for row_id in held:
            self._lease_until.pop(row_id, None)
        self._held -= held
        log.info("released claims", extra={"worker": self.worker_id, "rows": released})

    def _count(self, batch: list[Done]) -> None:
        """Deliveries by kind and outcome: one increment per group (each takes a lock)."""
        if self.metrics is None:
            return
        groups = Counter((d.row.kind, d.outcome.state.value) for d in batch)
        for (kind, state), n in groups.items():
            self.metrics.deliveries.labels(kind, state).inc(n)

    def _observe(self, done: Done) -> None:
        row, outcome = done.row, done.outcome
        state = outcome.state.value
        self.stats.by_state[state] = self.stats.by_state.get(state, 0) + 1
        if self.metrics is not None:
            seconds = self._seconds.get(row.kind)
            if seconds is None:  # a labelled child per kind, looked up once (each takes a lock)
                seconds = self._seconds[row.kind] = self.metrics.delivery_seconds.labels(row.kind)
            seconds.observe(done.seconds)
            if Effect.HOST_DOWN in outcome.effects:
                self.metrics.host_failures.labels(row.host).inc()
        if outcome.state is State.SENT and not log.isEnabledFor(logging.DEBUG):
            return
        level = {
            State.SENT: logging.DEBUG,
            State.RETRYING: logging.INFO,
            State.SKIPPED: logging.INFO,
            State.DEAD: logging.WARNING,
        }.get(outcome.state, logging.INFO)
        log.log(
            level,
            f"delivery {outcome.state.value}",
            extra={
                "delivery_id": row.id,
                "kind": row.kind,
                "host": row.host,
                "status": done.status,
                "attempt": row.attempts + (0 if isinstance(done.result, Obsolete) else 1),
                "next_due": outcome.due_at.isoformat() if outcome.due_at else None,
                "reason": outcome.reason,
                "seconds": round(done.seconds, 3),
            },
        )
