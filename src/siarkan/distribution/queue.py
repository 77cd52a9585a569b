"""The delivery queue in the `deliveries` table: claim due rows, record what happened.

    claim (one UPDATE ... RETURNING: due, unleased, predecessor settled, host breaker closed,
           at most `allowance` in flight per host) -> [Claimed]
        -> worker sends -> [Done] -> record (rows, hosts, per-kind effects) in one transaction

Claims are leases (`lease_until`, `leased_by`): a worker that dies loses nothing, its rows become
claimable again when the lease runs out. A lease that ends without a result (taken over by a
claim, or cleared by housekeeping or a SQLite start-up) is counted in `lease_expiries`: the
worker gives up a row whose sending keeps killing it (lifecycle.abandoned). On PostgreSQL,
concurrent workers skip each other's rows (`FOR UPDATE SKIP LOCKED`) and re-check the lease on
the locked row, so a row is never claimed twice while its lease lasts. SQLite has one worker
process (see docs/deployment.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Update,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.distribution.breaker import (
    BreakerPolicy,
    HostHealth,
    after_failure,
    after_success,
    success_changes_nothing,
)
from siarkan.distribution.breaker import held_until as hold_host
from siarkan.distribution.lifecycle import (
    ACTIVE_STATES,
    FINAL_STATES,
    Abandoned,
    Effect,
    Obsolete,
    Outcome,
    Result,
    State,
)
from siarkan.store.tables import deliveries, hosts

ACTIVE = [s.value for s in ACTIVE_STATES]
FINAL = [s.value for s in FINAL_STATES]
# Claims rank the oldest this-many due rows (times the batch) by host. Fan-outs are queued host
# by host in turns (outbox.spread_hosts), so a small window already spans many hosts; each
# extra candidate costs the database a join and a ranking (at 5, a fan-out on SQLite spent
# ~25% more of the worker's own per-delivery CPU, signing and HTTP aside).
CANDIDATE_FACTOR = 2


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    kind: str
    target: str
    host: str
    activity_id: int | None
    subscription_id: int | None
    topic: str | None
    actor_name: str | None
    shared: bool
    attempts: int  # tries before this one
    lease_expiries: int = 0  # leases that ended without a result, before this claim


@dataclass(frozen=True, slots=True)
class Done:
    """One finished try: what came back and what the lifecycle made of it."""

    row: Claimed
    result: Result
    outcome: Outcome
    seconds: float = 0.0
    scheme: str | None = None  # the signature scheme the host accepted (double-knock memory)
    detail: Mapping[str, Any] | None = None  # kind-specific facts for its settle hook

    @property
    def status(self) -> int | None:
        return getattr(self.result, "status", None)


Settle = Callable[[AsyncConnection, Sequence[Done], datetime], Awaitable[None]]


# --- claiming -----------------------------------------------------------------------------------


def active() -> ColumnElement[bool]:
    """state IN ('pending', 'retrying'), written out literally: the partial index
    ix_deliveries_active_due has this predicate, and SQLite only uses a partial index when the
    query repeats its predicate (bound parameters do not count)."""
    return deliveries.c.state.in_(bindparam("active_states", ACTIVE, literal_execute=True))


def _predecessor_settled() -> ColumnElement[bool]:
    """Thread order: a row waits until the row it follows is final (sent, dead or skipped).

    Dead counts as settled on purpose: a follower still gets part 2 of a thread whose part 1
    could not be delivered; part 2's inReplyTo points at part 1's id, which the receiver can
    fetch from us (Mastodon resolves unknown parents on arrival).
    """
    before = deliveries.alias("before")
    return or_(
        deliveries.c.after_id.is_(None),
        ~exists().where(before.c.id == deliveries.c.after_id, before.c.state.in_(ACTIVE)),
    )


def _allowance_sql(per_host: ColumnElement[int]) -> ColumnElement[int]:
    """SQL twin of breaker.allowance for a host whose breaker is closed (tested against it)."""
    probing = or_(
        hosts.c.host.is_(None),
        hosts.c.last_success_at.is_(None),
        hosts.c.consecutive_failures > 0,
        hosts.c.unavailable.is_(True),
    )
    return case((probing, literal(1)), else_=per_host)


# In Claimed's field order: claim() builds Claimed from these by position.
_CLAIM_RETURNS = tuple(deliveries.c[field.name] for field in fields(Claimed))


@lru_cache(maxsize=16)
def _claim_statement(dialect: str, by_kind: bool, skipping: bool) -> Update:
    """The claim UPDATE, built once per shape: constructing it cost about 1 ms of CPU per claim,
    more than SQLite took to run it. Parameters: c_now, c_until, c_worker, c_per_host,
    c_window, c_limit, and c_kinds / c_skip (lists) when the shape has them."""
    now = bindparam("c_now", type_=deliveries.c.due_at.type)
    busy = and_(deliveries.c.lease_until.is_not(None), deliveries.c.lease_until >= now)
    due = and_(
        active(),
        deliveries.c.due_at <= now,
        _predecessor_settled(),
        or_(hosts.c.breaker_open_until.is_(None), hosts.c.breaker_open_until <= now),
    )
    if by_kind:
        due = and_(due, deliveries.c.kind.in_(bindparam("c_kinds", expanding=True)))
    if skipping:
        due = and_(due, deliveries.c.host.not_in(bindparam("c_skip", expanding=True)))
    candidates = (
        select(
            deliveries.c.id,
            deliveries.c.host,
            deliveries.c.due_at,
            case((busy, literal(1)), else_=literal(0)).label("busy"),
            _allowance_sql(bindparam("c_per_host", type_=Integer)).label("allowance"),
        )
        .select_from(deliveries.outerjoin(hosts, hosts.c.host == deliveries.c.host))
        .where(due)
        .order_by(deliveries.c.due_at, deliveries.c.id)
        .limit(bindparam("c_window", type_=Integer))
        .subquery("candidates")
    )
    # Rows in flight sort first in their host's partition, so `rn <= allowance` counts them.
    ranked = select(
        candidates.c.id,
        candidates.c.busy,
        candidates.c.allowance,
        candidates.c.due_at,
        func.row_number()
        .over(
            partition_by=candidates.c.host,
            order_by=(candidates.c.busy.desc(), candidates.c.due_at, candidates.c.id),
        )
        .label("rn"),
    ).subquery("ranked")
    picked = (
        select(ranked.c.id)
        .where(ranked.c.busy == 0, ranked.c.rn <= ranked.c.allowance)
        .order_by(ranked.c.rn, ranked.c.due_at, ranked.c.id)
        .limit(bindparam("c_limit", type_=Integer))
    )
    free = or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now)
    # A lease still set on a free row ran out: whoever held it died or hung before recording.
    expired = case((deliveries.c.lease_until.is_not(None), literal(1)), else_=literal(0))
    chosen = picked
    if dialect == "postgresql":
        # The ranking above is driven from the small candidate set and the rows are then
        # locked by primary key: a join the other way round made PostgreSQL re-rank once per
        # row (O(n^2)) whenever its statistics lagged behind a fresh fan-out. The lease is
        # re-checked on the locked row version (EvalPlanQual): never claim a row another
        # worker leased after our snapshot was taken. SQLite has one writer at a time and
        # needs none of this (the extra subquery made it scan every active row).
        chosen = (
            select(deliveries.c.id)
            .where(deliveries.c.id.in_(picked.scalar_subquery()), free, active())
            .with_for_update(skip_locked=True)
        )
    return (
        update(deliveries)
        .where(deliveries.c.id.in_(chosen.scalar_subquery()), free)
        .values(
            lease_until=bindparam("c_until", type_=deliveries.c.lease_until.type),
            leased_by=bindparam("c_worker", type_=deliveries.c.leased_by.type),
            lease_expiries=deliveries.c.lease_expiries + expired,
        )
        .returning(*_CLAIM_RETURNS)
    )


async def claim(
    conn: AsyncConnection,
    *,
    worker_id: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    per_host: int,
    kinds: Sequence[str] | None = None,
    skip_hosts: Collection[str] = (),
) -> list[Claimed]:
    """Lease up to `limit` due rows, interleaving hosts (first row of every host first).

    `skip_hosts`: hosts the caller already has at their limit (e.g. a probe waiting on a silent
    host); leaving their rows out of the candidates keeps the window for claimable rows.
    """
    if limit <= 0:
        return []
    stmt = _claim_statement(conn.dialect.name, kinds is not None, bool(skip_hosts))
    params: dict[str, Any] = {
        "c_now": now,
        "c_until": now + lease,
        "c_worker": worker_id,
        "c_per_host": per_host,
        "c_window": max(limit * CANDIDATE_FACTOR, 100),
        "c_limit": limit,
    }
    if kinds is not None:
        params["c_kinds"] = list(kinds)
    if skip_hosts:
        params["c_skip"] = sorted(skip_hosts)
    # By position, not `row.name`: a Row finds a name only after the class lookup has failed,
    # and every failure builds an AttributeError with a formatted message (callgrind: 12 % of
    # the worker's own instructions per delivery went to those ten lookups).
    claimed = [
        Claimed(id_, kind, target, host, activity_id, subscription_id, topic, actor, bool(shared),
                attempts, expiries)
        for (id_, kind, target, host, activity_id, subscription_id, topic, actor, shared, attempts,
             expiries) in (await conn.execute(stmt, params)).all()
    ]  # fmt: skip
    claimed.sort(key=lambda c: c.id)
    return claimed


async def release(conn: AsyncConnection, ids: Iterable[int], worker_id: str) -> int:
    """Give claimed rows back untried (shutdown, breaker opened meanwhile)."""
    id_list = list(ids)
    if not id_list:
        return 0
    result = await conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(id_list), deliveries.c.leased_by == worker_id)
        .values(lease_until=None, leased_by=None)
    )
    return result.rowcount


async def renew(
    conn: AsyncConnection, ids: Iterable[int], worker_id: str, until: datetime
) -> set[int]:
    """Extend this worker's leases on `ids` to `until`; returns the ids still ours (a row
    whose lease ran out may have been claimed by another worker meanwhile)."""
    id_list = sorted(ids)
    if not id_list:
        return set()
    result = await conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(id_list), deliveries.c.leased_by == worker_id, active())
        .values(lease_until=until)
        .returning(deliveries.c.id)
    )
    return set(result.scalars())


# A lease cleared without a result: counted, or clearing it would hide a poison row from claim.
_EXPIRED = {"lease_expiries": deliveries.c.lease_expiries + 1}


async def release_all(conn: AsyncConnection, *, worker_id: str | None = None) -> int:
    """Drop the leases of workers that died: all of them (SQLite start-up: the one worker is
    us) or one worker's. Each counts as a lease that ended without a result."""
    stmt = update(deliveries).where(deliveries.c.lease_until.is_not(None), active())
    if worker_id is not None:
        stmt = stmt.where(deliveries.c.leased_by == worker_id)
    result = await conn.execute(stmt.values(lease_until=None, leased_by=None, **_EXPIRED))
    return result.rowcount


