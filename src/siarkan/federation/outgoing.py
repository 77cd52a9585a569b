"""Emitting an activity: one `activities` row (JSON serialised once) + its delivery rows.

    rendered activity | dumps (once) | insert activities | enqueue_activity -> deliveries

Runs inside the caller's transaction (transactional outbox); the delivery worker signs and
sends each row later, reading `activities.body` as is.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.distribution.outbox import InboxTarget, enqueue_activity
from siarkan.federation.vocab import dumps
from siarkan.store.tables import activities


def new_token(now: datetime) -> str:
    """Opaque, unguessable, roughly time-ordered: ids of posts and activities."""
    return f"{int(now.timestamp() * 1000):x}{secrets.token_hex(6)}"


@dataclass(frozen=True, slots=True)
class Emitted:
    activity_id: int
    deliveries: dict[str, int]  # inbox -> delivery id


@dataclass(frozen=True, slots=True)
class Outgoing:
    actor_name: str
    document: dict[str, Any]
    object_uri: str | None = None
    public: bool = True


async def record_activities(
    conn: AsyncConnection, items: Sequence[Outgoing], *, now: datetime
) -> list[int]:
    """Insert several activities in one statement; their ids, in the order given."""
    if not items:
        return []
    if len(items) == 1:
        item = items[0]
        result = await conn.execute(
            insert(activities).values(**_activity_row(item, now)).returning(activities.c.id)
        )
        return [int(result.scalar_one())]
    # executemany and one lookup: two round trips whatever the count (SQLite's driver would
    # otherwise run an INSERT ... RETURNING per row to keep the order).
    await conn.execute(insert(activities), [_activity_row(item, now) for item in items])
    uris = [item.document["id"] for item in items]
    found = await conn.execute(
        select(activities.c.uri, activities.c.id).where(activities.c.uri.in_(uris))
    )
    ids = {uri: int(activity_id) for uri, activity_id in found.all()}
    return [ids[uri] for uri in uris]


def _activity_row(item: Outgoing, now: datetime) -> dict[str, Any]:
    return {
        "uri": item.document["id"],
        "actor_name": item.actor_name,
        "type": item.document["type"],
        "object_uri": item.object_uri,
        "body": dumps(item.document),
        "public": item.public,
        "created_at": now,
    }


async def emit(
    conn: AsyncConnection,
    *,
    actor_name: str,
    document: dict[str, Any],
    targets: Sequence[InboxTarget],
    now: datetime,
    public: bool = True,
    object_uri: str | None = None,
    after: Mapping[str, int] | None = None,
) -> Emitted:
    (activity_id,) = await record_activities(
        conn, [Outgoing(actor_name, document, object_uri, public)], now=now
    )
    deliveries = await enqueue_activity(
        conn,
        activity_id=activity_id,
        actor_name=actor_name,
        targets=targets,
        now=now,
        after=after,
    )
    return Emitted(activity_id, deliveries)
