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

from sqlalchemy import insert
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
    result = await conn.execute(
        insert(activities)
        .values(
            uri=document["id"],
            actor_name=actor_name,
            type=document["type"],
            object_uri=object_uri,
            body=dumps(document),
            public=public,
            created_at=now,
        )
        .returning(activities.c.id)
    )
    activity_id = int(result.scalar_one())
    deliveries = await enqueue_activity(
        conn,
        activity_id=activity_id,
        actor_name=actor_name,
        targets=targets,
        now=now,
        after=after,
    )
    return Emitted(activity_id, deliveries)
