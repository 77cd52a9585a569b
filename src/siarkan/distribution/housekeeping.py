"""Periodic clean-up, run by one scheduler at a time (jobs.take_job "housekeeping").

expired leases (release) | sent/dead/skipped deliveries older than keep_sent_days (delete)
| rows held for an unavailable host longer than the retry span (dead)
| remote actor/key cache older than key_cache_seconds | inbox_seen older than INBOX_SEEN
| signatures_seen past their expiry
-> counts per step
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.config import Settings
from siarkan.distribution import queue
from siarkan.distribution.lifecycle import total_retry_span
from siarkan.store import replays
from siarkan.store.tables import inbox_seen, remote_actors

# Activity ids seen in the inbox are kept this long: Mastodon retries for ~2 days, so a
# redelivered activity still finds its id here.
INBOX_SEEN = timedelta(days=4)


async def housekeeping(conn: AsyncConnection, settings: Settings, now: datetime) -> dict[str, int]:
    d = settings.delivery
    counts = {
        "leases_released": await queue.release_expired(conn, now),
        "deliveries_deleted": await queue.delete_finished(
            conn, now - timedelta(days=d.keep_sent_days)
        ),
        "held_given_up": await queue.kill_held(
            conn, created_before=now - total_retry_span(d.max_attempts), now=now
        ),
    }
    result = await conn.execute(
        delete(remote_actors).where(
            remote_actors.c.fetched_at
            < now - timedelta(seconds=settings.federation.key_cache_seconds)
        )
    )
    counts["remote_actors_expired"] = result.rowcount
    result = await conn.execute(
        delete(inbox_seen).where(inbox_seen.c.received_at < now - INBOX_SEEN)
    )
    counts["inbox_seen_deleted"] = result.rowcount
    counts["signatures_seen_expired"] = await replays.prune(conn, now)
    return counts
