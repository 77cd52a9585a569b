"""Races between nodes sharing one PostgreSQL (two web nodes, a CLI import, the scheduler).

Each test makes two transactions meet on purpose, on separate connections, at the point where
READ COMMITTED lets a read go stale before the write that depends on it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.articles.importer import store_article
from siarkan.articles.model import Article, Status
from siarkan.config import DatabaseSettings, Settings, parse_settings
from siarkan.distribution.scheduler import publish_due
from siarkan.federation import publish
from siarkan.federation.keys import ensure_actors
from siarkan.publishing import article_changed
from siarkan.store.articles import Outcome, get_article, retract_article
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.store.tables import activities, articles, posts
from tests.conftest import TEST_CONFIG

pytestmark = pytest.mark.postgres

SERIES = """  - name: seri
    title: Laporan Khusus
    match:
      tags: [banjir]
    excerpts:
      mode: series
      series_parts: 3
      series_interval: PT2H
    fediverse:
      enabled: true
      username: laporan
"""


@pytest.fixture
def series_settings(port: int, tmp_path: Any, pg_url: str) -> Settings:
    text = TEST_CONFIG.format(port=port, sqlite=tmp_path / "unused.db") + SERIES
    settings = parse_settings(text, "tests/distribution", env={})
    return settings.model_copy(update={"database": DatabaseSettings(url=pg_url)})


async def _two_nodes(url: str) -> tuple[Database, Database]:
    return Database(create_engine(url)), Database(create_engine(url))


async def _store(
    db: Database, settings: Settings, article: Article, now: datetime, *, restore: bool = False
) -> Any:
    async with db.connect() as conn:
        return await store_article(conn, settings, article, now=now, restore=restore)


async def _store_series(db: Database, settings: Settings, article: Article, now: datetime) -> Any:
    """Store `article` on the "seri" channel; its second part's posts row (still scheduled)."""
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
    await _store(db, settings, article, now)
    async with db.connect() as conn:
        query = select(posts).where(posts.c.actor_name == "seri", posts.c.part == 1)
        return (await conn.execute(query)).mappings().one()


async def test_the_same_new_article_pushed_to_two_nodes_at_once_is_stored_once_without_error(
    pg_url: str, series_settings: Settings, make_article: Callable[..., Article]
) -> None:
    """A CMS webhook retried (or sent to two web nodes) while the first push is still being
    stored: both see no row, both INSERT; the loser must see the winner's row, not fail."""
    a, b = await _two_nodes(pg_url)
    try:
        article = make_article(id="race-1")
        now = datetime.now(UTC).replace(microsecond=0)
        results = await asyncio.gather(
            _store(a, series_settings, article, now),
            _store(b, series_settings, article, now),
            return_exceptions=True,
        )
        assert not [r for r in results if isinstance(r, BaseException)], results
        assert sorted(r.outcome for r in results) == [Outcome.CREATED, Outcome.UNCHANGED]
        # Two different stories with the same headline at the same moment: both stored, the
        # second under a numbered slug (as when they arrive one after the other).
        one = make_article(
            id="race-2", title="Gempa Guncang Pandeglang", slug="gempa-guncang-pandeglang"
        )
        two = replace(one, id="race-3", paragraphs=one.paragraphs[:2]).with_hash()
        results = await asyncio.gather(
            _store(a, series_settings, one, now), _store(b, series_settings, two, now),
            return_exceptions=True,
        )  # fmt: skip
        assert not [r for r in results if isinstance(r, BaseException)], results
        async with a.connect() as conn:
            slugs = set(
                (
                    await conn.execute(
                        select(articles.c.slug).where(articles.c.id.in_(["race-2", "race-3"]))
                    )
                ).scalars()
            )
        assert slugs == {"gempa-guncang-pandeglang", "gempa-guncang-pandeglang-2"}
    finally:
        await a.close()
        await b.close()


