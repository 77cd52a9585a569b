"""Publishing: articles -> posts -> Create/Update/Delete/Announce activities -> delivery rows."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import insert, select

from siarkan.articles.model import Article, Status
from siarkan.config import Settings
from siarkan.excerpts import mastodon_length
from siarkan.federation import collections, publish
from siarkan.federation.keys import ensure_actors
from siarkan.store.articles import retract_article, upsert_article
from siarkan.store.db import Database
from siarkan.store.tables import activities, deliveries, followers, posts

SERIES = """  - name: seri
    title: Laporan Khusus
    match:
      tags: [banjir]
    excerpts:
      mode: series
      series_parts: 3
      series_interval: PT2H
    schedule:
      quiet_hours: {start: "22:00", end: "06:00"}
    fediverse:
      enabled: true
      username: laporan
"""


async def add_follower(
    db: Database,
    settings: Settings,
    actor: str,
    uri: str,
    inbox: str,
    shared: str | None = None,
    state: str = "accepted",
) -> None:
    now = datetime.now(UTC)
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
        await conn.execute(
            insert(followers).values(
                actor_name=actor, follower_uri=uri, inbox=inbox, shared_inbox=shared,
                host=uri.split("/")[2], state=state, follow_activity_id=f"{uri}#f",
                created_at=now, updated_at=now,
            )
        )  # fmt: skip


async def store(
    db: Database, settings: Settings, article: Article, now: datetime, *, restore: bool = False
) -> Article:
    """What the importer does (restore=True: the admin API): upsert, then article_changed's
    federation half, one transaction."""
    async with db.begin() as conn:
        result = await upsert_article(conn, article, now=now, restore=restore)
        await publish.on_article_change(
            conn, settings, result.article, previous=result.previous, now=now
        )
    return result.article


async def all_rows(db: Database, table: Any, *where: Any, order: Any = None) -> list[Any]:
    query = select(table).where(*where)
    if order is not None:
        query = query.order_by(order)
    async with db.connect() as conn:
        return list((await conn.execute(query)).mappings().all())


def text_of(content: str) -> str:
    """A Note's HTML as Mastodon's reader sees it: paragraphs, no tags."""
    text = re.sub(r"</p>\s*<p>", "\n\n", content)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def soon_after(article: Article) -> datetime:
    assert article.published_at is not None
    return article.published_at + timedelta(minutes=1)


async def test_a_thread_goes_out_in_order_to_each_inbox_once(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    now = soon_after(article)
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
    # Two followers on one server share an inbox; one follower is on another server.
    await add_follower(
        db,
        settings,
        "utama",
        "https://m.example/users/a",
        "https://m.example/users/a/inbox",
        "https://m.example/inbox",
    )
    await add_follower(
        db,
        settings,
        "utama",
        "https://m.example/users/b",
        "https://m.example/users/b/inbox",
        "https://m.example/inbox",
    )
    await add_follower(
        db, settings, "utama", "https://solo.example/u", "https://solo.example/u/inbox"
    )
    await add_follower(
        db, settings, "utama", "https://p.example/u", "https://p.example/u/inbox", state="pending"
    )
    await store(db, settings, article, now)

    parts = await all_rows(db, posts, posts.c.actor_name == "utama", order=posts.c.part)
    assert len(parts) > 1, "the test report is long enough for a thread"
    assert all(p["state"] == "published" for p in parts)
    for k, part in enumerate(parts):
        obj = part["object"]
        assert obj["type"] == "Note" and obj["id"] == part["uri"]
        assert obj["inReplyTo"] == (parts[k - 1]["uri"] if k else None)
        assert mastodon_length(text_of(obj["content"])) <= 500
        assert "<img" not in obj["content"]
        assert ("attachment" in obj) == (k == 0)
    creates = await all_rows(
        db,
        activities,
        activities.c.actor_name == "utama",
        activities.c.type == "Create",
        order=activities.c.id,
    )
    assert [c["object_uri"] for c in creates] == [p["uri"] for p in parts]
    sent = await all_rows(
        db,
        deliveries,
        deliveries.c.kind == "activitypub",
        deliveries.c.activity_id.in_([c["id"] for c in creates]),
        order=deliveries.c.id,
    )
    inboxes = {d["target"] for d in sent}
    assert inboxes == {"https://m.example/inbox", "https://solo.example/u/inbox"}
    assert len(sent) == 2 * len(parts)
    # Part n+1 at an inbox waits for part n at the same inbox.
    by_activity = {c["id"]: k for k, c in enumerate(creates)}
    for inbox in inboxes:
        chain = [d for d in sent if d["target"] == inbox]
        assert [by_activity[d["activity_id"]] for d in chain] == list(range(len(parts)))
        assert chain[0]["after_id"] is None
        assert [d["after_id"] for d in chain[1:]] == [d["id"] for d in chain[:-1]]
    # Receivers order timelines by `published` (second precision): the parts released together
    # are a second apart, the last one at the release time, none in the future.
    published = [
        datetime.fromisoformat(json.loads(c["body"])["object"]["published"]) for c in creates
    ]
    assert published == sorted(set(published))
    assert published[-1] == now.replace(microsecond=0)


SITE_AND_SECTION = """  - name: situs
    title: Situs
    match:
      sections: [Nasional]
    fediverse:
      enabled: true
      username: situs
  - name: serang
    title: Serang
    match:
      sections: [Banten]
    fediverse:
      enabled: true
      username: serang
      announce_by: situs
