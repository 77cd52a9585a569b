"""Which articles a feed shows, read with keyset queries whose cost never grows with the archive.

    FeedSpec (channel rules + scope) + now
        | selection_clause: channel match (sections / tags / authors, case-insensitive, as
          siarkan.channels.belongs) AND scope (section / tag slug / author slug)
        | visible now (siarkan.store.articles.visible_clause, split in its two status branches
          so each walks ix_articles_status_published in (published_at, id) order)
        | read_keys / read_rows: ORDER BY published_at, id with a row-value bound, LIMIT n
        | load_current / load_archive: the page's rows and its RFC 5005 neighbours (paging.py)

`state_key` is the cheap, indexed query that says "something changed": the feed cache asks it
at most about once a second and re-reads a page only when it moved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.articles.model import Status
from siarkan.config import ChannelSettings
from siarkan.feeds.model import FeedSpec, Scope, ScopeKind
from siarkan.feeds.paging import Key, Segment, next_close, settle
from siarkan.store.tables import article_authors, article_tags, articles, articles_version
from siarkan.urls import slugify

_KEY = tuple_(articles.c.published_at, articles.c.id)


def _visible_branches(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """visible_clause(now) as two disjoint branches, each an index range on (status, ...)."""
    return (
        and_(
            articles.c.status == Status.PUBLISHED.value,
            or_(articles.c.publish_at.is_(None), articles.c.publish_at <= now),
            articles.c.published_at.is_not(None),
        ),
        and_(
            articles.c.status == Status.SCHEDULED.value,
            articles.c.publish_at <= now,
            articles.c.published_at.is_not(None),
        ),
    )


def _lowered(values: Sequence[str]) -> list[str]:
    return sorted({v.casefold() for v in values})


def channel_clause(channel: ChannelSettings) -> ColumnElement[bool]:
    """SQL twin of siarkan.channels.belongs (no rules: every article)."""
    match = channel.match
    if not (match.sections or match.tags or match.authors):
        return true()
    parts: list[ColumnElement[bool]] = []
    if match.sections:
        parts.append(func.lower(articles.c.section).in_(_lowered(match.sections)))
    if match.tags:
        parts.append(
            exists().where(
                article_tags.c.article_id == articles.c.id,
                func.lower(article_tags.c.tag).in_(_lowered(match.tags)),
            )
        )
    if match.authors:
        parts.append(
            exists().where(
                article_authors.c.article_id == articles.c.id,
                func.lower(article_authors.c.author).in_(_lowered(match.authors)),
            )
        )
    return or_(*parts)


def scope_clause(scope: Scope | None, section_names: Sequence[str] = ()) -> ColumnElement[bool]:
    if scope is None:
        return true()
    if scope.kind == "tag":
        return exists().where(
            article_tags.c.article_id == articles.c.id, article_tags.c.tag_slug == scope.slug
        )
    if scope.kind == "author":
        return exists().where(
            article_authors.c.article_id == articles.c.id,
            article_authors.c.author_slug == scope.slug,
        )
    return articles.c.section.in_(list(section_names) or [scope.name])


@dataclass(frozen=True, slots=True)
class Selection:
    """A FeedSpec resolved against the database (section slugs mapped to stored names)."""

    spec: FeedSpec
    section_names: tuple[str, ...] = ()

    def clause(self) -> ColumnElement[bool]:
        return and_(
            channel_clause(self.spec.channel), scope_clause(self.spec.scope, self.section_names)
        )


# ---------------------------------------------------------------------------------------------
# Keyset reads


def _ordered(query: Select[tuple[object, ...]], descending: bool) -> Select[tuple[object, ...]]:
    if descending:
        return query.order_by(articles.c.published_at.desc(), articles.c.id.desc())
    return query.order_by(articles.c.published_at.asc(), articles.c.id.asc())


async def _read(
    conn: AsyncConnection,
    selection: Selection,
    now: datetime,
    columns: Sequence[object],
    *,
    descending: bool,
    limit: int,
    below: Key | None = None,
    below_inclusive: bool = False,
    above: Key | None = None,
) -> list[RowMapping]:
    """Rows of the selection in key order, between optional bounds, at most `limit`."""
    bounds: list[ColumnElement[bool]] = []
    if below is not None:
        bounds.append(below >= _KEY if below_inclusive else below > _KEY)
    if above is not None:
        bounds.append(_KEY > above)  # noqa: SIM300 (SQL expression)
    rows: list[RowMapping] = []
    for branch in _visible_branches(now):
        query = select(*columns).where(branch, selection.clause(), *bounds)  # type: ignore[call-overload]
        query = _ordered(query, descending).limit(limit)
        rows.extend((await conn.execute(query)).mappings().all())
    rows.sort(key=lambda row: (row["published_at"], row["id"]), reverse=descending)
    return rows[:limit]


async def read_keys(
    conn: AsyncConnection,
    selection: Selection,
    now: datetime,
    *,
    descending: bool,
    limit: int,
    below: Key | None = None,
    below_inclusive: bool = False,
    above: Key | None = None,
) -> list[Key]:
    rows = await _read(
        conn,
        selection,
        now,
        (articles.c.published_at, articles.c.id),
        descending=descending,
        limit=limit,
        below=below,
        below_inclusive=below_inclusive,
        above=above,
    )
    return [(row["published_at"], row["id"]) for row in rows]


async def read_rows(
    conn: AsyncConnection,
    selection: Selection,
    now: datetime,
    *,
    limit: int,
    below: Key | None = None,
    below_inclusive: bool = False,
    above: Key | None = None,
) -> list[RowMapping]:
    """Full article rows, newest first."""
    return await _read(
        conn,
        selection,
        now,
        (articles,),
        descending=True,
        limit=limit,
        below=below,
        below_inclusive=below_inclusive,
        above=above,
    )


async def segment_ending_at(
    conn: AsyncConnection, selection: Selection, now: datetime, end: Key | None
) -> Segment | None:
    """Read back from `end` (inclusive; None: the newest item) to a settled page boundary."""
    size = selection.spec.page_size
    batch = 2 * size + 1
    keys: list[Key] = []
    bound, inclusive = end, True
    while True:
        chunk = await read_keys(
            conn,
            selection,
            now,
            descending=True,
            limit=batch,
            below=bound,
            below_inclusive=inclusive,
        )
        keys.extend(chunk)
        if not keys:
            return None
        segment = settle(keys, size, reached_start=len(chunk) < batch)
        if segment is not None:
            return segment
        bound, inclusive = keys[-1], False


# ---------------------------------------------------------------------------------------------
# Pages


@dataclass(frozen=True, slots=True)
class PageData:
    """One feed document's articles (newest first) and its RFC 5005 neighbours."""

    rows: tuple[RowMapping, ...]
    archive_end: Key | None  # None: the subscription document
    prev_archive: Key | None
    next_archive: Key | None
    # The store's newest change when the page was read: a retraction, or an edit that moved an
    # article out of this feed, changes the page without leaving a row on it to date it by.
    store_changed_at: datetime | None = None

    def content_key(self) -> str:
        """Changes exactly when the rendered document would (given the same settings)."""
        digest = hashlib.sha256()
        for row in self.rows:
            digest.update(f"{row['id']}|{row['content_hash']}|{row['changed_at']}\n".encode())
        for key in (self.archive_end, self.prev_archive, self.next_archive):
            digest.update(repr(key).encode())
        return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Moved:
    """An archive cursor that is not (or no longer) a page end: where its position is now.

    `to` is None when the position is in the open page (only the subscription document has it).
    """

    to: Key | None


