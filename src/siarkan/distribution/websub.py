"""The WebSub hub (W3C WebSub, Recommendation 2018): subscriptions and change notifications.

    POST /websub | parse_hub_request (pure: 400 with a reason)  | accept_request -> 202
        -> pending_* on the subscription + a `websub_verify` delivery (survives restarts)
        -> worker GETs the callback with hub.challenge | settle_verification -> active / refused
    POST /websub hub.mode=publish | parse_publish | notify_subscribers -> 202 (a publisher's
        ping for one of our feeds: every active subscriber gets its current content)

    article stored | on_article_change (same transaction) | topics_for (pure)
        -> one `websub` delivery per active subscription of every affected topic, coalesced:
           a subscription with a notification still waiting gets no second one (the worker
           renders the topic when it sends, so the waiting one carries the newest content)
        -> or, with settings.websub.external_hub, one `websub_ping` per topic instead,
           due PING_DELAY later (the hub fetches the topic at once: it must see the change)

Subscription states: requested -> active -> expired | unsubscribed | gone (410);
a request whose verification fails leaves an active subscription as it was, and a new one
`refused`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.articles.model import Article, Status
from siarkan.config import Settings, WebSubSettings
from siarkan.distribution.lifecycle import ACTIVE_STATES, Kind, State
from siarkan.distribution.outbox import (
    enqueue_websub,
    enqueue_websub_ping,
    enqueue_websub_verify,
)
from siarkan.distribution.topics import Topic, near_topic, parse_topic, topics_for
from siarkan.federation.sqlutil import insert_ignore
from siarkan.feeds.cache import REFRESH_SECONDS
from siarkan.store.tables import deliveries, websub_subscriptions

log = logging.getLogger(__name__)

ACTIVE = [s.value for s in ACTIVE_STATES]
MAX_SECRET_BYTES = 199  # "MUST be less than 200 bytes" (WebSub §5.1)
MAX_CALLBACK = 2000
MAX_VERIFY_TOKEN = 255
# A pinged hub fetches the topic at once (Google's reference hub, hub/main.py: PublishHandler
# queues the pull, a 304 ends it) from whichever process serves feeds, and that process may
# have checked for changes up to REFRESH_SECONDS before our commit: a ping sent at once can
# fetch the old feed, and the change reaches no subscriber. Ping once that cannot happen.
PING_DELAY = timedelta(seconds=2 * REFRESH_SECONDS)

Mode = Literal["subscribe", "unsubscribe"]


class HubError(ValueError):
    """A request the hub refuses with 400; the message says why."""


@dataclass(frozen=True, slots=True)
class HubRequest:
    mode: Mode
    callback: str
    topic: Topic
    lease_seconds: int
    secret: str | None
    # PubSubHubbub 0.3's hub.verify_token: WebSub dropped it, but subscribers still send it and
    # answer 404 to a verification without it (NewsBlur's apps/push/views.py); Google's reference
    # hub echoes it in the verification GET (hub/main.py confirm_subscription).
    verify_token: str | None = None


def bound_lease(requested: int | None, policy: WebSubSettings) -> int:
    """The hub decides the lease (§5.1): default if not asked, clamped to [min, max]."""
    if requested is None:
        requested = policy.default_lease_seconds
    return max(policy.min_lease_seconds, min(requested, policy.max_lease_seconds))


def _unknown_topic(settings: Settings, url: str) -> str:
    meant = near_topic(settings, url)
    if meant is not None:
        return f"unknown topic {url!r}: subscribe to the feed's rel=self URL {meant.url}"
    return f"unknown topic {url!r}: this hub only serves this site's feeds"


def parse_hub_request(form: Mapping[str, str], settings: Settings) -> HubRequest:
    """Validate a subscriber's form POST; unknown parameters are ignored (§5.1)."""
    mode = form.get("hub.mode", "").strip()
    if mode not in ("subscribe", "unsubscribe"):
        raise HubError("hub.mode must be subscribe or unsubscribe")
    callback = form.get("hub.callback", "").strip()
    parts = urlsplit(callback)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HubError("hub.callback must be an absolute http(s) URL")
    if len(callback) > MAX_CALLBACK:
        raise HubError(f"hub.callback is longer than {MAX_CALLBACK} characters")
    raw_topic = form.get("hub.topic", "").strip()
    if not raw_topic:
        raise HubError("hub.topic is missing")
    topic = parse_topic(settings, raw_topic)
    if topic is None:
        raise HubError(_unknown_topic(settings, raw_topic))
    lease: int | None = None
    raw_lease = form.get("hub.lease_seconds", "").strip()
    if raw_lease:
        if not raw_lease.isdigit():
            raise HubError("hub.lease_seconds must be a whole number of seconds")
        lease = int(raw_lease)
    secret = form.get("hub.secret")
    if secret is not None and len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
        raise HubError("hub.secret must be less than 200 bytes")
    verify_token = form.get("hub.verify_token") or None
    if verify_token is not None and len(verify_token) > MAX_VERIFY_TOKEN:
        raise HubError(f"hub.verify_token is longer than {MAX_VERIFY_TOKEN} characters")
    return HubRequest(
        mode=mode,  # type: ignore[arg-type]  # checked above
        callback=callback,
        topic=topic,
        lease_seconds=bound_lease(lease, settings.websub),
        secret=secret or None,
        verify_token=verify_token,
    )