async def release_expired(conn: AsyncConnection, now: datetime) -> int:
    """Housekeeping: clear leases that ran out (claims already ignore them; this is for humans)."""
    result = await conn.execute(
        update(deliveries)
        .where(deliveries.c.lease_until.is_not(None), deliveries.c.lease_until < now)
        .values(lease_until=None, leased_by=None, **_EXPIRED)
    )
    return result.rowcount


# --- hosts --------------------------------------------------------------------------------------


def _health(row: RowMapping) -> HostHealth:
    return HostHealth(
        host=row["host"],
        consecutive_failures=row["consecutive_failures"],
        breaker_open_until=row["breaker_open_until"],
        failure_days=tuple(row["failure_days"] or ()),
        unavailable=bool(row["unavailable"]),
        last_success_at=row["last_success_at"],
        signature_scheme=row["signature_scheme"],
    )


async def load_hosts(
    conn: AsyncConnection, names: Iterable[str], *, lock: bool = False
) -> dict[str, HostHealth]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    query = select(hosts).where(hosts.c.host.in_(wanted))
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = (await conn.execute(query)).mappings().all()
    return {row["host"]: _health(row) for row in rows}


async def save_hosts(conn: AsyncConnection, healths: Iterable[HostHealth]) -> None:
    values = [
        {
            "host": h.host,
            "consecutive_failures": h.consecutive_failures,
            "breaker_open_until": h.breaker_open_until,
            "failure_days": list(h.failure_days),
            "unavailable": h.unavailable,
            "last_success_at": h.last_success_at,
            "signature_scheme": h.signature_scheme,
        }
        for h in healths
    ]
    if not values:
        return
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(hosts)
    stmt = stmt.on_conflict_do_update(
        index_elements=[hosts.c.host],
        set_={name: stmt.excluded[name] for name in values[0] if name != "host"},
    )
    await conn.execute(stmt, values)