async def test_a_retracted_article_pushed_again_to_two_nodes_at_once_comes_back_once(
    pg_url: str, series_settings: Settings, make_article: Callable[..., Article]
) -> None:
    """Both nodes read the article as retracted: one set of new posts must come back, and
    followers one Create per post, not two (the second node waits on the article row and then
    reads the first one's posts as live; uq_posts_live_part would refuse a second set)."""
    a, b = await _two_nodes(pg_url)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        article = make_article(id="race-back", published_at=now - timedelta(minutes=1))
        await _store(a, series_settings, article, now)
        async with a.begin() as conn:
            retracted = await retract_article(conn, article.id, now=now)
            assert retracted is not None
            await article_changed(conn, series_settings, retracted, previous=article, now=now)
        async with a.connect() as conn:
            retracted_posts = await conn.scalar(select(func.count()).select_from(posts))
        assert retracted_posts
        back = now + timedelta(minutes=5)
        results = await asyncio.gather(
            _store(a, series_settings, article, back, restore=True),
            _store(b, series_settings, article, back, restore=True),
            return_exceptions=True,
        )
        assert not [r for r in results if isinstance(r, BaseException)], results
        async with a.connect() as conn:
            live = await conn.scalar(
                select(func.count()).select_from(posts).where(posts.c.state != "deleted")
            )
            creates = await conn.scalar(
                select(func.count())
                .select_from(activities)
                .where(activities.c.type == "Create", activities.c.created_at >= back)
            )
            published = await conn.scalar(
                select(func.count()).select_from(posts).where(posts.c.state == "published")
            )
        # Per channel, as many posts as before the retraction (series parts wait their turn).
        assert live == retracted_posts and creates == published
    finally:
        await a.close()
        await b.close()


def _apply(text: str, fixes: dict[str, str]) -> str:
    for old, new in fixes.items():
        text = text.replace(old, new)
    return text


async def _paused_after_read(
    target: Any, name: str, reached: asyncio.Event, go: asyncio.Event
) -> Callable[..., Awaitable[Any]]:
    original = getattr(target, name)

    async def wrapper(conn: Any, settings: Any, channel: Any, *args: Any, **kwargs: Any) -> Any:
        if channel.name == "seri":  # its posts are read: hold the edit here
            reached.set()
            await go.wait()
        return await original(conn, settings, channel, *args, **kwargs)

    return wrapper


