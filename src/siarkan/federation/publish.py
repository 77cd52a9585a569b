"""Articles become fediverse posts: Create, Update only on a real change, Delete on retraction.

    article_changed (same transaction as the article write)
        | on_article_change: per fediverse channel the article belongs to
            visible, no posts yet  -> excerpts | render | posts rows (due times, quiet hours)
                                      | release the parts due now
            visible, only deleted  -> the same, with new ids (a re-publication after a
                                      retraction); the deleted posts stay Tombstones
            visible, posts exist   -> re-render; object_hash differs -> Update (published parts)
            not visible any more   -> Delete + Tombstone for published parts; scheduled dropped
    scheduler tick
        | release_due_posts: series parts overdue after downtime respaced (stored due_at moved)
          | due parts -> Create (+ Announce by the site actor) -> deliveries,
          thread order kept per inbox (each part's delivery waits for the previous part's)

Only rows are written here (transactional outbox); the delivery worker sends them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan import urls
from siarkan.articles.model import Article, Status
from siarkan.channels import belongs
from siarkan.config import ChannelSettings, Settings
from siarkan.distribution.outbox import enqueue_activity
from siarkan.excerpts import Excerpt, make_excerpts
from siarkan.federation.activitystreams import (
    PostRef,
    object_hash,
    render_announce,
    render_create,
    render_delete,
    render_post,
    render_update,
)
from siarkan.federation.audience import follower_targets
from siarkan.federation.keys import ensure_actors, fediverse_channels
from siarkan.federation.outgoing import Outgoing, emit, new_token, record_activities
from siarkan.federation.schedule import (
    DELETED,
    PUBLISHED,
    SCHEDULED,
    out_of_quiet_hours,
    part_times,
    respaced,
)
from siarkan.federation.vocab import as_time
from siarkan.store.tables import activities, actors, deliveries, posts

log = logging.getLogger(__name__)

RELEASE_BATCH = 500


def is_public(article: Article, now: datetime) -> bool:
    """Published and its time has come (never before publish_at, never once retracted)."""
    if article.status is Status.SCHEDULED:
        return article.publish_at is not None and article.publish_at <= now
    if article.status is not Status.PUBLISHED:
        return False
    return article.publish_at is None or article.publish_at <= now


def is_stale(
    settings: Settings, article: Article, now: datetime, *, withdrawn: datetime | None = None
) -> bool:
    """A report first seen long after it was published (archive import, backdating, catching
    up after downtime) goes to feeds but is not pushed to followers' timelines (WordPress
    ActivityPub #767, #1085; scheduler.stale_after).

    `withdrawn`: when its earlier posts were deleted (a re-publication after a retraction).
    Followers had the story until then, so a report restored soon after its retraction goes
    back to them, however old it is; one restored long after does not."""
    published = article.published_at or article.publish_at
    if withdrawn is not None:
        published = max(published, withdrawn) if published is not None else withdrawn
    return published is not None and now - published > settings.scheduler.stale_after


def _ref(
    settings: Settings,
    channel: ChannelSettings,
    article: Article,
    uri: str,
    *,
    in_reply_to: str | None,
    context: str | None,
    published: datetime,
) -> PostRef:
    return PostRef(
        uri=uri,
        actor=urls.actor_url(settings, channel.name),
        followers=urls.actor_followers_url(settings, channel.name),
        permalink=urls.object_link(settings, article),
        in_reply_to=in_reply_to,
        context=context,
        published=published,
    )


def excerpts_for(settings: Settings, channel: ChannelSettings, article: Article) -> list[Excerpt]:
    limits = channel.excerpts
    warning = channel.fediverse.content_warning
    if warning and channel.fediverse.object_type == "Note":
        # Mastodon counts the content warning into the 500, in full: no URL or mention
        # discount (StatusLengthValidator#combined_text).
        limits = limits.model_copy(update={"max_chars": max(limits.max_chars - len(warning), 100)})
    return make_excerpts(
        article,
        limits,
        permalink=urls.article_url(settings, article),
        tag_url=lambda tag: urls.tag_url(settings, channel.name, tag),
    )


def render_parts(
    settings: Settings,
    channel: ChannelSettings,
    article: Article,
    excerpts: Sequence[Excerpt],
    uris: Sequence[str],
    published: Sequence[datetime],
) -> list[dict[str, Any]]:
    """Objects for the article's excerpts; part k is inReplyTo part k-1 (a thread)."""
    objects: list[dict[str, Any]] = []
    for k, excerpt in enumerate(excerpts):
        ref = _ref(
            settings,
            channel,
            article,
            uris[k],
            in_reply_to=uris[k - 1] if k else None,
            context=uris[0] if len(excerpts) > 1 else None,
            published=published[k],
        )
        objects.append(
            render_post(
                channel,
                article,
                excerpt,
                ref,
                tag_url=lambda tag: urls.tag_url(settings, channel.name, tag),
            )
        )
    return objects