def fold_host(
    health: HostHealth, done: Done, policy: BreakerPolicy, now: datetime, *, hold: bool = True
) -> HostHealth:
    """Apply one try's effects to its host's health (pure); `hold=False` leaves a 429/503
    hold to the caller."""
    effects = done.outcome.effects
    if Effect.HOST_UP in effects:
        health = after_success(health, now, done.scheme)
    elif Effect.HOST_DOWN in effects:
        health = after_failure(health, now, policy)
    if hold and Effect.HOLD_HOST in effects and done.outcome.hold_until is not None:
        health = hold_host(health, done.outcome.hold_until)
    return health


# --- recording ----------------------------------------------------------------------------------


_RECORD_ONE = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"), deliveries.c.leased_by == bindparam("b_worker"))
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        due_at=bindparam("b_due"),
        last_status=bindparam("b_status"),
        last_error=bindparam("b_error"),
        finished_at=bindparam("b_finished"),
        lease_until=None,
        leased_by=None,
        # A result was recorded: the row does not kill its worker. Counted anew, so only
        # leases that end without a result one after another give it up (max_attempts bounds
        # the rest), not crashes or outages that happened to hit a long retry now and then.
        # A row given up for its expiries keeps their count: what `deliveries` shows of why.
        lease_expiries=bindparam("b_expiries"),
    )
)