async def load_current(conn: AsyncConnection, selection: Selection, now: datetime) -> PageData:
    size = selection.spec.page_size
    rows = await read_rows(conn, selection, now, limit=size)
    segment = await segment_ending_at(conn, selection, now, None) if rows else None
    newest_close = None
    if segment is not None:
        newest_close = segment.closes[-1] if segment.closes else segment.start
    return PageData(tuple(rows), None, newest_close, None)


async def load_archive(
    conn: AsyncConnection, selection: Selection, now: datetime, end: Key
) -> PageData | Moved:
    size = selection.spec.page_size
    segment = await segment_ending_at(conn, selection, now, end)
    if segment is not None and segment.keys[-1] == end and end in segment.closes:
        start = segment.previous_close(end)
        rows = await read_rows(
            conn, selection, now, limit=size, below=end, below_inclusive=True, above=start
        )
        after = await read_keys(conn, selection, now, descending=False, limit=size, above=end)
        following = next_close(after, size, run=0)
        return PageData(tuple(rows), end, start, following)
    # The cursor's item is gone, no longer visible, or an insert moved the boundaries: send the
    # reader to the page that now holds that position.
    run = segment.open_run if segment is not None else 0
    after = await read_keys(conn, selection, now, descending=False, limit=size, above=end)
    return Moved(next_close(after, size, run=run))


