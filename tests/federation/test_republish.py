"""A report published again after its retraction, and parts an edit drops then adds back.

Mastodon keeps a Tombstone for every status it received a Delete for and refuses a later Create
of that id (app/lib/activitypub/activity/create.rb `tombstone_exists?`, delete.rb): what comes
back must come with new ids, while the retracted ids keep answering 410 here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert

from siarkan.articles.model import Article, Status
from siarkan.config import Settings
from siarkan.federation import collections, publish
from siarkan.store.articles import Outcome, retract_article, upsert_article
from siarkan.store.db import Database
from siarkan.store.tables import activities, deliveries, interactions, posts
from tests.federation.test_publish import add_follower, all_rows, soon_after, store

FOLLOWER_INBOX = "https://m.example/u/inbox"


async def retract(db: Database, settings: Settings, article: Article, now: datetime) -> None:
    """What DELETE /api/articles/{id} does."""
    async with db.begin() as conn:
        retracted = await retract_article(conn, article.id, now=now)
        assert retracted is not None
        await publish.on_article_change(conn, settings, retracted, previous=article, now=now)


def corrected(article: Article, figure: str = "1.300 rumah") -> Article:
    lead = article.paragraphs[0].replace("1.250 rumah", figure)
    return replace(article, paragraphs=(lead, *article.paragraphs[1:]))


async def since(db: Database, when: datetime) -> list[dict[str, object]]:
    rows = await all_rows(db, activities, activities.c.created_at >= when, order=activities.c.id)
    return [dict(row) for row in rows]


@pytest.mark.parametrize("edited", [False, True], ids=["as-it-was", "corrected"])
async def test_a_report_published_again_after_its_retraction_gets_new_ids(
    db: Database, settings: Settings, make_article: Callable[..., Article], edited: bool
) -> None:
    article = make_article()
    now = soon_after(article)
    await add_follower(db, settings, "banten", "https://m.example/u", FOLLOWER_INBOX)
    await store(db, settings, article, now)
    first = await all_rows(db, posts, order=posts.c.id)
    await retract(db, settings, article, now + timedelta(hours=1))

    restored_at = now + timedelta(hours=2)
    restored = await store(
        db, settings, corrected(article) if edited else article, restored_at, restore=True
    )
    assert restored.status is Status.PUBLISHED
    rows = await all_rows(db, posts, order=posts.c.id)
    old, new = rows[: len(first)], rows[len(first) :]
    # The retracted posts stay, deleted, at their ids; the restored ones have new ids.
    assert [(p["uri"], p["state"]) for p in old] == [(p["uri"], "deleted") for p in first]
    assert sorted((p["actor_name"], p["part"]) for p in new) == sorted(
        (p["actor_name"], p["part"]) for p in first
    )
    assert {p["state"] for p in new} == {"published"}
    assert not {p["uri"] for p in new} & {p["uri"] for p in old}
    # Followers get a Create of each new post, and nothing more.
    sent = await since(db, restored_at)
    assert [a["type"] for a in sent] == ["Create"] * len(new)
    assert sorted(str(a["object_uri"]) for a in sent) == sorted(p["uri"] for p in new)
    (banten_post,) = [p for p in new if p["actor_name"] == "banten"]
    (banten_create,) = [a for a in sent if a["object_uri"] == banten_post["uri"]]
    body = json.loads(str(banten_create["body"]))
    assert body["object"]["id"] == banten_post["uri"]
    assert ("1.300 rumah" in body["object"]["content"]) is edited
    (delivery,) = await all_rows(db, deliveries, deliveries.c.activity_id == banten_create["id"])
    assert delivery["target"] == FOLLOWER_INBOX

    # Live again: a later correction is an Update of the new ids, never a second Create.
    edit_at = restored_at + timedelta(minutes=5)
    await store(db, settings, corrected(article, "1.310 rumah"), edit_at)
    edits = await since(db, edit_at)
    assert edits and {a["type"] for a in edits} == {"Update"}
    assert {a["object_uri"] for a in edits} <= {p["uri"] for p in new}


async def test_an_edit_of_a_retracted_report_stays_quiet_until_it_is_published_again(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    now = soon_after(article)
    await add_follower(db, settings, "banten", "https://m.example/u", FOLLOWER_INBOX)
    await store(db, settings, article, now)
    await retract(db, settings, article, now + timedelta(hours=1))
    tombstones = await all_rows(db, posts, order=posts.c.id)
    assert {p["state"] for p in tombstones} == {"deleted"}

    # The newsroom corrects the retracted report: nothing reaches followers (an Update of a
    # Tombstone is dropped by Mastodon anyway), the retracted posts stay as they were.
    edit_at = now + timedelta(hours=2)
    still_retracted = replace(corrected(article), status=Status.RETRACTED)
    edited = await store(db, settings, still_retracted, edit_at)
    assert edited.status is Status.RETRACTED
    assert await since(db, edit_at) == []
    assert await all_rows(db, posts, order=posts.c.id) == tombstones

    # Published again: the corrected text goes out, under new ids.
    back_at = edit_at + timedelta(hours=1)
    await store(db, settings, corrected(article), back_at, restore=True)
    sent = await since(db, back_at)
    assert sent and {a["type"] for a in sent} == {"Create"}
    assert not {a["object_uri"] for a in sent} & {p["uri"] for p in tombstones}
    retracted = await all_rows(db, posts, posts.c.state == "deleted", order=posts.c.id)
    assert retracted == tombstones
    assert all("1.300 rumah" in str(a["body"]) for a in sent if a["actor_name"] == "banten")


async def test_a_restored_report_goes_back_to_followers_if_they_lost_it_recently(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    """Staleness (scheduler.stale_after, 12 h) counts from the retraction for a restored
    report: its followers had it until then, however long ago it was first published."""
    article = make_article()
    now = soon_after(article)
    await store(db, settings, article, now)
    retracted_at = now + timedelta(days=3)
    await retract(db, settings, article, retracted_at)
    restored_at = retracted_at + timedelta(hours=1)
    await store(db, settings, article, restored_at, restore=True)
    assert {a["type"] for a in await since(db, restored_at)} == {"Create"}

    # Retracted again, and restored two days later: feeds get it back, timelines do not.
    again = restored_at + timedelta(minutes=30)
    await retract(db, settings, article, again)
    live = await all_rows(db, posts, posts.c.state != "deleted")
    assert live == []
    late = again + timedelta(days=2)
    assert (await store(db, settings, article, late, restore=True)).status is Status.PUBLISHED
    assert await since(db, late) == []
    assert await all_rows(db, posts, posts.c.state != "deleted") == []


async def test_parts_an_edit_drops_and_adds_back_get_new_ids(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    now = soon_after(article)
    await store(db, settings, article, now)
    thread = await all_rows(db, posts, posts.c.actor_name == "utama", order=posts.c.part)
    assert len(thread) > 2
    # Cut to its lead: the other parts are deleted (Delete + Tombstone).
    await store(db, settings, replace(article, paragraphs=article.paragraphs[:1]), now)
    # The full story again: the thread grows back with new posts beside the tombstones.
    grown_at = now + timedelta(minutes=10)
    await store(db, settings, article, grown_at)
    rows = await all_rows(db, posts, posts.c.actor_name == "utama", order=posts.c.id)
    dropped = {p["uri"] for p in thread[1:]}
    assert {p["state"] for p in rows if p["uri"] in dropped} == {"deleted"}
    added = [p for p in rows if p["state"] == "published" and p["part"] > 0]
    assert [p["part"] for p in added] == [p["part"] for p in thread[1:]]
    assert not {p["uri"] for p in added} & dropped
    assert added[0]["in_reply_to"] == thread[0]["uri"]
    creates = [a for a in await since(db, grown_at) if a["type"] == "Create"]
    assert [a["object_uri"] for a in creates] == [p["uri"] for p in added]


async def test_a_pinned_report_published_again_is_featured_by_its_new_post(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    banten = settings.channel("banten").model_copy(update={"pinned": (article.id,)})
    pinned = settings.model_copy(
        update={"channels": tuple(banten if c.name == "banten" else c for c in settings.channels)}
    )
    now = soon_after(article)
    await store(db, pinned, article, now)
    await retract(db, pinned, article, now + timedelta(hours=1))
    async with db.connect() as conn:
        assert (await collections.featured_collection(conn, pinned, banten))["totalItems"] == 0
    await store(db, pinned, article, now + timedelta(hours=2), restore=True)
    (post,) = await all_rows(db, posts, posts.c.actor_name == "banten", posts.c.state != "deleted")
    assert post["pinned"]
    async with db.connect() as conn:
        featured = await collections.featured_collection(conn, pinned, banten)
    assert [note["id"] for note in featured["orderedItems"]] == [post["uri"]]


async def test_reading_the_site_again_does_not_undo_a_retraction(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    # An import or a source poll meets the retracted report, unchanged, on the publisher's
    # site: it stays retracted and nothing is sent (only an editor's push restores it).
    article = make_article()
    now = soon_after(article)
    await add_follower(db, settings, "banten", "https://m.example/u", FOLLOWER_INBOX)
    await store(db, settings, article, now)
    await retract(db, settings, article, now + timedelta(hours=1))
    reread_at = now + timedelta(hours=2)
    assert (await store(db, settings, article, reread_at)).status is Status.RETRACTED
    assert await since(db, reread_at) == []
    assert await all_rows(db, posts, posts.c.state != "deleted") == []
    # Edited on the publisher's site meanwhile: the new text is kept, still retracted.
    edited_at = reread_at + timedelta(hours=1)
    kept = await store(db, settings, corrected(article), edited_at)
    assert kept.status is Status.RETRACTED and "1.300 rumah" in kept.paragraphs[0]
    assert await since(db, edited_at) == []
    assert await all_rows(db, posts, posts.c.state != "deleted") == []
    # Read once more, unchanged: nothing to do.
    async with db.begin() as conn:
        again = await upsert_article(conn, corrected(article), now=edited_at)
    assert again.outcome is Outcome.UNCHANGED


async def test_reactions_to_the_retracted_posts_do_not_follow_the_report_back(
    db: Database, settings: Settings, make_article: Callable[..., Article]
) -> None:
    """The profile page counts likes and shows replies per article: those the retracted posts
    got (about the text that was withdrawn) stay in the table for moderation, but are not the
    new posts' reactions, which start from none as they do on Mastodon."""
    article = make_article()
    now = soon_after(article)
    await store(db, settings, article, now)
    (old,) = await all_rows(db, posts, posts.c.actor_name == "banten")

    async def react(kind: str, object_uri: str, n: int, content: str | None = None) -> None:
        async with db.begin() as conn:
            await conn.execute(
                insert(interactions).values(
                    kind=kind,
                    object_uri=object_uri,
                    actor_uri=f"https://m.example/u{n}",
                    activity_id=f"https://m.example/a/{n}",
                    content=content,
                    created_at=now + timedelta(minutes=n),
                )
            )

    await react("like", old["uri"], 1)
    await react("reply", old["uri"], 2, "<p>Ini keliru</p>")
    async with db.connect() as conn:
        before = await collections.reactions(conn, "banten", [article.id])
    assert before[article.id].likes == 1 and len(before[article.id].replies) == 1

    await retract(db, settings, article, now + timedelta(hours=1))
    await store(db, settings, article, now + timedelta(hours=2), restore=True)
    (new,) = await all_rows(db, posts, posts.c.actor_name == "banten", posts.c.state != "deleted")
    async with db.connect() as conn:
        assert await collections.reactions(conn, "banten", [article.id]) == {}
    await react("like", new["uri"], 3)
    async with db.connect() as conn:
        after = await collections.reactions(conn, "banten", [article.id])
    assert (after[article.id].likes, after[article.id].replies) == (1, [])
