"""What each incoming activity type does: one function per type, registered in HANDLERS.

    verified activity | HANDLERS[type](ctx, activity)   (may fetch remote actors; no transaction)
        -> [Effect]                                     (rows to insert, or steps to run)
        | inbox writer applies the effects of many requests in one transaction

A handler decides; the writer (inbox.py) does. Effects that are plain inserts (likes, boosts,
replies) are batched into one statement per table per transaction, which is what lets the inbox
keep up with a fan-in of signed requests. Unknown types are not listed: they are accepted (202)
and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan import urls
from siarkan.config import Settings
from siarkan.distribution.outbox import InboxTarget
from siarkan.federation.activitystreams import render_accept, render_reject
from siarkan.federation.audience import ACCEPTED, BLOCKED, PENDING, host_of
from siarkan.federation.collections import reply_html
from siarkan.federation.fetch import FetchError
from siarkan.federation.outgoing import emit, new_token
from siarkan.federation.remote import RemoteDirectory, parse_actor
from siarkan.federation.sqlutil import insert_ignore, upsert
from siarkan.federation.vocab import PUBLIC, first_id, id_list
from siarkan.store.tables import blocks, followers, interactions, remote_actors

log = logging.getLogger(__name__)

Activity = dict[str, Any]
MAX_REPLY_CHARS = 20_000


class Refused(Exception):
    """The activity is refused (answered with `status`, never processed)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(slots=True)
class InsertRow:
    """Insert one row, ignoring a conflict on `conflict` (batched across requests)."""

    table: Table
    row: dict[str, Any]
    conflict: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Run:
    """A step that needs the connection (reads, updates, emitting an Accept...)."""

    step: Callable[[AsyncConnection], Awaitable[None]]


Effect = InsertRow | Run


@dataclass(slots=True)
class InboxContext:
    settings: Settings
    remote: RemoteDirectory
    now: datetime
    signer: str  # the verified actor who sent the activity
    local_actors: dict[str, str]  # actor id -> channel name
    inbox_actor: str | None = None  # channel name for a personal inbox, None for the shared one

    def local(self, uri: str | None) -> str | None:
        return self.local_actors.get(uri) if uri else None

    def our_post(self, uri: str | None) -> bool:
        return bool(uri) and str(uri).startswith(urls.base(self.settings) + "/ap/posts/")


Handler = Callable[[InboxContext, Activity], Awaitable[list[Effect]]]


# --- Follow / Undo -------------------------------------------------------------------------------


async def on_follow(ctx: InboxContext, activity: Activity) -> list[Effect]:
    target = first_id(activity.get("object"))
    channel_name = ctx.local(target)
    if channel_name is None or target is None:
        return []
    follow_id = activity.get("id")
    try:
        follower = await ctx.remote.actor(ctx.signer)
    except FetchError as exc:
        raise Refused(401, f"cannot fetch the follower: {exc}") from None
    channel = ctx.settings.channel(channel_name)
    manual = channel.fediverse.manually_approves_followers
    now = ctx.now

    async def step(conn: AsyncConnection) -> None:
        previous = await conn.scalar(
            select(followers.c.state).where(
                followers.c.actor_name == channel_name, followers.c.follower_uri == follower.uri
            )
        )
        # An accepted follower who follows again (Mastodon re-sends Follow when it lost our
        # Accept) is accepted again at once; a held request stays held.
        state = ACCEPTED if not manual or previous == ACCEPTED else PENDING
        values = {
            "actor_name": channel_name,
            "follower_uri": follower.uri,
            "inbox": follower.inbox or "",
            "shared_inbox": follower.shared_inbox,
            "host": follower.host,
            "state": state,
            "follow_activity_id": follow_id,
            "created_at": now,
            "updated_at": now,
        }
        changed = {
            k: v for k, v in values.items() if k not in ("actor_name", "follower_uri", "created_at")
        }
        await conn.execute(
            upsert(conn, followers, ["actor_name", "follower_uri"], changed).values(**values)
        )
        inbox = follower.inbox or follower.shared_inbox
        if state == ACCEPTED and inbox:
            await send_follow_answer(conn, ctx.settings, channel_name, activity, inbox, now)

    return [Run(step)]


async def send_follow_answer(
    conn: AsyncConnection,
    settings: Settings,
    channel_name: str,
    follow: Activity,
    inbox: str,
    now: datetime,
    *,
    accept: bool = True,
) -> None:
    """Accept (or Reject) a Follow: to the follower's own inbox, not the shared one."""
    actor = urls.actor_url(settings, channel_name)
    activity_id = urls.activity_uri(settings, new_token(now))
    render = render_accept if accept else render_reject
    await emit(
        conn,
        actor_name=channel_name,
        document=render(activity_id, actor, follow),
        targets=[InboxTarget(inbox, False)],
        now=now,
        public=False,
        object_uri=first_id(follow.get("id")),
    )


