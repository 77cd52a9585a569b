"""The article store on SQLite and PostgreSQL: idempotent upserts, updates, retraction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from siarkan.articles.model import Status
from siarkan.store.articles import Outcome, get_article, retract_article, upsert_article
from siarkan.store.db import Database
from siarkan.store.tables import article_tags, articles
from tests.helpers import make_report

NOW = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)


async def test_same_article_twice_changes_nothing(db: Database) -> None:
    article = make_report()
    async with db.begin() as conn:
        first = await upsert_article(conn, article, now=NOW)
    async with db.begin() as conn:
        second = await upsert_article(conn, article, now=NOW + timedelta(hours=1))
    assert first.outcome is Outcome.CREATED
    assert second.outcome is Outcome.UNCHANGED
    async with db.connect() as conn:
        stored = await get_article(conn, article.id)
        count = await conn.scalar(select(func.count()).select_from(articles))
    assert count == 1
    assert stored is not None
    assert stored.paragraphs == article.paragraphs
    assert stored.published_at == article.published_at
    assert stored.published_at is not None and stored.published_at.tzinfo is not None
    assert stored.image == article.image
    assert stored.related == article.related


async def test_changed_article_updates_same_id(db: Database) -> None:
    article = make_report()
    async with db.begin() as conn:
        await upsert_article(conn, article, now=NOW)
    edited = replace(article, title=article.title + " (Diperbarui)", updated_at=None).with_hash()
    later = NOW + timedelta(hours=2)
    async with db.begin() as conn:
        result = await upsert_article(conn, edited, now=later)
    assert result.outcome is Outcome.UPDATED
    assert result.article.id == article.id
    assert result.article.updated_at == later
    assert result.previous is not None and result.previous.title == article.title
    async with db.connect() as conn:
        stored = await get_article(conn, article.slug)
    assert stored is not None and stored.title.endswith("(Diperbarui)")


async def test_idempotent_on_canonical_url(db: Database) -> None:
    url = "https://prologmedia.example/banten/banjir-serang"
    async with db.begin() as conn:
        await upsert_article(conn, make_report(id="one", canonical_url=url), now=NOW)
        result = await upsert_article(
            conn, make_report(id="two", canonical_url=url, title="Judul baru"), now=NOW
        )
    assert result.outcome is Outcome.UPDATED
    assert result.article.id == "one"


async def test_slug_collision_gets_suffix_and_tags_are_indexed(db: Database) -> None:
    async with db.begin() as conn:
        await upsert_article(conn, make_report(id="one"), now=NOW)
        second = await upsert_article(conn, make_report(id="two", title="Lain"), now=NOW)
        tags = (
            (
                await conn.execute(
                    select(article_tags.c.tag_slug).where(article_tags.c.article_id == "two")
                )
            )
            .scalars()
            .all()
        )
    assert second.article.slug.endswith("-2")
    assert sorted(tags) == ["banjir", "bpbd", "kabupaten-serang"]


async def test_future_publish_at_is_scheduled_and_retraction(db: Database) -> None:
    when = NOW + timedelta(days=1)
    async with db.begin() as conn:
        result = await upsert_article(conn, make_report(publish_at=when), now=NOW)
    assert result.article.status is Status.SCHEDULED
    async with db.begin() as conn:
        retracted = await retract_article(conn, result.article.id, now=NOW)
    assert retracted is not None and retracted.status is Status.RETRACTED


async def test_naive_datetime_is_refused(db: Database) -> None:
    import pytest

    with pytest.raises(Exception, match="naive"):
        async with db.begin() as conn:
            await upsert_article(conn, make_report(published_at=datetime(2026, 1, 1)), now=NOW)
    async with db.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(articles)) == 0
