"""Who receives an actor's activities, and which domains receive nothing at all.

    followers (accepted, not blocked) | minus blocked domains | one per sharedInbox
        -> [InboxTarget]

One delivery per shared inbox instead of one per follower: a Mastodon server with 500 of our
followers gets one POST (ActivityPub §7.1.3 "shared inbox delivery").
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.distribution.outbox import InboxTarget
from siarkan.store.tables import followers

ACCEPTED = "accepted"
PENDING = "pending"
REJECTED = "rejected"
BLOCKED = "blocked"


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def domain_blocked(host_or_url: str, blocked: Iterable[str]) -> bool:
    """`blocked.example` also blocks `a.blocked.example` (subdomains included)."""
    if not blocked:
        return False
    host = host_of(host_or_url) if "//" in host_or_url else host_or_url.lower().split(":")[0]
    for domain in blocked:
        domain = domain.lower().strip().strip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def choose_targets(
    rows: Iterable[tuple[str, str | None]], blocked: Iterable[str]
) -> list[InboxTarget]:
    """(inbox, shared inbox) per follower -> distinct targets, shared inbox preferred."""
    blocked = tuple(blocked)
    targets: dict[str, InboxTarget] = {}
    for inbox, shared in rows:
        target = InboxTarget(shared, True) if shared else InboxTarget(inbox, False)
        if target.inbox in targets or domain_blocked(target.inbox, blocked):
            continue
        targets[target.inbox] = target
    return list(targets.values())


async def follower_targets(
    conn: AsyncConnection, actor_name: str, blocked: Iterable[str]
) -> list[InboxTarget]:
    result = await conn.execute(
        select(followers.c.inbox, followers.c.shared_inbox)
        .where(followers.c.actor_name == actor_name, followers.c.state == ACCEPTED)
        .order_by(followers.c.id)
    )
    return choose_targets(((row.inbox, row.shared_inbox) for row in result), blocked)
