"""The transactional outbox: queue messages as rows, in the caller's transaction.

    publish (federation / WebSub) -> enqueue_* (rows in `deliveries`, state pending)
        -> delivery workers claim due rows later (distribution/worker.py)

Nothing is sent here. Because the rows are written in the same transaction as the change that
causes them, a crash either loses both or keeps both: a publish never goes undelivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import zip_longest
from urllib.parse import urlsplit

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.store.tables import deliveries

PENDING = "pending"


@dataclass(frozen=True, slots=True)
class InboxTarget:
    inbox: str
    shared: bool = False

    @property
    def host(self) -> str:
        return urlsplit(self.inbox).netloc.lower()


def spread_hosts(targets: Iterable[InboxTarget]) -> list[InboxTarget]:
    """Distinct inboxes, host by host in turns: every host's first, then every host's second...

    Workers claim the oldest due rows and take only a few per host at a time (queue.claim), so a
    fan-out queued in this order gives every claim work for many hosts at once; queued in
    follower order, a run of one big host's inboxes would hold the others back.
    """
    by_host: dict[str, dict[str, InboxTarget]] = {}
    for target in targets:
        by_host.setdefault(target.host, {}).setdefault(target.inbox, target)
    turns = zip_longest(*(list(inboxes.values()) for inboxes in by_host.values()))
    return [target for turn in turns for target in turn if target is not None]


async def enqueue_activity(
    conn: AsyncConnection,
    *,
    activity_id: int,
    actor_name: str,
    targets: Sequence[InboxTarget],
    now: datetime,
    after: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """One delivery row per distinct inbox; returns {inbox: delivery id}.

    `after` maps an inbox to the delivery that must succeed there first (thread order:
    part n+1 waits for part n at the same inbox).
    """
    unique = spread_hosts(targets)
    if not unique:
        return {}
    rows = [
        {
            "kind": "activitypub",
            "activity_id": activity_id,
            "subscription_id": None,
            "target": target.inbox,
            "host": target.host,
            "actor_name": actor_name,
            "shared": target.shared,
            "state": PENDING,
            "attempts": 0,
            "due_at": now,
            "after_id": (after or {}).get(target.inbox),
            "created_at": now,
        }
        for target in unique
    ]
    await conn.execute(insert(deliveries), rows)
    result = await conn.execute(
        select(deliveries.c.id, deliveries.c.target).where(
            deliveries.c.activity_id == activity_id, deliveries.c.kind == "activitypub"
        )
    )
    return {target: delivery_id for delivery_id, target in result.all()}


def _websub_row(
    kind: str,
    *,
    target: str,
    now: datetime,
    subscription_id: int | None,
    topic: str | None = None,
    due_at: datetime | None = None,
) -> dict[str, object]:
    """One WebSub message (they have no activity, actor or thread order)."""
    row: dict[str, object] = {
        "kind": kind,
        "activity_id": None,
        "subscription_id": subscription_id,
        "target": target,
        "host": urlsplit(target).netloc.lower(),
        "actor_name": None,
        "shared": False,
        "state": PENDING,
        "attempts": 0,
        "due_at": due_at or now,
        "after_id": None,
        "created_at": now,
    }
    if topic is not None:
        row["topic"] = topic
    return row


async def enqueue_websub(
    conn: AsyncConnection,
    *,
    subscription_id: int,
    callback: str,
    now: datetime,
) -> None:
    """A notification to one subscriber; the worker renders the topic's current content."""
    row = _websub_row("websub", target=callback, now=now, subscription_id=subscription_id)
    await conn.execute(insert(deliveries).values(**row))


async def enqueue_websub_verify(
    conn: AsyncConnection, *, subscription_id: int, callback: str, now: datetime
) -> None:
    """Intent verification for a (un)subscribe request; the worker reads the pending_* columns."""
    row = _websub_row("websub_verify", target=callback, now=now, subscription_id=subscription_id)
    await conn.execute(insert(deliveries).values(**row))


async def enqueue_websub_ping(
    conn: AsyncConnection, *, hub: str, topic: str, now: datetime, due_at: datetime | None = None
) -> None:
    """`hub.mode=publish` for one topic to an external hub (settings.websub.external_hub)."""
    row = _websub_row(
        "websub_ping", target=hub, now=now, subscription_id=None, topic=topic, due_at=due_at
    )
    await conn.execute(insert(deliveries).values(**row))