async def on_article_change(
    conn: AsyncConnection,
    settings: Settings,
    article: Article,
    *,
    previous: Article | None,
    now: datetime,
    release: bool = True,
) -> None:
    channels = fediverse_channels(settings)
    if not channels:
        return
    known = set((await conn.execute(select(actors.c.name))).scalars())
    if any(c.name not in known for c in channels):
        await ensure_actors(conn, settings, now)
    for channel in channels:
        rows = (
            (
                await conn.execute(
                    select(posts)
                    .where(posts.c.actor_name == channel.name, posts.c.article_id == article.id)
                    .order_by(posts.c.part)
                    # Locked (PostgreSQL): a scheduler on another node must not release a part
                    # between this read and the edit's write (it would go out with the old
                    # text, and this edit, having read it as scheduled, would send no Update).
                    .with_for_update()
                )
            )
            .mappings()
            .all()
        )
        live = [r for r in rows if r["state"] != DELETED]
        visible = is_public(article, now) and belongs(channel, article)
        if not visible:
            await _withdraw(conn, settings, channel, live, now)
        elif not live:
            # Rows here are the posts of a retraction: they stay, answering 410 with their
            # Tombstone, and the re-publication gets new ids (_create_posts mints them).
            withdrawn = max((r["updated_at"] for r in rows if r["updated_at"]), default=None)
            if is_stale(settings, article, now, withdrawn=withdrawn):
                continue
            await _create_posts(conn, settings, channel, article, now)
        else:
            await _revise_posts(conn, settings, channel, article, live, now)
    if release:
        await release_due_posts(conn, settings, now, article_id=article.id)


async def _create_posts(
    conn: AsyncConnection,
    settings: Settings,
    channel: ChannelSettings,
    article: Article,
    now: datetime,
) -> None:
    excerpts = excerpts_for(settings, channel, article)
    count = len(excerpts)
    quiet = channel.schedule.quiet_hours
    due = part_times(
        now,
        count,
        spaced=channel.excerpts.mode == "series",
        interval=channel.excerpts.series_interval,
        quiet=quiet.window if quiet else None,
        tz=settings.site.tz,
    )
    # Always new ids, also for a re-publication: Mastodon keeps a Tombstone for every status
    # it received a Delete for and refuses a later Create of that id (activitypub/activity/
    # create.rb `tombstone_exists?`, delete.rb `Tombstone.find_or_create_by`).
    uris = [urls.post_uri(settings, new_token(now)) for _ in range(count)]
    objects = render_parts(settings, channel, article, excerpts, uris, due)
    await conn.execute(
        insert(posts),
        [
            {
                "uri": uris[k],
                "actor_name": channel.name,
                "article_id": article.id,
                "part": k,
                "object": obj,
                "object_hash": object_hash(obj),
                "in_reply_to": obj.get("inReplyTo"),
                "state": SCHEDULED,
                "due_at": due[k],
                "published_at": None,
                "updated_at": None,
                "pinned": article.id in channel.pinned,
            }
            for k, obj in enumerate(objects)
        ],
    )