"""


async def test_the_site_account_announces_section_posts(
    db: Database, make_settings: Callable[..., Settings], make_article: Callable[..., Article]
) -> None:
    settings = make_settings(channels_extra=SITE_AND_SECTION)
    article = make_article()
    now = soon_after(article)
    shared = "https://m.example/inbox"
    await add_follower(
        db, settings, "serang", "https://m.example/users/a", "https://m.example/a/i", shared
    )
    await add_follower(
        db, settings, "situs", "https://m.example/users/b", "https://m.example/b/i", shared
    )
    await store(db, settings, article, now)

    (serang_post,) = await all_rows(db, posts, posts.c.actor_name == "serang")
    assert await all_rows(db, posts, posts.c.actor_name == "situs") == []
    (announce,) = await all_rows(db, activities, activities.c.type == "Announce")
    assert announce["actor_name"] == "situs"
    assert announce["object_uri"] == serang_post["uri"]
    body = json.loads(announce["body"])
    assert body["actor"].endswith("/ap/actors/situs") and body["object"] == serang_post["uri"]
    (boost,) = await all_rows(db, deliveries, deliveries.c.activity_id == announce["id"])
    (create,) = await all_rows(
        db, activities, activities.c.type == "Create", activities.c.actor_name == "serang"
    )
    (original,) = await all_rows(db, deliveries, deliveries.c.activity_id == create["id"])
    assert boost["target"] == original["target"] == shared
    assert boost["after_id"] == original["id"]  # the post arrives before its boost


async def test_no_announce_when_the_site_account_posts_the_story_itself(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    # banten has announce_by: utama, but utama takes every article: its followers would see
    # the story twice.
    article = make_article()
    await store(db, settings, article, soon_after(article))
    assert await all_rows(db, posts, posts.c.actor_name == "banten")
    assert await all_rows(db, posts, posts.c.actor_name == "utama")
    assert await all_rows(db, activities, activities.c.type == "Announce") == []


async def test_an_unchanged_save_sends_nothing_and_an_edit_sends_update(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    now = soon_after(article)
    await add_follower(db, settings, "banten", "https://m.example/u", "https://m.example/u/inbox")
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
    stored = await store(db, settings, article, now)
    before = len(await all_rows(db, activities))
    # A re-save that changes nothing a reader sees (e.g. the CMS bumped updated_at).
    async with db.begin() as conn:
        await publish.on_article_change(
            conn, settings, replace(stored, updated_at=now), previous=stored, now=now
        )
    assert len(await all_rows(db, activities)) == before
    # A real correction of the lead.
    fixed = (stored.paragraphs[0].replace("1.250 rumah", "1.300 rumah"), *stored.paragraphs[1:])
    later = now + timedelta(minutes=5)
    await store(db, settings, replace(article, paragraphs=fixed), later)
    updates = await all_rows(db, activities, activities.c.type == "Update")
    assert {u["actor_name"] for u in updates} == {"banten", "utama"}
    banten_update = next(u for u in updates if u["actor_name"] == "banten")
    body = json.loads(banten_update["body"])
    assert "1.300 rumah" in body["object"]["content"]
    assert body["object"]["updated"] and body["object"]["published"] != body["object"]["updated"]
    # utama's thread: only the part whose text changed is updated.
    utama_parts = await all_rows(db, posts, posts.c.actor_name == "utama")
    utama_updates = [u for u in updates if u["actor_name"] == "utama"]
    assert len(utama_updates) == 1 < len(utama_parts)


async def test_retraction_deletes_published_posts_with_tombstones(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    now = soon_after(article)
    await add_follower(db, settings, "banten", "https://m.example/u", "https://m.example/u/inbox")
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
    await store(db, settings, article, now)
    later = now + timedelta(hours=1)
    async with db.begin() as conn:
        retracted = await retract_article(conn, article.id, now=later)
        assert retracted is not None
        await publish.on_article_change(conn, settings, retracted, previous=article, now=later)
    assert {p["state"] for p in await all_rows(db, posts)} == {"deleted"}
    deletes = await all_rows(db, activities, activities.c.type == "Delete")
    assert len(deletes) == len(await all_rows(db, posts))
    body = json.loads(deletes[0]["body"])
    assert body["object"]["type"] == "Tombstone" and body["object"]["formerType"] == "Note"
    banten_delete = next(d for d in deletes if d["actor_name"] == "banten")
    assert await all_rows(db, deliveries, deliveries.c.activity_id == banten_delete["id"])


async def test_scheduled_articles_publish_nothing_until_their_time(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    publish_at = now + timedelta(hours=3)
    article = make_article(status=Status.SCHEDULED, publish_at=publish_at, published_at=None)
    stored = await store(db, settings, article, now)
    assert stored.status is Status.SCHEDULED
    assert await all_rows(db, posts) == []
    # The scheduler flips it at its time and calls article_changed again.
    flip = publish_at + timedelta(seconds=20)
    flipped = replace(stored, status=Status.PUBLISHED)
    async with db.begin() as conn:
        await publish.on_article_change(conn, settings, flipped, previous=stored, now=flip)
    assert {p["state"] for p in await all_rows(db, posts)} == {"published"}


async def test_an_archive_import_is_not_pushed_to_timelines(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    assert article.published_at is not None
    await store(db, settings, article, article.published_at + timedelta(days=30))
    assert await all_rows(db, posts) == []


async def test_series_parts_are_spaced_and_kept_out_of_quiet_hours(
    db: Database, make_settings: Callable[..., Settings], make_article: Callable[..., Article]
) -> None:
    settings = make_settings(channels_extra=SERIES)
    # 20:30 in Jakarta (13:30 UTC): part 2 would be 22:30 -> pushed to 06:00 the next morning.
    published = datetime(2026, 11, 28, 13, 30, tzinfo=UTC)
    article = make_article(published_at=published, updated_at=published)
    now = published + timedelta(seconds=5)
    await add_follower(db, settings, "seri", "https://m.example/u", "https://m.example/u/inbox")
    await store(db, settings, article, now)
    parts = await all_rows(db, posts, posts.c.actor_name == "seri", order=posts.c.part)
    assert len(parts) >= 3
    jakarta = settings.site.tz
    due = [p["due_at"].astimezone(jakarta) for p in parts]
    assert parts[0]["state"] == "published" and due[0] == now.astimezone(jakarta)
    assert due[1].hour == 6 and due[1].minute == 0 and due[1].day == 29
    assert due[2] - due[1] == timedelta(hours=2)
    assert [p["state"] for p in parts[1:]] == ["scheduled"] * (len(parts) - 1)

    # The scheduler's tick releases what is due, and only that.
    async with db.begin() as conn:
        assert await publish.release_due_posts(conn, settings, due[1] - timedelta(minutes=1)) == 0
        assert await publish.release_due_posts(conn, settings, due[1] + timedelta(seconds=10)) == 1
        assert await publish.release_due_posts(conn, settings, due[1] + timedelta(seconds=11)) == 0
    first, second = (
        await all_rows(db, deliveries, deliveries.c.actor_name == "seri", order=deliveries.c.id)
    )[:2]
    assert second["after_id"] == first["id"]  # released later, still ordered after part 1


async def test_parts_added_by_an_edit_are_spaced_and_kept_out_of_quiet_hours(
    db: Database, make_settings: Callable[..., Settings], make_article: Callable[..., Article]
) -> None:
    settings = make_settings(channels_extra=SERIES)
    jakarta = settings.site.tz
    published = datetime(2026, 11, 28, 13, 30, tzinfo=UTC)  # 20:30 in Jakarta
    article = make_article(published_at=published, updated_at=published)
    await add_follower(db, settings, "seri", "https://m.example/u", "https://m.example/u/inbox")
    await store(db, settings, article, published + timedelta(seconds=5))
    before = await all_rows(db, posts, posts.c.actor_name == "seri", order=posts.c.part)
    async with db.begin() as conn:  # every part goes out
        await publish.release_due_posts(conn, settings, before[-1]["due_at"] + timedelta(minutes=1))
    # The next night at 23:30 (quiet hours), an edit triples the story: the series grows.
    night = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)
    more = tuple(f"{word}: {p}" for word in ("Tambahan", "Pembaruan") for p in article.paragraphs)
    paragraphs = article.paragraphs + more
    await store(db, settings, replace(article, paragraphs=paragraphs).with_hash(), night)
    parts = await all_rows(db, posts, posts.c.actor_name == "seri", order=posts.c.part)
    added = parts[len(before) :]
    assert len(added) >= 2
    due = [p["due_at"].astimezone(jakarta) for p in added]
    # Held to 06:00 the next morning, not posted at 23:30; then one interval apart.
    assert [p["state"] for p in added] == ["scheduled"] * len(added)
    assert (due[0].day, due[0].hour, due[0].minute) == (30, 6, 0)
    assert all(b - a == timedelta(hours=2) for a, b in pairwise(due))


async def test_release_is_claimed_once_across_nodes(
    db: Database, make_settings: Callable[..., Settings], make_article: Callable[..., Article]
) -> None:
    settings = make_settings(channels_extra=SERIES)
    published = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    article = make_article(published_at=published, updated_at=published)
    await store(db, settings, article, published)
    due = published + timedelta(hours=2, seconds=1)
    async with db.begin() as a:
        first = await publish.release_due_posts(a, settings, due)
    async with db.begin() as b:
        second = await publish.release_due_posts(b, settings, due)
    assert (first, second) == (1, 0)
    creates = await all_rows(
        db, activities, activities.c.type == "Create", activities.c.actor_name == "seri"
    )
    assert len(creates) == 2


async def test_two_edits_in_the_same_second_still_move_updated_forward(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    """Mastodon applies an Update only when `updated` (second precision) is later than the
    one it has: the second of two quick corrections must not carry the same stamp."""
    article = make_article()
    now = soon_after(article)
    await add_follower(db, settings, "banten", "https://m.example/u", "https://m.example/u/inbox")
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
    await store(db, settings, article, now)
    edit = now + timedelta(minutes=5, microseconds=100)
    first = (article.paragraphs[0].replace("1.250 rumah", "1.300 rumah"), *article.paragraphs[1:])
    await store(db, settings, replace(article, paragraphs=first), edit)
    second = (first[0].replace("1.300 rumah", "1.310 rumah"), *first[1:])
    await store(db, settings, replace(article, paragraphs=second), edit + timedelta(microseconds=5))
    updates = await all_rows(
        db, activities, activities.c.type == "Update", activities.c.actor_name == "banten",
        order=activities.c.id,
    )  # fmt: skip
    stamps = [json.loads(u["body"])["object"]["updated"] for u in updates]
    assert len(stamps) == 2 and stamps[0] < stamps[1]
    (post,) = await all_rows(db, posts, posts.c.actor_name == "banten")
    assert post["object"]["updated"] == stamps[1]


async def test_featured_lists_pinned_articles_mastodon_can_read(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    """Mastodon keeps a featured item only if it is a string or an embedded Note: a pinned
    post of an Article channel is listed by its id (fetched), a Note is embedded."""
    article = make_article()
    banten = settings.channel("banten")
    as_article = banten.model_copy(
        update={
            "pinned": (article.id,),
            "fediverse": banten.fediverse.model_copy(update={"object_type": "Article"}),
        }
    )
    custom = settings.model_copy(
        update={
            "channels": tuple(as_article if c.name == "banten" else c for c in settings.channels)
        }
    )
    now = soon_after(article)
    async with db.begin() as conn:
        await ensure_actors(conn, custom, now)
    await store(db, custom, article, now)
    async with db.connect() as conn:
        featured = await collections.featured_collection(conn, custom, as_article)
        (post,) = await all_rows(db, posts, posts.c.actor_name == "banten", posts.c.part == 0)
        assert featured["orderedItems"] == [post["uri"]] and featured["totalItems"] == 1
        as_note = as_article.model_copy(update={"fediverse": banten.fediverse})
        await store(db, settings, replace(article, title=article.title + " (revisi)"), now)
        (note,) = (await collections.featured_collection(conn, settings, as_note))["orderedItems"]
    assert isinstance(note, dict) and note["type"] == "Note" and "@context" not in note