async def on_undo(ctx: InboxContext, activity: Activity) -> list[Effect]:
    obj = activity.get("object")
    undone_id = first_id(obj)
    kind = obj.get("type") if isinstance(obj, dict) else None
    signer = ctx.signer
    if isinstance(obj, dict) and first_id(obj.get("actor")) not in (None, signer):
        raise Refused(401, "Undo of someone else's activity")

    async def step(conn: AsyncConnection) -> None:
        if kind in (None, "Follow"):
            target = ctx.local(first_id(obj.get("object"))) if isinstance(obj, dict) else None
            condition = followers.c.follower_uri == signer
            if target is not None:
                condition = and_(condition, followers.c.actor_name == target)
            elif undone_id is not None:
                condition = and_(condition, followers.c.follow_activity_id == undone_id)
            else:
                return
            await conn.execute(delete(followers).where(condition))
        # Pleroma and Akkoma embed the reaction they undo (EmojiReact), as Mastodon embeds Likes.
        if kind in (None, "Like", "Announce", "EmojiReact") and undone_id:
            await conn.execute(
                delete(interactions).where(
                    interactions.c.activity_id == undone_id, interactions.c.actor_uri == signer
                )
            )
        if kind == "Block" and isinstance(obj, dict):
            target = ctx.local(first_id(obj.get("object")))
            if target is not None:
                await conn.execute(
                    delete(blocks).where(
                        blocks.c.actor_name == target, blocks.c.blocker_uri == signer
                    )
                )
                # They unfollowed us when blocking; they may follow again.
                await conn.execute(
                    delete(followers).where(
                        followers.c.actor_name == target,
                        followers.c.follower_uri == signer,
                        followers.c.state == BLOCKED,
                    )
                )

    return [Run(step)]


# --- actors: Delete / Update / Move ---------------------------------------------------------------


async def on_delete(ctx: InboxContext, activity: Activity) -> list[Effect]:
    object_id = first_id(activity.get("object"))
    signer = ctx.signer
    if object_id is None:
        return []
    if object_id == signer:
        ctx.remote.forget(signer)

        async def drop_actor(conn: AsyncConnection) -> None:
            await conn.execute(delete(followers).where(followers.c.follower_uri == signer))
            await conn.execute(delete(interactions).where(interactions.c.actor_uri == signer))
            await conn.execute(delete(remote_actors).where(remote_actors.c.uri == signer))

        return [Run(drop_actor)]

    async def drop_object(conn: AsyncConnection) -> None:
        # A deleted reply: the moderation copy goes too (stored under the Note's id).
        await conn.execute(
            delete(interactions).where(
                interactions.c.activity_id == object_id, interactions.c.actor_uri == signer
            )
        )

    return [Run(drop_object)]


async def on_update(ctx: InboxContext, activity: Activity) -> list[Effect]:
    obj = activity.get("object")
    if not isinstance(obj, dict):
        return []
    signer = ctx.signer
    if obj.get("id") == signer:
        try:
            actor = parse_actor(obj, signer)
        except FetchError:
            return []
        ctx.remote.forget(signer)
        now = ctx.now

        async def refresh(conn: AsyncConnection) -> None:
            values = {
                "key_id": actor.key_id,
                "public_key_pem": actor.public_key_pem,
                "inbox": actor.inbox,
                "shared_inbox": actor.shared_inbox,
                "document": actor.document,
                "fetched_at": now,
            }
            await conn.execute(
                upsert(conn, remote_actors, ["uri"], values).values(uri=actor.uri, **values)
            )
            await conn.execute(
                update(followers)
                .where(followers.c.follower_uri == actor.uri)
                .values(inbox=actor.inbox, shared_inbox=actor.shared_inbox, updated_at=now)
            )

        return [Run(refresh)]
    if obj.get("type") == "Note" and first_id(obj.get("attributedTo")) == signer:
        note_id = obj.get("id")
        content = _clean_reply(obj.get("content"))

        async def edit_reply(conn: AsyncConnection) -> None:
            await conn.execute(
                update(interactions)
                .where(interactions.c.activity_id == note_id, interactions.c.actor_uri == signer)
                .values(content=content)
            )

        return [Run(edit_reply)]
    return []


async def on_move(ctx: InboxContext, activity: Activity) -> list[Effect]:
    """A follower moved accounts: follow on with the new one if it vouches for the old.

    Mastodon sends Move{actor: old, object: old, target: new}; the new account must list the
    old one in alsoKnownAs (docs.joinmastodon.org/spec/activitypub/#Move).
    """
    old = ctx.signer
    if first_id(activity.get("object")) != old:
        return []
    target = first_id(activity.get("target"))
    if target is None:
        return []
    try:
        new = await ctx.remote.actor(target, fresh=True)
    except FetchError as exc:
        raise Refused(401, f"cannot fetch the Move target: {exc}") from None
    if old not in new.also_known_as:
        raise Refused(401, "the Move target does not list the old account in alsoKnownAs")
    now = ctx.now

    async def migrate(conn: AsyncConnection) -> None:
        rows = (
            await conn.execute(
                select(followers.c.id, followers.c.actor_name).where(
                    followers.c.follower_uri == old
                )
            )
        ).all()
        for row in rows:
            exists = await conn.scalar(
                select(followers.c.id).where(
                    followers.c.actor_name == row.actor_name, followers.c.follower_uri == new.uri
                )
            )
            if exists is not None:
                await conn.execute(delete(followers).where(followers.c.id == row.id))
                continue
            await conn.execute(
                update(followers)
                .where(followers.c.id == row.id)
                .values(
                    follower_uri=new.uri,
                    inbox=new.inbox or "",
                    shared_inbox=new.shared_inbox,
                    host=new.host,
                    updated_at=now,
                )
            )

    return [Run(migrate)]


