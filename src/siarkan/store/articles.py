"""Article queries: upsert (idempotent), fetch, list, retract.

    Article (from an importer or the admin API) -> upsert_article -> UpsertResult
        created | updated (same id, new updated_at) | unchanged (nothing written)

The content hash of what the importer produced decides "unchanged", so re-importing the same
file is a no-op whatever defaults the store fills in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.articles.model import Article, Image, RelatedLink, Status
from siarkan.store.tables import article_authors, article_tags, articles
from siarkan.urls import slugify

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class UpsertResult:
    outcome: Outcome
    article: Article
    previous: Article | None = None


def visible_clause(now: datetime) -> ColumnElement[bool]:
    """Public now: published, or scheduled whose time has come (never before publish_at)."""
    return or_(
        and_(
            articles.c.status == Status.PUBLISHED.value,
            or_(articles.c.publish_at.is_(None), articles.c.publish_at <= now),
        ),
        and_(articles.c.status == Status.SCHEDULED.value, articles.c.publish_at <= now),
    )


def row_to_article(row: RowMapping) -> Article:
    image = row["image"]
    return Article(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        paragraphs=tuple(row["paragraphs"]),
        body_html=row["body_html"],
        language=row["language"],
        subtitle=row["subtitle"],
        dateline=row["dateline"],
        authors=tuple(row["authors"]),
        section=row["section"],
        tags=tuple(row["tags"]),
        canonical_url=row["canonical_url"],
        image=Image(**image) if image else None,
        related=tuple(RelatedLink(**item) for item in row["related"]),
        published_at=row["published_at"],
        updated_at=row["updated_at"],
        publish_at=row["publish_at"],
        status=Status(row["status"]),
        source=row["source"],
        content_hash=row["content_hash"],
    )


def _image_json(image: Image | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        "url": image.url,
        "alt": image.alt,
        "caption": image.caption,
        "credit": image.credit,
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
        "length": image.length,
    }


def _values(article: Article) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "subtitle": article.subtitle,
        "dateline": article.dateline,
        "paragraphs": list(article.paragraphs),
        "body_html": article.body_html,
        "authors": list(article.authors),
        "section": article.section,
        "tags": list(article.tags),
        "language": article.language,
        "image": _image_json(article.image),
        "related": [{"title": r.title, "url": r.url} for r in article.related],
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "publish_at": article.publish_at,
        "status": article.status.value,
        "source": article.source,
        "content_hash": article.content_hash,
    }


async def get_article(conn: AsyncConnection, key: str) -> Article | None:
    """By id, else by slug."""
    for column in (articles.c.id, articles.c.slug):
        row = (await conn.execute(select(articles).where(column == key))).mappings().first()
        if row is not None:
            return row_to_article(row)
    return None


async def find_article(
    conn: AsyncConnection, *, id: str, canonical_url: str | None
) -> Article | None:
    """By id, else by canonical URL (a post first imported from the publisher's feed has an id
    made from its URL, not the one its CMS's webhook gives it)."""
    wanted = [articles.c.id == id]
    if canonical_url:
        wanted.append(articles.c.canonical_url == canonical_url)
    rows = (await conn.execute(select(articles).where(or_(*wanted)))).mappings().all()
    row = next((r for r in rows if r["id"] == id), rows[0] if rows else None)
    return row_to_article(row) if row is not None else None


async def _lookup(
    conn: AsyncConnection, article: Article, slug: str
) -> tuple[RowMapping | None, str | None]:
    """One round trip (each costs ~0.3 ms on aiosqlite, see benchmarks/ingest.py): the row this
    article updates (same id, else same canonical URL) and the id owning the wanted slug."""
    wanted = [articles.c.id == article.id, articles.c.slug == slug]
    if article.canonical_url:
        wanted.append(articles.c.canonical_url == article.canonical_url)
    rows = (await conn.execute(select(articles).where(or_(*wanted)))).mappings().all()
    existing = next((r for r in rows if r["id"] == article.id), None)
    if existing is None and article.canonical_url:
        existing = next((r for r in rows if r["canonical_url"] == article.canonical_url), None)
    owner = next((r["id"] for r in rows if r["slug"] == slug), None)
    return existing, owner


async def _free_slug(conn: AsyncConnection, slug: str, owner: str | None, article_id: str) -> str:
    if owner is None or owner == article_id:
        return slug
    # Taken: fetch the numbered variants in one query instead of probing one by one (a
    # recurring headline would otherwise cost one query per earlier article).
    rows = await conn.execute(
        select(articles.c.slug, articles.c.id).where(articles.c.slug.like(f"{slug}-%"))
    )
    taken = {row.slug: row.id for row in rows}
    n = 2
    while taken.get(f"{slug}-{n}", article_id) != article_id:
        n += 1
    return f"{slug}-{n}"


# A publication date this far ahead is a date to publish at, not a clock that runs fast.
FUTURE_TOLERANCE = timedelta(minutes=5)


def _settle_status(article: Article, now: datetime) -> Article:
    """A future publish_at means scheduled; a past one on a scheduled article means published.

    A published article dated in the future with no publish_at is held until that date, as a
    CMS schedules a post given a future date: sent at once, a pre-dated (embargoed) report
    would reach every follower early, and feeds would carry an implausible future date.
    """
    status, published_at = article.status, article.published_at
    if (
        article.publish_at is None
        and status is Status.PUBLISHED
        and published_at is not None
        and published_at > now + FUTURE_TOLERANCE
    ):
        log.info(
            "article dated in the future: held until then",
            extra={"article": article.id, "published_at": published_at.isoformat()},
        )
        article = replace(article, publish_at=published_at)
    if article.publish_at is not None and status in (Status.PUBLISHED, Status.SCHEDULED):
        status = Status.SCHEDULED if article.publish_at > now else Status.PUBLISHED
        published_at = published_at or article.publish_at
    if status is Status.PUBLISHED and published_at is None:
        published_at = now
    return replace(article, status=status, published_at=published_at)


async def _sync_links(conn: AsyncConnection, article: Article, *, created: bool = False) -> None:
    if not created:  # a new article has no rows to replace (two round trips saved per import)
        await conn.execute(delete(article_tags).where(article_tags.c.article_id == article.id))
        await conn.execute(
            delete(article_authors).where(article_authors.c.article_id == article.id)
        )
    tags = {tag: slugify(tag) for tag in dict.fromkeys(article.tags) if tag.strip()}
    if tags:
        await conn.execute(
            insert(article_tags),
            [{"article_id": article.id, "tag": t, "tag_slug": s} for t, s in tags.items()],
        )
    authors = {a: slugify(a) for a in dict.fromkeys(article.authors) if a.strip()}
    if authors:
        await conn.execute(
            insert(article_authors),
            [{"article_id": article.id, "author": a, "author_slug": s} for a, s in authors.items()],
        )


async def upsert_article(
    conn: AsyncConnection, article: Article, *, now: datetime, restore: bool = False
) -> UpsertResult:
    """Insert or update in the caller's transaction; idempotent on id or canonical URL.

    `restore`: the push is an editor's explicit act (the admin API), so a report pushed again
    after a retraction is published again. An import or a source poll reading the publisher's
    site again leaves a retracted report retracted: an unchanged page changes nothing, a
    changed one has its text stored and stays retracted."""
    wanted_slug = slugify(article.slug or article.title)
    existing, slug_owner = await _lookup(conn, article, wanted_slug)
    if existing is not None:
        article = replace(article, id=existing["id"])
    incoming_hash = article.with_hash().content_hash
    # retract_article changes the status, not the hash of what was imported: the same report
    # pushed again by an editor after a retraction is a re-publication, not "unchanged".
    restored = (
        restore
        and existing is not None
        and existing["status"] == Status.RETRACTED.value
        and article.status is not Status.RETRACTED
    )
    if existing is not None and existing["content_hash"] == incoming_hash and not restored:
        return UpsertResult(Outcome.UNCHANGED, row_to_article(existing))

    if existing is not None and wanted_slug == slugify(article.title):
        # A slug derived from the headline, not chosen: an edited headline keeps its
        # permalink, so links already shared (posts, feeds, social media) keep working.
        slug = existing["slug"]
    else:
        slug = await _free_slug(conn, wanted_slug, slug_owner, article.id)
    unreleased = (
        existing is not None
        and existing["status"] == Status.SCHEDULED.value
        and existing["publish_at"] is not None
        and existing["publish_at"] > now
    )
    if existing is not None and article.published_at is None and not unreleased:
        # An edit that names no publication time keeps the first one, not "now". Not while
        # still embargoed: that date was only the old release time, and a moved embargo kept
        # on it would go out dated before it was public, and stale (is_stale) never federate.
        article = replace(article, published_at=existing["published_at"])
    stored = _settle_status(replace(article, slug=slug, content_hash=incoming_hash), now)
    if (
        not restore
        and existing is not None
        and existing["status"] == Status.RETRACTED.value
        and stored.status is not Status.RETRACTED
    ):
        # The retraction was an editor's act in siarkan; a page still on (or edited on) the
        # publisher's site does not undo it. content_hash stays the page's, so reading the
        # same page again is "unchanged".
        stored = replace(stored, status=Status.RETRACTED)
    if existing is None:
        stored = replace(stored, updated_at=stored.updated_at or stored.published_at or now)
        # Parameters apart from the statement: compiled once and cached, not per article.
        await conn.execute(
            insert(articles),
            {"id": stored.id, "created_at": now, "changed_at": now, **_values(stored)},
        )
        await _sync_links(conn, stored, created=True)
        return UpsertResult(Outcome.CREATED, stored)

    previous = row_to_article(existing)
    updated_at = stored.updated_at
    if updated_at is None or (previous.updated_at and updated_at <= previous.updated_at):
        updated_at = now
    stored = replace(
        stored,
        updated_at=updated_at,
        published_at=stored.published_at or previous.published_at,
    )
    await conn.execute(
        update(articles).where(articles.c.id == stored.id).values(changed_at=now, **_values(stored))
    )
    await _sync_links(conn, stored)
    return UpsertResult(Outcome.UPDATED, stored, previous)


async def retract_article(conn: AsyncConnection, key: str, *, now: datetime) -> Article | None:
    article = await get_article(conn, key)
    if article is None:
        return None
    if article.status is Status.RETRACTED:
        return article
    await conn.execute(
        update(articles)
        .where(articles.c.id == article.id)
        .values(status=Status.RETRACTED.value, updated_at=now, changed_at=now)
    )
    return replace(article, status=Status.RETRACTED, updated_at=now)


async def list_articles(
    conn: AsyncConnection, *, status: Status | None = None, limit: int = 50, offset: int = 0
) -> list[Article]:
    query = select(articles).order_by(
        articles.c.published_at.desc().nulls_last(), articles.c.id.desc()
    )
    if status is not None:
        query = query.where(articles.c.status == status.value)
    rows = (await conn.execute(query.limit(limit).offset(offset))).mappings().all()
    return [row_to_article(row) for row in rows]
