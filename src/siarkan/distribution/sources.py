"""Polling the publisher's own feeds and sitemaps (settings.sources) for new and changed reports.

    due source (claimed: sources_state.next_poll_at moved forward with a conditional UPDATE, so
                one scheduler polls it per interval)
        | conditional GET (If-None-Match / If-Modified-Since from sources_state) -> 304: done
        | parse_feed_or_sitemap (articles.remote) -> entries
        | pick: URLs we do not have, or whose entry date is newer than what we stored
        | fetch each page, as articles.crawl does for an import: robots.txt must allow it, one
          request at a time per host with the crawl delay between, for PAGE_BUDGET seconds at
          most, the first page excepted (the scheduler's tick waits for the poll; the rest waits
          for the next poll)
        | multipage.read_report (the HTML importer: the feed has only summaries; a report
          split over pages is read to its end within the same budget, or waits for the next poll)
        | store_article: upsert + publishing.article_changed, one transaction per article (a
          failed write counts as a failed page)
        | the document's validators kept only if every picked page was handled: after a failure
          or a cut-short poll the next poll must not be told "304, nothing to do"

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

from siarkan import instance_user_agent
from siarkan.articles.crawl import Crawler, Disallowed
from siarkan.articles.importer import (
    FeedEntry,
    Parsed,
    parse_feed_or_sitemap,
    store_article,
)
from siarkan.articles.multipage import read_report
from siarkan.articles.remote import Validators, gunzip, sniff_kind
from siarkan.articles.text import ArticleRejected
from siarkan.config import Settings, SourceSettings
from siarkan.federation.sqlutil import insert_ignore
from siarkan.store.articles import Outcome
from siarkan.store.db import Database
from siarkan.store.tables import articles, sources_state
from siarkan.store.validators import storable

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30.0
PAGE_CONCURRENCY = 4
MAX_PAGES_PER_POLL = 100  # a first poll of a big sitemap is spread over several polls
PAGE_BUDGET = 60.0  # seconds of page fetching per poll, crawl delays included


@dataclass(frozen=True, slots=True)
class PollResult:
    url: str
    not_modified: bool = False
    entries: int = 0
    stored: int = 0  # created or updated
    failed: int = 0
    skipped: int = 0  # robots.txt said no
    complete: bool = True  # every picked page handled: nothing for the next poll to retry
    error: str | None = None


def poll_outcome(result: PollResult) -> str:
    """The siarkan_source_polls_total label of a poll."""
    if result.error is not None:
        return "error"
    return "not_modified" if result.not_modified else "fetched"


async def claim_due_source(
    conn: AsyncConnection, source: SourceSettings, now: datetime
) -> Validators | None:
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
    return Validators(row.etag, row.last_modified)


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
    return out


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
    crawler: Crawler, settings: Settings, entry: FeedEntry, deadline: float | None
) -> Parsed | Disallowed | str | None:
    """The page's article, why robots.txt said no, why it failed, or None: the poll's
    `deadline` (loop time) came first, waiting for the host's turn or reading the page."""
    try:
        # Page links come from a remote document: only public addresses (SSRF), and only
        # where robots.txt lets us.
        async with asyncio.timeout_at(deadline):
            fetched = await crawler.fetch(entry.url, listed=True)
            # A report split over pages is read whole within the same budget, or not now.
            outcome = await read_report(crawler, fetched, settings=settings.site)
    except Disallowed as exc:
        return exc
    except ArticleRejected as exc:
        return str(exc)
    except TimeoutError:
        return None
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
    crawler = Crawler(
        session,
        settings.imports,
        allow_private=settings.federation.allow_private_addresses,
        user_agent=instance_user_agent(settings.site.base_url),
    )
    try:
        # The source itself is the operator's choice: fetched as named, robots.txt or not
        # (a feed reader's fetch); the pages it lists are crawled.
        fetched = await crawler.fetch(
            source.url, listed=False, validators=validators, time_limit=POLL_TIMEOUT
        )
    except (ArticleRejected, OSError) as exc:
        return await _finish(db, source.url, None, PollResult(source.url, error=str(exc)))
    if fetched.not_modified:
        # RFC 9110 §15.4.5: a 304 carries the ETag a 200 would; ours stays if it leaves it out.
        kept = Validators(
            fetched.etag or validators.etag, fetched.last_modified or validators.last_modified
        )
        return await _finish(db, source.url, kept, PollResult(source.url, not_modified=True))
    try:
        body = gunzip(fetched.body)
        if sniff_kind(fetched.content_type, body) == "html":
            raise ArticleRejected("the source is an HTML page, not a feed or sitemap")
        entries = parse_feed_or_sitemap(body, source.url, tz=settings.site.tz)
    except ArticleRejected as exc:
        return await _finish(db, source.url, None, PollResult(source.url, error=str(exc)))
    known = await _known(db, [e.url for e in entries])
    wanted = pick_entries(entries, known, refetch_changed=source.fetch_full_page)
    complete = len(wanted) <= MAX_PAGES_PER_POLL
    wanted = wanted[:MAX_PAGES_PER_POLL]
    stored = failed = skipped = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PAGE_BUDGET
    for start in range(0, len(wanted), PAGE_CONCURRENCY):
        if start and loop.time() >= deadline:
            complete = False
            log.info(
                "source poll out of time: the rest waits for the next poll",
                extra={"source": source.url, "left": len(wanted) - start},
            )
            break
        batch = wanted[start : start + PAGE_CONCURRENCY]
        # The deadline holds inside a batch too (four pages of one host, each waiting for its
        # turn, could take minutes), except for the poll's first page: every poll gets somewhere.
        pages = await asyncio.gather(
            *(
                _fetch_page(crawler, settings, e, None if start == i == 0 else deadline)
                for i, e in enumerate(batch)
            )
        )
        for entry, page in zip(batch, pages, strict=True):
            if page is None:
                complete = False
                continue
            if isinstance(page, Disallowed):
                skipped += 1
                complete = complete and page.lasting
                log.info("source page skipped", extra={"url": entry.url, "reason": str(page)})
                continue
            if isinstance(page, str):
                failed += 1
                complete = False
                log.warning("source page failed", extra={"url": entry.url, "reason": page})
                continue
            article = page.article
            if source.section and not article.section:
                article = replace(article, section=source.section)
            try:
                async with db.connect() as conn:
                    upserted = await store_article(conn, settings, article, now=now)
            except Exception as exc:
                # One page's failed write must not end the tick (the other sources,
                # housekeeping), poll after poll until someone fixes that page.
                failed += 1
                complete = False
                log.warning(
                    "source page not stored",
                    extra={"url": entry.url, "reason": f"{exc.__class__.__name__}: {exc}"},
                    exc_info=True,
                )
                continue
            if upserted.outcome is not Outcome.UNCHANGED:
                stored += 1
    result = PollResult(
        source.url,
        entries=len(entries),
        stored=stored,
        failed=failed,
        skipped=skipped,
        complete=complete,
    )
    # An unfinished poll forgets the validators: the next one reads the document in full and
    # picks up the pages left over (with them kept it would be answered 304 and stop there).
    seen = Validators(fetched.etag, fetched.last_modified) if complete else None
    return await _finish(db, source.url, seen, result)


async def _finish(
    db: Database, url: str, validators: Validators | None, result: PollResult
) -> PollResult:
    values: dict[str, str | None] = {"last_error": result.error}
    if result.error is None:
        kept = storable(validators)
        values |= {
            "etag": kept.etag if kept else None,
            "last_modified": kept.last_modified if kept else None,
        }
    async with db.begin() as conn:
        await conn.execute(update(sources_state).where(sources_state.c.url == url).values(**values))
    # A poll that could not read its source is a warning: alerting by level must see it.
    log.log(
        logging.WARNING if result.error else logging.INFO,
        "source polled",
        extra={
            "source": url,
            "not_modified": result.not_modified,
            "entries": result.entries,
            "stored": result.stored,
            "failed": result.failed,
            "skipped": result.skipped,
            "complete": result.complete,
            "error": result.error,
        },
    )
    return result