async def test_an_edit_racing_the_release_of_its_scheduled_part_reaches_followers(
    pg_url: str,
    series_settings: Settings,
    make_article: Callable[..., Article],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The editor's node has read the series' posts (part 2 still scheduled) when the
    scheduler on another node releases part 2 with the old text. Followers must end up with
    the corrected text: either the release waits and carries it, or the edit sends an Update."""
    settings = series_settings
    published = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    article = make_article(published_at=published, updated_at=published)
    editor, scheduler = await _two_nodes(pg_url)
    try:
        part2 = await _store_series(editor, settings, article, published)
        assert part2["state"] == "scheduled"
        due = part2["due_at"] + timedelta(seconds=1)
        # Corrected figures throughout, so every part's text changes.
        fixes = {"ke-54": "ke-55", "3,5 persen": "4,5 persen", "5.000 paket": "6.000 paket"}
        fixes |= {"20 cm": "30 cm", "18 persen": "19 persen", "02.00": "03.00"}
        fixed = tuple(_apply(p, fixes) for p in article.paragraphs)
        edit = replace(article, paragraphs=fixed, updated_at=due).with_hash()

        reached, go = asyncio.Event(), asyncio.Event()
        monkeypatch.setattr(
            publish,
            "_revise_posts",
            await _paused_after_read(publish, "_revise_posts", reached, go),
        )
        editing = asyncio.create_task(_store(editor, settings, edit, due))
        await asyncio.wait_for(reached.wait(), 10)

        async def release() -> int:
            async with scheduler.begin() as conn:
                return await publish.release_due_posts(conn, settings, due)

        releasing = asyncio.create_task(release())
        await asyncio.wait({releasing}, timeout=1.0)  # done, or waiting on the edit's locks
        go.set()
        await asyncio.wait_for(editing, 10)
        await asyncio.wait_for(releasing, 10)
        async with scheduler.begin() as conn:  # a later tick picks up anything left
            await publish.release_due_posts(conn, settings, due + timedelta(seconds=30))

        async with editor.connect() as conn:
            stored = (
                (await conn.execute(select(posts).where(posts.c.id == part2["id"])))
                .mappings()
                .one()
            )
            sent = [
                json.loads(body)
                for body in (
                    await conn.execute(
                        select(activities.c.body)
                        .where(activities.c.object_uri == part2["uri"])
                        .order_by(activities.c.id)
                    )
                ).scalars()
            ]
        assert stored["state"] == "published"
        assert stored["object"]["content"] != part2["object"]["content"]  # the edit touched it
        assert sent, "part 2 was never federated"
        assert sent[-1]["object"]["content"] == stored["object"]["content"], (
            f"followers kept the old text: {[s['type'] for s in sent]}"
        )
    finally:
        await editor.close()
        await scheduler.close()


class _PauseSecond:
    """A connection that stops before its second statement until `go` is set."""

    def __init__(self, conn: Any, reached: asyncio.Event, go: asyncio.Event) -> None:
        self._conn, self._reached, self._go, self._n = conn, reached, go, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._n += 1
        if self._n == 2:
            self._reached.set()
            await self._go.wait()
        return await self._conn.execute(*args, **kwargs)


async def test_a_release_that_read_a_part_before_an_import_edited_it_does_not_undo_the_edit(
    pg_url: str, series_settings: Settings, make_article: Callable[..., Article]
) -> None:
    """The scheduler has read the due part 2 when an import (release=False: the import releases
    in bulk later) stores a correction of it. The release must not send, nor store back, the
    text it read before the correction committed."""
    settings = series_settings
    published = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    article = make_article(published_at=published, updated_at=published)
    editor, scheduler = await _two_nodes(pg_url)
    try:
        part2 = await _store_series(editor, settings, article, published)
        due = part2["due_at"] + timedelta(seconds=1)
        fixes = {"ke-54": "ke-55", "3,5 persen": "4,5 persen", "5.000 paket": "6.000 paket"}
        fixes |= {"20 cm": "30 cm", "18 persen": "19 persen", "02.00": "03.00"}
        edit = replace(
            article, paragraphs=tuple(_apply(p, fixes) for p in article.paragraphs), updated_at=due
        ).with_hash()

        reached, go = asyncio.Event(), asyncio.Event()

        async def release() -> int:
            async with scheduler.begin() as conn:
                paused: Any = _PauseSecond(conn, reached, go)
                return await publish.release_due_posts(paused, settings, due)

        async def import_edit() -> None:
            async with editor.connect() as conn:
                await store_article(conn, settings, edit, now=due, release=False)

        releasing = asyncio.create_task(release())
        await asyncio.wait_for(reached.wait(), 10)  # it has read part 2 (and not claimed it)
        importing = asyncio.create_task(import_edit())
        await asyncio.wait({importing}, timeout=1.0)  # done, or waiting on the release's locks
        go.set()
        await asyncio.wait_for(releasing, 10)
        await asyncio.wait_for(importing, 10)
        async with scheduler.begin() as conn:  # the import's bulk release / a later tick
            await publish.release_due_posts(conn, settings, due + timedelta(seconds=30))

        async with editor.connect() as conn:
            stored = (
                (await conn.execute(select(posts).where(posts.c.id == part2["id"])))
                .mappings()
                .one()
            )
            sent = [
                json.loads(body)
                for body in (
                    await conn.execute(
                        select(activities.c.body)
                        .where(activities.c.object_uri == part2["uri"])
                        .order_by(activities.c.id)
                    )
                ).scalars()
            ]
        assert stored["object"]["content"] != part2["object"]["content"], "the edit was undone"
        assert sent and sent[-1]["object"]["content"] == stored["object"]["content"], (
            f"followers kept the old text: {[s['type'] for s in sent]}"
        )
    finally:
        await editor.close()
        await scheduler.close()


class _EditFirst(Database):
    """A scheduler's database handle on which an editor's save lands between the scheduler
    reading which articles are due and its transaction publishing the first of them."""

    def __init__(self, url: str, edit: Callable[[], Awaitable[None]]) -> None:
        super().__init__(create_engine(url))
        self._edit: Callable[[], Awaitable[None]] | None = edit

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        if self._edit is not None:
            edit, self._edit = self._edit, None
            await edit()
        async with super().begin() as conn:
            yield conn


async def test_an_embargo_postponed_while_the_scheduler_publishes_is_kept_and_still_federated(
    pg_url: str, series_settings: Settings, make_article: Callable[..., Article]
) -> None:
    """The scheduler has read that the article is due; the editor then moves publish_at an
    hour later (the story is held). The scheduler must not publish it now, and an hour later
    it must publish it (posts for followers), not find it already 'published'."""
    settings = series_settings
    start = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    publish_at = start + timedelta(hours=2)
    later = publish_at + timedelta(hours=1)
    article = make_article(publish_at=publish_at, published_at=None)
    editor = Database(create_engine(pg_url))
    try:
        async with editor.begin() as conn:
            await ensure_actors(conn, settings, start)
        await _store(editor, settings, article, start)

        async def postpone() -> None:
            await _store(
                editor, settings, replace(article, publish_at=later).with_hash(), publish_at
            )

        scheduler = _EditFirst(pg_url, postpone)
        try:
            assert await publish_due(scheduler, settings, publish_at) == []
            async with editor.connect() as conn:
                held = await get_article(conn, article.id)
                assert held is not None and held.status is Status.SCHEDULED
            assert await publish_due(scheduler, settings, later) == [article.id]
        finally:
            await scheduler.close()
        async with editor.connect() as conn:
            made = (await conn.execute(select(func.count()).select_from(posts))).scalar_one()
        assert made > 0, "published without a post for followers"
    finally:
        await editor.close()