async def _verify_waiting(conn: AsyncConnection, subscription_id: int) -> bool:
    """A verification that has not started yet will read the newest pending_* values."""
    found = await conn.scalar(
        select(deliveries.c.id)
        .where(
            deliveries.c.subscription_id == subscription_id,
            deliveries.c.kind == Kind.WEBSUB_VERIFY.value,
            deliveries.c.state.in_(ACTIVE),
            deliveries.c.lease_until.is_(None),
        )
        .limit(1)
    )
    return found is not None


async def accept_request(conn: AsyncConnection, request: HubRequest, now: datetime) -> bool:
    """Record the request as pending and queue its verification. False: nothing to verify."""
    where = and_(
        websub_subscriptions.c.topic == request.topic.url,
        websub_subscriptions.c.callback == request.callback,
    )
    if request.mode == "subscribe":
        await conn.execute(
            insert_ignore(conn, websub_subscriptions, ["topic", "callback"]).values(
                topic=request.topic.url,
                callback=request.callback,
                secret=None,
                lease_seconds=request.lease_seconds,
                state="requested",
                created_at=now,
                updated_at=now,
            )
        )
    row = (
        await conn.execute(
            select(websub_subscriptions.c.id, websub_subscriptions.c.state).where(where)
        )
    ).first()
    if row is None:
        return False  # unsubscribing from nothing: there is no intent to verify
    await conn.execute(
        update(websub_subscriptions)
        .where(websub_subscriptions.c.id == row.id)
        .values(
            pending_mode=request.mode,
            pending_secret=request.secret,
            pending_lease_seconds=request.lease_seconds,
            pending_verify_token=request.verify_token,
            updated_at=now,
        )
    )
    if not await _verify_waiting(conn, row.id):
        await enqueue_websub_verify(
            conn, subscription_id=row.id, callback=request.callback, now=now
        )
    return True


# --- verification results (called by the worker in its recording transaction) ------------------