def _updated_after(previous: dict[str, Any], now: datetime) -> str:
    """`updated` for an edit: now, but always later than the version followers have.

    Mastodon applies an Update only when its `updated` is later than the one it stored, and
    `updated` has second precision: a second correction within the same second would be
    dropped there (a CMS that saves twice, an editor fixing a typo right away).
    """
    stamp = as_time(now)
    last = previous.get("updated") or previous.get("published")
    if isinstance(last, str) and stamp <= last:
        with contextlib.suppress(ValueError):  # not ours to fix: keep now
            stamp = as_time(datetime.fromisoformat(last) + timedelta(seconds=1))
    return stamp


async def _revise_posts(
    conn: AsyncConnection,
    settings: Settings,
    channel: ChannelSettings,
    article: Article,
    live: Sequence[RowMapping],
    now: datetime,
) -> None:
    """An edit: Update the parts whose rendering changed; add or drop parts if the split did."""
    excerpts = excerpts_for(settings, channel, article)
    count = len(excerpts)
    uris = [r["uri"] for r in live][:count]
    published = [r["published_at"] or r["due_at"] for r in live][:count]
    while len(uris) < count:  # the story grew: new parts follow the last one
        uris.append(urls.post_uri(settings, new_token(now)))
        published.append(max(now, published[-1]) if published else now)
    objects = render_parts(settings, channel, article, excerpts, uris, published)
    followers_url = urls.actor_followers_url(settings, channel.name)
    actor = urls.actor_url(settings, channel.name)
    targets = None
    # New parts follow the last one as creation spaces them: a series interval apart, never
    # inside quiet hours (an edit at 02:00 that grows a series must not post at 02:00).
    quiet = channel.schedule.quiet_hours
    spacing = (
        channel.excerpts.series_interval if channel.excerpts.mode == "series" else timedelta(0)
    )
    last_due = live[-1]["due_at"] if live else now
    for k, obj in enumerate(objects):
        digest = object_hash(obj)
        if k < len(live):
            row = live[k]
            if row["object_hash"] == digest:
                continue
            if row["state"] == PUBLISHED:
                obj["published"] = row["object"].get("published", obj["published"])
                obj["updated"] = _updated_after(row["object"], now)
                if targets is None:
                    targets = await follower_targets(
                        conn, channel.name, settings.federation.blocked_domains
                    )
                document = render_update(urls.activity_uri(settings, new_token(now)), obj, now)
                await emit(
                    conn,
                    actor_name=channel.name,
                    document=document,
                    targets=targets,
                    now=now,
                    object_uri=row["uri"],
                    after=await _latest_deliveries(conn, channel.name, row["uri"]),
                )
            await conn.execute(
                update(posts)
                .where(posts.c.id == row["id"])
                .values(object=obj, object_hash=digest, updated_at=now)
            )
        else:
            due = out_of_quiet_hours(
                max(now, last_due + spacing), quiet.window if quiet else None, settings.site.tz
            )
            last_due = due
            await conn.execute(
                insert(posts).values(
                    uri=uris[k],
                    actor_name=channel.name,
                    article_id=article.id,
                    part=k,
                    object=obj,
                    object_hash=digest,
                    in_reply_to=obj.get("inReplyTo"),
                    state=SCHEDULED,
                    due_at=due,
                    pinned=article.id in channel.pinned,
                )
            )
    # The story shrank: the parts beyond the new end are withdrawn.
    await _withdraw(
        conn, settings, channel, live[count:], now, actor=actor, followers=followers_url
    )