# First tries that succeeded, by status code: the bulk of a fan-out, built once.
_RECORD_SENT = (
    update(deliveries)
    .where(
        deliveries.c.id.in_(bindparam("s_ids", expanding=True)),
        deliveries.c.leased_by == bindparam("s_worker"),
    )
    .values(
        state=State.SENT.value,
        attempts=1,
        last_status=bindparam("s_status", type_=Integer),
        last_error=None,
        finished_at=bindparam("s_now", type_=deliveries.c.finished_at.type),
        lease_until=None,
        leased_by=None,
    )
)


def _record_params(d: Done, worker_id: str, now: datetime) -> dict[str, Any]:
    return {
        "b_id": d.row.id,
        "b_worker": worker_id,
        "b_state": d.outcome.state.value,
        "b_attempts": d.row.attempts + (0 if isinstance(d.result, Obsolete) else 1),
        "b_due": d.outcome.due_at or now,
        "b_status": d.status,
        "b_error": None if d.outcome.state is State.SENT else d.outcome.reason[:2000],
        "b_finished": now if d.outcome.final else None,
        "b_expiries": d.result.expiries if isinstance(d.result, Abandoned) else 0,
    }


async def record(
    conn: AsyncConnection,
    done: Sequence[Done],
    *,
    worker_id: str,
    now: datetime,
    policy: BreakerPolicy,
    settle: Mapping[str, Settle] | None = None,
    known: Mapping[str, HostHealth] | None = None,
) -> dict[str, HostHealth]:
    """Write a batch of finished tries: the rows, their hosts' health, per-kind effects.
    Returns the health of every host it read, as written.

    `known`: host health as the caller last loaded it. A success on a host that was healthy
    and recently refreshed then changes nothing, and its host is neither read nor written:
    the bulk of a fan-out. Used on SQLite only (one worker); on PostgreSQL another worker's
    failures must be cleared by our successes, so hosts are always read there.
    """
    if not done:
        return {}
    # The bulk of a fan-out is "sent": one statement per status code for those rows, so the
    # database does the per-row work; the rest (retries, dead, skipped) row by row.
    sent: dict[int | None, list[int]] = {}
    others: list[Done] = []
    for d in done:
        if d.outcome.state is State.SENT and d.row.attempts == 0:
            sent.setdefault(d.status, []).append(d.row.id)
        else:
            others.append(d)
    for status, ids in sent.items():
        await conn.execute(
            _RECORD_SENT, {"s_ids": ids, "s_worker": worker_id, "s_status": status, "s_now": now}
        )
    if others:
        await conn.execute(_RECORD_ONE, [_record_params(d, worker_id, now) for d in others])

    # Skipping is only safe where this worker is the only one recording host health (SQLite):
    # on PostgreSQL another worker may have recorded failures this success must clear.
    if conn.dialect.name != "sqlite":
        known = None
    # A host is skipped only if every one of its rows in the batch is such a success.
    busy = {d.row.host for d in done if not _no_op(d, known, now)}
    touched = [d for d in done if (d.outcome.effects or d.scheme) and d.row.host in busy]
    current: dict[str, HostHealth] = {}
    changed: dict[str, HostHealth] = {}
    if touched:
        current = await load_hosts(conn, (d.row.host for d in touched), lock=True)
        # Holds (429 / 503 Retry-After) are applied after every success and failure of the
        # batch: a 2xx recorded after a 429 in the same flush must not lift the hold.
        holds: dict[str, datetime] = {}
        for d in touched:
            before = changed.get(d.row.host) or current.get(d.row.host) or HostHealth(d.row.host)
            after = fold_host(before, d, policy, now, hold=False)
            until = d.outcome.hold_until
            if Effect.HOLD_HOST in d.outcome.effects and until is not None:
                holds[d.row.host] = max(until, holds.get(d.row.host, until))
            if after != before or d.row.host not in current:
                changed[d.row.host] = after
        for host, until in holds.items():
            before = changed.get(host) or current.get(host) or HostHealth(host)
            after = hold_host(before, until)
            if after != before:
                changed[host] = after
        await save_hosts(conn, changed.values())

    if settle:
        by_kind: dict[str, list[Done]] = {}
        for d in done:
            by_kind.setdefault(d.row.kind, []).append(d)
        for kind, items in by_kind.items():
            hook = settle.get(kind)
            if hook is not None:
                await hook(conn, items, now)
    return current | changed


