"""Polling the publisher's own feeds and sitemaps (settings.sources) for new and changed reports.

    due source (claimed: sources_state.next_poll_at moved forward with a conditional UPDATE, so
                one scheduler polls it per interval)
        | conditional GET (If-None-Match / If-Modified-Since from sources_state) -> 304: done
        | parse_feed_or_sitemap (articles.remote) -> entries
        | pick: URLs we do not have, or whose entry date is newer than what we stored
        | fetch each page | parse_page_bytes (the HTML importer: the feed has only summaries)
        | store_article: upsert + publishing.article_changed, one transaction per article

`fetch_full_page: false` limits fetching to URLs never seen before (changes announced only by
a newer date are then ignored): for sources whose pages are expensive to fetch.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime

import aiohttp
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.articles.importer import (
    FeedEntry,
    Parsed,
    parse_feed_or_sitemap,
    parse_page_bytes,
    store_article,
)
from siarkan.articles.remote import MAX_BYTES, fetch, gunzip, sniff_kind
from siarkan.articles.text import ArticleRejected
from siarkan.config import Settings, SourceSettings
from siarkan.federation.sqlutil import insert_ignore
from siarkan.store.articles import Outcome
from siarkan.store.db import Database
from siarkan.store.tables import articles, sources_state

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30.0
PAGE_CONCURRENCY = 4
MAX_PAGES_PER_POLL = 100  # a first poll of a big sitemap is spread over several polls


@dataclass(frozen=True, slots=True)
class PollResult:
    url: str
    not_modified: bool = False
    entries: int = 0
    stored: int = 0  # created or updated
    failed: int = 0
    error: str | None = None


async def claim_due_source(
    conn: AsyncConnection, source: SourceSettings, now: datetime
) -> dict[str, str | None] | None:
    """Move next_poll_at forward if it has come; None if not due (or another node has it)."""
    await conn.execute(insert_ignore(conn, sources_state, ["url"]).values(url=source.url))
    result = await conn.execute(
        update(sources_state)
        .where(
            sources_state.c.url == source.url,
            or_(sources_state.c.next_poll_at.is_(None), sources_state.c.next_poll_at <= now),
        )
        .values(next_poll_at=now + source.interval, last_polled_at=now)
    )
    if result.rowcount != 1:
        return None
    row = (
        await conn.execute(
            select(sources_state.c.etag, sources_state.c.last_modified).where(
                sources_state.c.url == source.url
            )
        )
    ).one()
    return {"etag": row.etag, "last_modified": row.last_modified}


def pick_entries(
    entries: list[FeedEntry], known: dict[str, datetime | None], *, refetch_changed: bool
) -> list[FeedEntry]:
    """Pure: the entries worth fetching — new URLs, and (optionally) ones dated after our copy."""
    out: list[FeedEntry] = []
    for entry in entries:
        if entry.is_sitemap:
            continue
        if entry.url not in known:
            out.append(entry)
        elif refetch_changed:
            stored = known[entry.url]
            if entry.published is not None and (stored is None or entry.published > stored):
                out.append(entry)
    return out[:MAX_PAGES_PER_POLL]


async def _conditional_get(
    session: aiohttp.ClientSession, url: str, validators: dict[str, str | None]
) -> tuple[int, bytes, str, str | None, str | None]:
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml, */*;q=0.5"}
    if validators.get("etag"):
        headers["If-None-Match"] = validators["etag"] or ""
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"] or ""
    async with asyncio.timeout(POLL_TIMEOUT), session.get(url, headers=headers) as response:
        if response.status == 304:
            return 304, b"", "", validators.get("etag"), validators.get("last_modified")
        if response.status >= 400:
            raise ArticleRejected(f"HTTP {response.status}")
        body = await response.content.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise ArticleRejected("source document is over the size limit")
        return (
            response.status,
            body,
            response.content_type or "",
            response.headers.get("ETag"),
            response.headers.get("Last-Modified"),
        )


async def _known(db: Database, urls: list[str]) -> dict[str, datetime | None]:
    if not urls:
        return {}
    async with db.connect() as conn:
        result = await conn.execute(
            select(articles.c.canonical_url, articles.c.updated_at).where(
                articles.c.canonical_url.in_(urls)
            )
        )
        return {url: updated for url, updated in result.all()}


async def _fetch_page(
    session: aiohttp.ClientSession, settings: Settings, entry: FeedEntry
) -> Parsed | str:
    try:
        # Page links come from a remote document: only public addresses (SSRF).
        fetched = await fetch(
            session, entry.url, allow_private=settings.federation.allow_private_addresses
        )
    except ArticleRejected as exc:
        return str(exc)
    outcome = parse_page_bytes(
        fetched.body, url=fetched.url, settings=settings.site, charset=fetched.charset
    )
    if not isinstance(outcome, Parsed):
        return outcome.reason
    if outcome.article.published_at is None and entry.published is not None:
        # Dated only by the feed/sitemap: not "now" (an old story federated as news).
        outcome = replace(outcome, article=replace(outcome.article, published_at=entry.published))
    return outcome


async def poll_source(
    db: Database,
    settings: Settings,
    source: SourceSettings,
    session: aiohttp.ClientSession,
    now: datetime,
) -> PollResult | None:
    """One poll if the source is due; None if it is not."""
    async with db.begin() as conn:
        validators = await claim_due_source(conn, source, now)
    if validators is None:
        return None
    try:
        status, body, content_type, etag, modified = await _conditional_get(
            session, source.url, validators
        )
    except (ArticleRejected, aiohttp.ClientError, TimeoutError, OSError) as exc:
        return await _finish(db, source.url, None, None, PollResult(source.url, error=str(exc)))
    if status == 304:
        return await _finish(db, source.url, etag, modified, PollResult(source.url, True))
    try:
        body = gunzip(body)
        if sniff_kind(content_type, body) == "html":
            raise ArticleRejected("the source is an HTML page, not a feed or sitemap")
        entries = parse_feed_or_sitemap(body, source.url, tz=settings.site.tz)
    except ArticleRejected as exc:
        return await _finish(db, source.url, None, None, PollResult(source.url, error=str(exc)))
    known = await _known(db, [e.url for e in entries])
    wanted = pick_entries(entries, known, refetch_changed=source.fetch_full_page)
    stored = failed = 0
    for start in range(0, len(wanted), PAGE_CONCURRENCY):
        batch = wanted[start : start + PAGE_CONCURRENCY]
        pages = await asyncio.gather(*(_fetch_page(session, settings, e) for e in batch))
        for entry, page in zip(batch, pages, strict=True):
            if isinstance(page, str):
                failed += 1
                log.warning("source page failed", extra={"url": entry.url, "reason": page})
                continue
            article = page.article
            if source.section and not article.section:
                article = replace(article, section=source.section)
            async with db.connect() as conn:
                upserted = await store_article(conn, settings, article, now=now)
            if upserted.outcome is not Outcome.UNCHANGED:
                stored += 1
    result = PollResult(source.url, entries=len(entries), stored=stored, failed=failed)
    return await _finish(db, source.url, etag, modified, result)


async def _finish(
    db: Database, url: str, etag: str | None, modified: str | None, result: PollResult
) -> PollResult:
    values: dict[str, str | None] = {"last_error": result.error}
    if result.error is None:
        values |= {"etag": etag, "last_modified": modified}
    async with db.begin() as conn:
        await conn.execute(update(sources_state).where(sources_state.c.url == url).values(**values))
    log.info(
        "source polled",
        extra={
            "source": url,
            "not_modified": result.not_modified,
            "entries": result.entries,
            "stored": result.stored,
            "failed": result.failed,
            "error": result.error,
        },
    )
    return result