async def _withdraw(
    conn: AsyncConnection,
    settings: Settings,
    channel: ChannelSettings,
    rows: Sequence[RowMapping],
    now: datetime,
    *,
    actor: str | None = None,
    followers: str | None = None,
) -> None:
    """Delete (with a Tombstone) what was federated; drop what was only scheduled."""
    if not rows:
        return
    actor = actor or urls.actor_url(settings, channel.name)
    followers = followers or urls.actor_followers_url(settings, channel.name)
    targets = None
    # Last part first: a receiver never holds a reply whose parent is already gone.
    for row in sorted(rows, key=lambda r: r["part"], reverse=True):
        if row["state"] == PUBLISHED:
            if targets is None:
                targets = await follower_targets(
                    conn, channel.name, settings.federation.blocked_domains
                )
            document = render_delete(
                urls.activity_uri(settings, new_token(now)),
                actor,
                followers,
                row["uri"],
                row["object"].get("type", "Note"),
                now,
            )
            await emit(
                conn,
                actor_name=channel.name,
                document=document,
                targets=targets,
                now=now,
                object_uri=row["uri"],
                after=await _latest_deliveries(conn, channel.name, row["uri"]),
            )
        await conn.execute(
            update(posts).where(posts.c.id == row["id"]).values(state=DELETED, updated_at=now)
        )


async def _latest_deliveries(
    conn: AsyncConnection, actor_name: str, post_uri: str
) -> dict[str, int]:
    """The last delivery of each inbox about this post (its Create, or a later Update):
    {inbox: delivery id}. The next thread part, an Update or a Delete waits for it there
    (deliveries.after_id), so none overtakes a Create still being retried: a Delete that
    arrives first is dropped as unknown (Mastodon remembers it for 6 hours only, our retries
    last ~2 days) and the late Create then shows a retracted story; a reply to an unknown
    post loses its thread; an Update of an unknown post may be dropped."""
    result = await conn.execute(
        select(deliveries.c.target, func.max(deliveries.c.id))
        .join(activities, activities.c.id == deliveries.c.activity_id)
        .where(
            activities.c.object_uri == post_uri,
            activities.c.actor_name == actor_name,
            deliveries.c.kind == "activitypub",
        )
        .group_by(deliveries.c.target)
    )
    return {target: int(delivery_id) for target, delivery_id in result.all()}


async def release_due_posts(
    conn: AsyncConnection, settings: Settings, now: datetime, *, article_id: str | None = None
) -> int:
    """Turn due scheduled parts into Create activities and deliveries; returns how many.

    Parts of one thread go out in one go and in order: part n+1's delivery to an inbox waits
    for part n's there (deliveries.after_id). Safe to run on several nodes: each part is claimed
    with a conditional UPDATE, so exactly one node releases it.
    """
    await _respace_overdue_series(conn, settings, now, article_id=article_id)
    query = (
        select(posts)
        .where(posts.c.state == SCHEDULED, posts.c.due_at <= now)
        .order_by(posts.c.actor_name, posts.c.article_id, posts.c.part)
        .limit(RELEASE_BATCH)
        # PostgreSQL: the rows read are the rows released, as read. A part an edit (or another
        # scheduler) holds is left for the next tick, instead of being sent with the object
        # this statement read before that edit committed. SQLite has one writer: no clause.
        .with_for_update(skip_locked=True)
    )
    if article_id is not None:
        query = query.where(posts.c.article_id == article_id)
    rows = (await conn.execute(query)).mappings().all()
    rows = await _not_overtaking(conn, settings, rows)
    if not rows:
        return 0
    # One conditional UPDATE claims the batch: a part another node took meanwhile is not
    # returned, so exactly one node releases each part.
    claimed = set(
        (
            await conn.execute(
                update(posts)
                .where(posts.c.id.in_([row["id"] for row in rows]), posts.c.state == SCHEDULED)
                .values(state=PUBLISHED, published_at=now)
                .returning(posts.c.id)
            )
        ).scalars()
    )
    channels = {c.name: c for c in fediverse_channels(settings)}
    # Down longer than stale_after: the post exists (outbox, its URL) but is not pushed.
    pushed = [
        row
        for row in rows
        if row["id"] in claimed
        and row["actor_name"] in channels
        and now - row["due_at"] <= settings.scheduler.stale_after
    ]
    if not pushed:
        return len(claimed)
    objects = [
        dict(row["object"]) | {"published": as_time(when)}
        for row, when in zip(pushed, release_times(pushed, now), strict=True)
    ]
    await conn.execute(
        update(posts).where(posts.c.id == bindparam("post_id")).values(object=bindparam("obj")),
        [{"post_id": row["id"], "obj": obj} for row, obj in zip(pushed, objects, strict=True)],
    )
    activity_ids = await record_activities(
        conn,
        [
            Outgoing(
                row["actor_name"],
                render_create(urls.activity_uri(settings, new_token(now)), obj),
                row["uri"],
            )
            for row, obj in zip(pushed, objects, strict=True)
        ],
        now=now,
    )
    targets_by_actor: dict[str, Any] = {}
    chain: dict[tuple[str, str], dict[str, int]] = {}
    for row, activity_id in zip(pushed, activity_ids, strict=True):
        channel = channels[row["actor_name"]]
        if channel.name not in targets_by_actor:
            targets_by_actor[channel.name] = await follower_targets(
                conn, channel.name, settings.federation.blocked_domains
            )
        targets = targets_by_actor[channel.name]
        key = (row["actor_name"], row["article_id"])
        after = chain.get(key)
        if after is None and row["in_reply_to"] and targets:
            after = await _latest_deliveries(conn, channel.name, row["in_reply_to"])
        chain[key] = await enqueue_activity(
            conn,
            activity_id=activity_id,
            actor_name=channel.name,
            targets=targets,
            now=now,
            after=after,
        )
        if row["part"] == 0:
            await _announce(conn, settings, channel, row["article_id"], row["uri"], now, chain[key])
    return len(claimed)