# --- interactions: Like / Announce / replies / Block --------------------------------------------


def _interaction(
    ctx: InboxContext, kind: str, object_uri: str, key: str, content: str | None
) -> InsertRow:
    return InsertRow(
        interactions,
        {
            "kind": kind,
            "object_uri": object_uri,
            "actor_uri": ctx.signer,
            "activity_id": key,
            "content": content,
            "created_at": ctx.now,
        },
        ("activity_id",),
    )


async def on_like(ctx: InboxContext, activity: Activity) -> list[Effect]:
    object_uri = first_id(activity.get("object"))
    activity_id = activity.get("id")
    if not ctx.our_post(object_uri) or object_uri is None or not isinstance(activity_id, str):
        return []
    return [_interaction(ctx, "like", object_uri, activity_id, None)]


async def on_announce(ctx: InboxContext, activity: Activity) -> list[Effect]:
    object_uri = first_id(activity.get("object"))
    activity_id = activity.get("id")
    if not ctx.our_post(object_uri) or object_uri is None or not isinstance(activity_id, str):
        return []
    return [_interaction(ctx, "announce", object_uri, activity_id, None)]


def _clean_reply(content: Any) -> str | None:
    """Replies are kept for moderation, never shown raw: sanitised and bounded."""
    if not isinstance(content, str):
        return None
    return reply_html(content[:MAX_REPLY_CHARS])


async def on_create(ctx: InboxContext, activity: Activity) -> list[Effect]:
    obj = activity.get("object")
    if not isinstance(obj, dict):
        return []
    in_reply_to = first_id(obj.get("inReplyTo"))
    note_id = obj.get("id")
    if not ctx.our_post(in_reply_to) or in_reply_to is None or not isinstance(note_id, str):
        return []
    if first_id(obj.get("attributedTo")) not in (None, ctx.signer):
        raise Refused(401, "the reply is attributed to someone other than the signer")
    if not host_matches(note_id, ctx.signer):
        # An embedded object from another origin is not the signer's to vouch for (Fedify
        # refetches such objects by id; we simply do not keep them).
        return []
    # Keyed by the Note's id (not the Create's) so a later Delete of the Note finds it. A reply
    # not addressed to the public (a direct message, or followers-only that mentions us) is
    # kept for moderation but never shown on a profile page.
    kind = "reply" if _is_public(obj, activity) else "private_reply"
    return [_interaction(ctx, kind, in_reply_to, note_id, _clean_reply(obj.get("content")))]


# The forms of the Public collection a sender may use (Mastodon's TagManager#public_collection?
# accepts all three: compacted JSON-LD gives "as:Public" or "Public").
PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public"})


def _is_public(obj: Activity, activity: Activity) -> bool:
    """Public or unlisted: the Public collection in the object's to/cc (else the activity's)."""
    source = obj if ("to" in obj or "cc" in obj) else activity
    audience = id_list(source.get("to")) + id_list(source.get("cc"))
    return any(uri in PUBLIC_FORMS for uri in audience)


async def on_block(ctx: InboxContext, activity: Activity) -> list[Effect]:
    """Someone blocked one of our actors: stop delivering to them (and keep it that way)."""
    channel_name = ctx.local(first_id(activity.get("object")))
    if channel_name is None:
        return []
    signer, now = ctx.signer, ctx.now

    async def step(conn: AsyncConnection) -> None:
        await conn.execute(
            insert_ignore(conn, blocks, ["actor_name", "blocker_uri"]).values(
                actor_name=channel_name, blocker_uri=signer, created_at=now
            )
        )
        await conn.execute(
            update(followers)
            .where(followers.c.actor_name == channel_name, followers.c.follower_uri == signer)
            .values(state=BLOCKED, updated_at=now)
        )

    return [Run(step)]


HANDLERS: dict[str, Handler] = {
    "Follow": on_follow,
    "Undo": on_undo,
    "Delete": on_delete,
    "Update": on_update,
    "Move": on_move,
    "Like": on_like,
    "EmojiReact": on_like,
    "Announce": on_announce,
    "Create": on_create,
    "Block": on_block,
}


def host_matches(uri: str, other: str) -> bool:
    return host_of(uri) == host_of(other)
