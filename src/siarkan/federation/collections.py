"""An actor's collections: outbox, followers, following, featured; and NodeInfo usage counts.

    outbox    | count + keyset page over activities.id (newest first, ?max_id=)
              -> OrderedCollection {totalItems, first} / OrderedCollectionPage {orderedItems, next}
    followers | count (the list only if followers_list_public)
    following | always empty (our actors follow nobody)
    featured  | pinned articles (channel.pinned) -> their first post objects

The outbox lists what is public and still there: Create and Announce of published posts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import nh3
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan import urls
from siarkan.config import ChannelSettings, Settings
from siarkan.federation.activitystreams import POST_CONTEXT
from siarkan.federation.actors import Usage
from siarkan.federation.audience import ACCEPTED
from siarkan.federation.keys import fediverse_channels
from siarkan.federation.schedule import DELETED, PUBLISHED
from siarkan.store.tables import activities, followers, interactions, posts

PAGE_SIZE = 20
OUTBOX_TYPES = ("Create", "Announce")


def _collection(collection_id: str, total: int, **extra: Any) -> dict[str, Any]:
    return {
        "@context": POST_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        **extra,
    }


def _live_outbox(channel_name: str) -> Any:
    live_posts = select(posts.c.uri).where(posts.c.state == PUBLISHED)
    return (
        activities.c.actor_name == channel_name,
        activities.c.public.is_(True),
        activities.c.type.in_(OUTBOX_TYPES),
        activities.c.object_uri.in_(live_posts),
    )


async def outbox(
    conn: AsyncConnection,
    settings: Settings,
    channel: ChannelSettings,
    *,
    page: bool,
    max_id: int | None,
) -> dict[str, Any]:
    outbox_id = urls.actor_outbox_url(settings, channel.name)
    conditions = _live_outbox(channel.name)
    if not page:
        total = await conn.scalar(select(func.count()).select_from(activities).where(*conditions))
        return _collection(outbox_id, int(total or 0), first=f"{outbox_id}?page=true")
    query = select(activities.c.id, activities.c.body).where(*conditions)
    if max_id is not None:
        query = query.where(activities.c.id < max_id)
    rows = (await conn.execute(query.order_by(activities.c.id.desc()).limit(PAGE_SIZE))).all()
    items = []
    for row in rows:
        item = json.loads(row.body)
        item.pop("@context", None)
        items.append(item)
    page_id = f"{outbox_id}?page=true" + (f"&max_id={max_id}" if max_id is not None else "")
    document: dict[str, Any] = {
        "@context": POST_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": outbox_id,
        "orderedItems": items,
    }
    if len(rows) == PAGE_SIZE:
        document["next"] = f"{outbox_id}?page=true&max_id={rows[-1].id}"
    return document


async def followers_collection(
    conn: AsyncConnection,
    settings: Settings,
    channel: ChannelSettings,
    *,
    page: bool,
    max_id: int | None,
) -> dict[str, Any]:
    collection_id = urls.actor_followers_url(settings, channel.name)
    accepted = (followers.c.actor_name == channel.name, followers.c.state == ACCEPTED)
    total = int(
        await conn.scalar(select(func.count()).select_from(followers).where(*accepted)) or 0
    )
    if not channel.fediverse.followers_list_public:
        # Like Mastodon's "hide your network": the count is public, the list is not.
        return _collection(collection_id, total)
    if not page:
        return _collection(collection_id, total, first=f"{collection_id}?page=true")
    query = select(followers.c.id, followers.c.follower_uri).where(*accepted)
    if max_id is not None:
        query = query.where(followers.c.id < max_id)
    rows = (await conn.execute(query.order_by(followers.c.id.desc()).limit(PAGE_SIZE))).all()
    document: dict[str, Any] = {
        "@context": POST_CONTEXT,
        "id": f"{collection_id}?page=true" + (f"&max_id={max_id}" if max_id else ""),
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": [row.follower_uri for row in rows],
    }
    if len(rows) == PAGE_SIZE:
        document["next"] = f"{collection_id}?page=true&max_id={rows[-1].id}"
    return document


def following_collection(settings: Settings, channel: ChannelSettings) -> dict[str, Any]:
    return _collection(urls.actor_following_url(settings, channel.name), 0, orderedItems=[])


async def featured_collection(
    conn: AsyncConnection, settings: Settings, channel: ChannelSettings
) -> dict[str, Any]:
    """Pinned posts (Mastodon's `featured`): the first part of each pinned article, in the
    order the YAML lists them."""
    items: list[dict[str, Any] | str] = []
    if channel.pinned:
        rows = (
            await conn.execute(
                select(posts.c.article_id, posts.c.object).where(
                    posts.c.actor_name == channel.name,
                    posts.c.article_id.in_(channel.pinned),
                    posts.c.part == 0,
                    posts.c.state == PUBLISHED,
                )
            )
        ).all()
        by_article = {row.article_id: row.object for row in rows}
        for article_id in channel.pinned:
            obj = by_article.get(article_id)
            if obj is None:
                continue
            # Mastodon keeps only string items or embedded Notes (FetchFeaturedCollectionService):
            # an embedded Article would be dropped, so other types are listed by id, fetched.
            if obj.get("type") == "Note":
                items.append({k: v for k, v in obj.items() if k != "@context"})
            else:
                items.append(obj["id"])
    return _collection(
        urls.actor_featured_url(settings, channel.name), len(items), orderedItems=items
    )


async def article_post_uri(
    conn: AsyncConnection, article_id: str, channels: Sequence[str]
) -> str | None:
    """The published first post of an article, from the first of `channels` that has one.

    The article's HTML page names it as its ActivityPub alternate: pasting the page's URL into
    Mastodon's search fetches it, finds no JSON, and follows that link to the post.
    """
    rows = await conn.execute(
        select(posts.c.actor_name, posts.c.uri).where(
            posts.c.article_id == article_id, posts.c.part == 0, posts.c.state == PUBLISHED
        )
    )
    by_channel = {row.actor_name: row.uri for row in rows}
    return next((by_channel[name] for name in channels if name in by_channel), None)


async def usage(conn: AsyncConnection, settings: Settings, now: datetime) -> Usage:
    published = posts.c.state == PUBLISHED

    async def active(days: int) -> int:
        since = now - timedelta(days=days)
        query = select(func.count(func.distinct(posts.c.actor_name))).where(
            published, posts.c.published_at >= since
        )
        return int(await conn.scalar(query) or 0)

    local_posts = await conn.scalar(
        select(func.count()).select_from(posts).where(published, posts.c.part == 0)
    )
    return Usage(
        users=len(fediverse_channels(settings)),
        active_month=await active(30),
        active_halfyear=await active(180),
        local_posts=int(local_posts or 0),
    )


# What Mastodon keeps of a remote post (Sanitize::Config::MASTODON_STRICT): text, links and
# simple formatting. No images (they would load from the sender's server, telling it which
# readers opened the profile), no headings, tables or forms.
REPLY_TAGS = frozenset(
    {"p", "br", "span", "a", "del", "pre", "blockquote", "code", "b", "strong", "u", "i", "em",
     "ul", "ol", "li"}
)  # fmt: skip


def reply_html(content: str) -> str:
    """A remote reply's HTML, reduced to what a public page may show of it."""
    return nh3.clean(
        content,
        tags=set(REPLY_TAGS),
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel="nofollow noopener noreferrer ugc",
    )


@dataclass(frozen=True, slots=True)
class Reply:
    actor: str
    content: str  # reply_html: cleaned when received and again when shown
    received: datetime


@dataclass(slots=True)
class Reactions:
    likes: int = 0
    boosts: int = 0
    replies: list[Reply] = field(default_factory=list)


MAX_REPLIES_SHOWN = 20


async def reactions(
    conn: AsyncConnection, channel_name: str, article_ids: list[str]
) -> dict[str, Reactions]:
    """Likes, boosts and replies to any live part of each article's posts on one channel.

    Shown publicly only on channels with `show_replies`; otherwise they stay for moderation.
    """
    if not article_ids:
        return {}
    rows = (
        await conn.execute(
            select(
                posts.c.article_id,
                interactions.c.kind,
                interactions.c.actor_uri,
                interactions.c.content,
                interactions.c.created_at,
            )
            .join(interactions, interactions.c.object_uri == posts.c.uri)
            .where(
                posts.c.actor_name == channel_name,
                posts.c.article_id.in_(article_ids),
                # Not those of its deleted posts: a report published again after a retraction
                # has new posts beside the old ones (migration 0007), whose likes and replies
                # were about the withdrawn text. They stay in the table for moderation.
                posts.c.state != DELETED,
            )
            .order_by(interactions.c.created_at, interactions.c.id)
        )
    ).all()
    out: dict[str, Reactions] = {}
    for row in rows:
        found = out.setdefault(row.article_id, Reactions())
        if row.kind == "like":
            found.likes += 1
        elif row.kind == "announce":
            found.boosts += 1
        elif row.kind == "reply" and row.content and len(found.replies) < MAX_REPLIES_SHOWN:
            found.replies.append(Reply(row.actor_uri, reply_html(row.content), row.created_at))
    return out