# ---------------------------------------------------------------------------------------------
# Change detection and scope lookups


async def state_key(conn: AsyncConnection, now: datetime) -> str:
    """Changes whenever any feed might: an article stored, retracted or coming due.

    articles_version is bumped by a trigger on every write to articles, in commit order (two
    writers' clocks and start times do not matter); the scheduled branch reads only scheduled
    rows (status index) and catches a scheduled article coming due, which writes nothing.
    Asked at most about once a second per process; independent of the process, so nodes agree.
    """
    version = select(articles_version.c.version).where(articles_version.c.id == 1)
    due = (
        select(func.max(articles.c.publish_at))
        .where(articles.c.status == Status.SCHEDULED.value, articles.c.publish_at <= now)
        .scalar_subquery()
    )
    row = (await conn.execute(select(version.scalar_subquery(), due))).one()
    return f"{row[0]}|{row[1]}"


async def newest_change(conn: AsyncConnection) -> datetime | None:
    """When any article was last stored, edited or retracted (ix_articles_changed_at)."""
    value: datetime | None = await conn.scalar(select(func.max(articles.c.changed_at)))
    return value


async def section_names(conn: AsyncConnection) -> dict[str, tuple[str, ...]]:
    """slug -> the section names stored under it ("Banten", "banten" -> "banten")."""
    rows = await conn.execute(
        select(articles.c.section).where(articles.c.section.is_not(None)).distinct()
    )
    found: dict[str, list[str]] = {}
    for (name,) in rows:
        found.setdefault(slugify(name), []).append(name)
    return {slug: tuple(sorted(names)) for slug, names in found.items()}


async def scope_name(conn: AsyncConnection, kind: ScopeKind, slug: str) -> str | None:
    """The name of a tag or author as written in an article, None if no article has it."""
    if kind == "tag":
        query = select(article_tags.c.tag).where(article_tags.c.tag_slug == slug)
    else:
        query = select(article_authors.c.author).where(article_authors.c.author_slug == slug)
    value: str | None = await conn.scalar(query.limit(1))
    return value


async def scope_values(
    conn: AsyncConnection, channel: ChannelSettings, kind: ScopeKind, now: datetime, limit: int
) -> list[tuple[str, str]]:
    """(slug, name) of the sections / tags / authors of a channel's visible articles.

    Sections: all; tags and authors: the `limit` most used (a feed list with every tag ever
    written would be unreadable).
    """
    visible = or_(*_visible_branches(now))
    chosen = and_(visible, channel_clause(channel))
    if kind == "section":
        rows = await conn.execute(
            select(articles.c.section).where(chosen, articles.c.section.is_not(None)).distinct()
        )
        by_slug: dict[str, str] = {}
        for (name,) in rows:
            by_slug.setdefault(slugify(name), name)
        return sorted(by_slug.items())
    table = article_tags if kind == "tag" else article_authors
    name_col = table.c.tag if kind == "tag" else table.c.author
    slug_col = table.c.tag_slug if kind == "tag" else table.c.author_slug
    uses = func.count()
    query = (
        select(slug_col, func.min(name_col), uses)
        .join(articles, articles.c.id == table.c.article_id)
        .where(chosen)
        .group_by(slug_col)
        .order_by(uses.desc(), slug_col)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in await conn.execute(query)]