async def settle_verification(
    conn: AsyncConnection,
    subscription_id: int,
    verified: Mapping[str, Any] | None,
    now: datetime,
) -> None:
    """`verified` = the (mode, lease, secret, verify_token) the subscriber confirmed, or None if
    it refused."""
    row = (
        (
            await conn.execute(
                select(websub_subscriptions).where(websub_subscriptions.c.id == subscription_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return
    values: dict[str, Any] = {"updated_at": now}
    asked = verified or {}
    still_pending = (
        row["pending_mode"],
        row["pending_lease_seconds"],
        row["pending_secret"],
        row["pending_verify_token"],
    ) == (
        asked.get("mode"),
        asked.get("lease_seconds"),
        asked.get("secret"),
        asked.get("verify_token"),
    )
    if verified is None or still_pending:
        # A newer request that arrived meanwhile keeps its own pending values and check.
        values |= {
            "pending_mode": None,
            "pending_secret": None,
            "pending_lease_seconds": None,
            "pending_verify_token": None,
        }
    if verified is None:
        if row["state"] == "requested":
            values["state"] = "refused"
    elif verified["mode"] == "subscribe":
        values |= {
            "state": "active",
            "secret": verified["secret"],
            "lease_seconds": verified["lease_seconds"],
            "expires_at": now + timedelta(seconds=verified["lease_seconds"]),
        }
    else:
        values |= {"state": "unsubscribed", "expires_at": None}
        await _skip_notifications(conn, [subscription_id], "unsubscribed")
    await conn.execute(
        update(websub_subscriptions)
        .where(websub_subscriptions.c.id == subscription_id)
        .values(**values)
    )
    log.info(
        "websub verification",
        extra={
            "subscription_id": subscription_id,
            "topic": row["topic"],
            "callback": row["callback"],
            "mode": asked.get("mode", row["pending_mode"]),
            "verified": verified is not None,
        },
    )


async def end_subscription(conn: AsyncConnection, subscription_id: int, state: str) -> None:
    """410 Gone from the callback (§6: the hub MAY drop it) or expiry."""
    await conn.execute(
        update(websub_subscriptions)
        .where(websub_subscriptions.c.id == subscription_id)
        .values(state=state)
    )
    await _skip_notifications(conn, [subscription_id], state)


async def _skip_notifications(
    conn: AsyncConnection, subscription_ids: Sequence[int], reason: str
) -> None:
    if not subscription_ids:
        return
    await conn.execute(
        update(deliveries)
        .where(
            deliveries.c.subscription_id.in_(list(subscription_ids)),
            deliveries.c.kind == Kind.WEBSUB.value,
            deliveries.c.state.in_(ACTIVE),
            deliveries.c.lease_until.is_(None),
        )
        .values(state=State.SKIPPED.value, last_error=f"subscription {reason}")
    )


async def expire_subscriptions(conn: AsyncConnection, now: datetime) -> int:
    """Leases end (§5.1: never perpetual); the subscriber must re-subscribe to keep getting news."""
    ids = list(
        (
            await conn.execute(
                select(websub_subscriptions.c.id).where(
                    websub_subscriptions.c.state == "active",
                    websub_subscriptions.c.expires_at <= now,
                )
            )
        ).scalars()
    )
    if ids:
        await conn.execute(
            update(websub_subscriptions)
            .where(websub_subscriptions.c.id.in_(ids))
            .values(state="expired", updated_at=now)
        )
        await _skip_notifications(conn, ids, "expired")
    return len(ids)


# --- publishing side ----------------------------------------------------------------------------


def _in_feeds(article: Article, now: datetime) -> bool:
    if article.status is Status.PUBLISHED:
        return article.publish_at is None or article.publish_at <= now
    if article.status is Status.SCHEDULED:
        return article.publish_at is not None and article.publish_at <= now
    return False


def changed_topics(
    settings: Settings, article: Article, previous: Article | None, now: datetime
) -> list[str]:
    """Feeds whose content this change alters (pure): where it is now and where it was."""
    affected: dict[str, None] = {}
    was_visible = previous is not None and _in_feeds(previous, now)
    retracted = article.status is Status.RETRACTED
    if _in_feeds(article, now) or retracted:
        affected.update((t.url, None) for t in topics_for(settings, article))
    if previous is not None and (was_visible or retracted):
        affected.update((t.url, None) for t in topics_for(settings, previous))
    return list(affected)


async def on_article_change(
    conn: AsyncConnection,
    settings: Settings,
    article: Article,
    *,
    previous: Article | None,
    now: datetime,
) -> None:
    """Queue WebSub notifications for every feed the change touches (same transaction)."""
    if not settings.websub.enabled:
        return
    topics = changed_topics(settings, article, previous, now)
    if not topics:
        return
    hub = settings.websub.external_hub
    if hub:
        await _queue_pings(conn, hub, topics, now)
        return
    await notify_subscribers(conn, topics, now)


async def notify_subscribers(conn: AsyncConnection, topics: Sequence[str], now: datetime) -> int:
    """One `websub` delivery per active subscription of `topics`; returns how many were queued."""
    subscriptions = (
        await conn.execute(
            select(websub_subscriptions.c.id, websub_subscriptions.c.callback).where(
                websub_subscriptions.c.topic.in_(topics),
                websub_subscriptions.c.state == "active",
                or_(
                    websub_subscriptions.c.expires_at.is_(None),
                    websub_subscriptions.c.expires_at > now,
                ),
            )
        )
    ).all()
    if not subscriptions:
        return 0
    waiting = set(
        (
            await conn.execute(
                select(deliveries.c.subscription_id).where(
                    deliveries.c.subscription_id.in_([s.id for s in subscriptions]),
                    deliveries.c.kind == Kind.WEBSUB.value,
                    deliveries.c.state.in_(ACTIVE),
                    deliveries.c.lease_until.is_(None),
                )
            )
        ).scalars()
    )
    queued = 0
    for subscription in subscriptions:
        if subscription.id not in waiting:
            await enqueue_websub(
                conn, subscription_id=subscription.id, callback=subscription.callback, now=now
            )
            queued += 1
    return queued


def parse_publish(form: Mapping[str, Sequence[str]], settings: Settings) -> list[str]:
    """`hub.mode=publish` with `hub.url` (PubSubHubbub 0.4, what websub.rocks and most
    publishers send) or `hub.topic`, possibly repeated -> our topic URLs (HubError if foreign)."""
    raw = [u.strip() for key in ("hub.url", "hub.topic") for u in form.get(key, ()) if u.strip()]
    if not raw:
        raise HubError("hub.mode=publish needs hub.url (or hub.topic)")
    topics: dict[str, None] = {}
    for url in raw:
        topic = parse_topic(settings, url)
        if topic is None:
            raise HubError(_unknown_topic(settings, url))
        topics[topic.url] = None
    return list(topics)


async def _queue_pings(
    conn: AsyncConnection, hub: str, topics: Sequence[str], now: datetime
) -> None:
    waiting = set(
        (
            await conn.execute(
                select(deliveries.c.topic).where(
                    deliveries.c.kind == Kind.WEBSUB_PING.value,
                    deliveries.c.topic.in_(list(topics)),
                    deliveries.c.state.in_(ACTIVE),
                    deliveries.c.lease_until.is_(None),
                )
            )
        ).scalars()
    )
    for topic in topics:
        if topic not in waiting:
            await enqueue_websub_ping(conn, hub=hub, topic=topic, now=now, due_at=now + PING_DELAY)