_ONLY_HOST_UP = frozenset({Effect.HOST_UP})


def _no_op(d: Done, known: Mapping[str, HostHealth] | None, now: datetime) -> bool:
    if known is None or d.scheme or d.outcome.effects != _ONLY_HOST_UP:
        return False
    health = known.get(d.row.host)
    return health is not None and success_changes_nothing(health, now)


async def skip_target(conn: AsyncConnection, kind: str, target: str, reason: str) -> int:
    """The target is gone (410): its other waiting rows will not be sent either."""
    result = await conn.execute(
        update(deliveries)
        .where(
            deliveries.c.kind == kind,
            deliveries.c.target == target,
            active(),
            deliveries.c.lease_until.is_(None),
        )
        .values(state=State.SKIPPED.value, last_error=reason)
    )
    return result.rowcount


# --- reading and operating (CLI, metrics, housekeeping) -----------------------------------------


async def queue_depth(conn: AsyncConnection, now: datetime) -> tuple[dict[str, int], float]:
    """Rows per state, and the age in seconds of the oldest row that is due but not sent."""
    rows = (
        await conn.execute(select(deliveries.c.state, func.count()).group_by(deliveries.c.state))
    ).all()
    counts = {state: int(n) for state, n in rows}
    oldest = await conn.scalar(
        select(func.min(deliveries.c.due_at)).where(active(), deliveries.c.due_at <= now)
    )
    age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return counts, age