async def _not_overtaking(
    conn: AsyncConnection, settings: Settings, rows: Sequence[RowMapping]
) -> Sequence[RowMapping]:
    """The rows read for release, less series parts whose earlier part is still scheduled but
    was not read: on PostgreSQL another transaction holds it (SKIP LOCKED), and the part after
    it must not go out first. Thread parts go together anyway (deliveries.after_id)."""
    series = {c.name for c in fediverse_channels(settings) if c.excerpts.mode == "series"}
    keys = {(r["actor_name"], r["article_id"]) for r in rows if r["actor_name"] in series}
    if not keys:
        return rows
    scheduled = await conn.execute(
        select(posts.c.id, posts.c.actor_name, posts.c.article_id, posts.c.part).where(
            posts.c.state == SCHEDULED,
            posts.c.actor_name.in_({actor for actor, _ in keys}),
            posts.c.article_id.in_({article for _, article in keys}),
        )
    )
    return first_parts_only(rows, [(a, b, part, id_) for id_, a, b, part in scheduled.all()])


def first_parts_only(
    rows: Sequence[RowMapping], scheduled: Sequence[tuple[str, str, int, int]]
) -> list[RowMapping]:
    """`rows` without any whose (actor, article) has a scheduled part before it, by part
    number, that is not among `rows` itself (`scheduled`: (actor, article, part, id))."""
    read = {r["id"] for r in rows}
    first_missing: dict[tuple[str, str], int] = {}
    for actor, article, part, id_ in scheduled:
        key = (actor, article)
        if id_ not in read and part < first_missing.get(key, part + 1):
            first_missing[key] = part
    return [
        r
        for r in rows
        if r["part"] < first_missing.get((r["actor_name"], r["article_id"]), r["part"] + 1)
    ]