async def list_deliveries(
    conn: AsyncConnection, *, status: str | None = None, limit: int = 50
) -> list[RowMapping]:
    """Newest first. status "failed" = tried and not (yet) sent: retrying or dead."""
    query = select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
    if status == "failed":
        query = query.where(
            deliveries.c.state.in_([State.RETRYING.value, State.DEAD.value]),
            deliveries.c.attempts > 0,
        )
    elif status is not None:
        query = query.where(deliveries.c.state == status)
    return list((await conn.execute(query)).mappings().all())


async def requeue_dead(
    conn: AsyncConnection, *, now: datetime, ids: Sequence[int] | None = None
) -> int:
    """Dead rows back to pending, due now, with a fresh try budget and lease count
    (`siarkan retry`)."""
    stmt = update(deliveries).where(deliveries.c.state == State.DEAD.value)
    if ids is not None:
        stmt = stmt.where(deliveries.c.id.in_(list(ids)))
    result = await conn.execute(
        stmt.values(
            state=State.PENDING.value,
            attempts=0,
            lease_expiries=0,
            due_at=now,
            finished_at=None,
            lease_until=None,
            leased_by=None,
        )
    )
    return result.rowcount


async def states_of(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, str]:
    """The state of each of `ids` that exists (for `siarkan retry` to say why one was not)."""
    rows = await conn.execute(
        select(deliveries.c.id, deliveries.c.state).where(deliveries.c.id.in_(list(ids)))
    )
    return {row_id: state for row_id, state in rows.all()}


async def list_hosts(conn: AsyncConnection) -> list[tuple[HostHealth, dict[str, int]]]:
    """Every known host with its waiting deliveries by state."""
    healths = {
        row["host"]: _health(row)
        for row in (await conn.execute(select(hosts).order_by(hosts.c.host))).mappings()
    }
    counts: dict[str, dict[str, int]] = {}
    waiting = await conn.execute(
        select(deliveries.c.host, deliveries.c.state, func.count())
        .where(active())
        .group_by(deliveries.c.host, deliveries.c.state)
    )
    for host, state, n in waiting.all():
        counts.setdefault(host, {})[state] = int(n)
        healths.setdefault(host, HostHealth(host))
    return [(healths[h], counts.get(h, {})) for h in sorted(healths)]


async def delete_finished(conn: AsyncConnection, before: datetime) -> int:
    result = await conn.execute(
        delete(deliveries).where(deliveries.c.state.in_(FINAL), deliveries.c.finished_at < before)
    )
    return result.rowcount


async def kill_held(conn: AsyncConnection, *, created_before: datetime, now: datetime) -> int:
    """Rows waiting for an unavailable host longer than the whole retry span are given up."""
    unavailable = select(hosts.c.host).where(hosts.c.unavailable.is_(True))
    result = await conn.execute(
        update(deliveries)
        .where(
            active(),
            deliveries.c.created_at < created_before,
            deliveries.c.host.in_(unavailable.scalar_subquery()),
            or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now),
        )
        .values(
            state=State.DEAD.value,
            last_error="host unavailable for longer than the retry span",
            finished_at=now,
            lease_until=None,
            leased_by=None,
        )
    )
    return result.rowcount