async def _respace_overdue_series(
    conn: AsyncConnection, settings: Settings, now: datetime, *, article_id: str | None
) -> None:
    """Move the due times of series parts that came due while we were down (schedule.respaced),
    so the release that follows sends one part per series, not a burst. Stored, so a restart
    before the next part does not burst either. Stale parts (scheduler.stale_after) keep their
    time: they reach the outbox, not timelines, as before."""
    series = {c.name: c for c in fediverse_channels(settings) if c.excerpts.mode == "series"}
    if not series:
        return
    overdue = posts.alias("overdue")
    query = (
        select(posts.c.id, posts.c.actor_name, posts.c.article_id, posts.c.due_at)
        .where(
            posts.c.state == SCHEDULED,
            posts.c.actor_name.in_(series),
            posts.c.due_at >= now - settings.scheduler.stale_after,
            exists().where(
                overdue.c.actor_name == posts.c.actor_name,
                overdue.c.article_id == posts.c.article_id,
                overdue.c.state == SCHEDULED,
                overdue.c.due_at <= now,
                overdue.c.due_at >= now - settings.scheduler.stale_after,
            ),
        )
        .order_by(posts.c.actor_name, posts.c.article_id, posts.c.part)
        # PostgreSQL: a series another node is respacing (or an edit holds) is skipped, and
        # its release with it (release_due_posts skips the same locked rows).
        .with_for_update(skip_locked=True)
    )
    if article_id is not None:
        query = query.where(posts.c.article_id == article_id)
    by_series: dict[tuple[str, str], list[RowMapping]] = {}
    for row in (await conn.execute(query)).mappings():
        by_series.setdefault((row["actor_name"], row["article_id"]), []).append(row)
    moved: list[dict[str, Any]] = []
    for (actor_name, _), rows in by_series.items():
        channel = series[actor_name]
        quiet = channel.schedule.quiet_hours
        times = respaced(
            [row["due_at"] for row in rows],
            now,
            interval=channel.excerpts.series_interval,
            quiet=quiet.window if quiet else None,
            tz=settings.site.tz,
            slack=timedelta(seconds=settings.scheduler.tick_seconds),
        )
        moved += [
            {"post_id": row["id"], "due": when}
            for row, when in zip(rows, times, strict=True)
            if when != row["due_at"]
        ]
    if moved:
        await conn.execute(
            update(posts).where(posts.c.id == bindparam("post_id")).values(due_at=bindparam("due")),
            moved,
        )


def release_times(rows: Sequence[RowMapping], now: datetime) -> list[datetime]:
    """Parts of one thread released together are published a second apart, the last one now:
    `published` has second precision and receivers order timelines by it (Mastodon derives
    status ids from it), so equal times could show part 3 above part 2. Pure."""
    last: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["actor_name"], row["article_id"])
        last[key] = max(last.get(key, 0), row["part"])
    return [
        now - timedelta(seconds=last[(row["actor_name"], row["article_id"])] - row["part"])
        for row in rows
    ]


async def _announce(
    conn: AsyncConnection,
    settings: Settings,
    channel: ChannelSettings,
    article_id: str,
    object_uri: str,
    now: datetime,
    after: Mapping[str, int],
) -> None:
    """The site-wide account boosts a section account's post to its own followers.

    Not when the site account publishes the same article itself: its followers would see the
    story twice (users of the WordPress plugin complain of exactly this kind of noise).
    """
    booster_name = channel.fediverse.announce_by
    if not booster_name or booster_name == channel.name:
        return
    booster = next((c for c in fediverse_channels(settings) if c.name == booster_name), None)
    if booster is None:
        log.warning("announce_by names no fediverse channel", extra={"channel": channel.name})
        return
    own = await conn.scalar(
        select(posts.c.id).where(
            posts.c.actor_name == booster.name,
            posts.c.article_id == article_id,
            posts.c.state != DELETED,
        )
    )
    if own is not None:
        return
    targets = await follower_targets(conn, booster.name, settings.federation.blocked_domains)
    document = render_announce(
        urls.activity_uri(settings, new_token(now)),
        urls.actor_url(settings, booster.name),
        urls.actor_followers_url(settings, booster.name),
        object_uri,
        urls.actor_url(settings, channel.name),
        now,
    )
    await emit(
        conn,
        actor_name=booster.name,
        document=document,
        targets=targets,
        now=now,
        object_uri=object_uri,
        after={inbox: after[inbox] for inbox in (t.inbox for t in targets) if inbox in after},
    )
