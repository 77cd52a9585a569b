"""Scheduled publication, post release, sources and housekeeping, driven by a ManualClock."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, insert, select

from siarkan import instance_user_agent
from siarkan.articles.importer import store_article
from siarkan.articles.model import Article, Status
from siarkan.clock import ManualClock
from siarkan.config import FederationSettings, Settings, SourceSettings
from siarkan.distribution import sources
from siarkan.distribution.scheduler import Scheduler, next_due, tick
from siarkan.distribution.sources import PollResult, poll_source
from siarkan.federation.keys import ensure_actors
from siarkan.metrics import Metrics
from siarkan.store.articles import get_article, list_articles
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.store.tables import (
    activities,
    articles,
    deliveries,
    inbox_seen,
    job_leases,
    posts,
    remote_actors,
    signatures_seen,
    sources_state,
    websub_subscriptions,
)
from siarkan.urls import feed_url
from tests.distribution.conftest import add_follower
from tests.helpers import free_port, serve_app

JAKARTA = timedelta(hours=7)
START = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 10:00 WIB


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def with_audience(db: Database, settings: Settings, now: datetime) -> None:
    """A follower of every actor and an active WebSub subscription to the main feed."""
    async with db.begin() as conn:
        await ensure_actors(conn, settings, now)
    for actor in ("utama", "banten"):
        await add_follower(
            db,
            actor,
            "https://mastodon.example/users/ani",
            "https://mastodon.example/users/ani/inbox",
            "https://mastodon.example/inbox",
            now,
        )
    async with db.begin() as conn:
        await conn.execute(
            insert(websub_subscriptions).values(
                topic=feed_url(settings, "utama", "atom"),
                callback="https://reader.example/cb",
                lease_seconds=864000,
                state="active",
                expires_at=now + timedelta(days=10),
                created_at=now,
                updated_at=now,
            )
        )


async def counts(db: Database) -> dict[str, int]:
    async with db.connect() as conn:
        rows = await conn.execute(
            select(deliveries.c.kind, func.count()).group_by(deliveries.c.kind)
        )
        return {kind: int(n) for kind, n in rows.all()}


async def store(db: Database, settings: Settings, article: Article, now: datetime) -> None:
    async with db.connect() as conn:
        await store_article(conn, settings, article, now=now)


async def test_scheduled_article_is_published_on_time_across_a_restart(
    db_settings: Settings,
    db_url: str,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:
    publish_at = START + timedelta(hours=2)  # 12:00 WIB
    first = Database(create_engine(db_url))
    await with_audience(first, db_settings, clock.now())
    await store(
        first, db_settings, make_article(publish_at=publish_at, published_at=None), clock.now()
    )
    report = await tick(first, db_settings, clock, http)
    assert report.published == [] and await counts(first) == {}
    assert await next_due(first, clock.now()) == publish_at
    await first.close()  # the service stops; its time passes

    clock.set(publish_at + timedelta(seconds=5))
    second = Database(create_engine(db_url))  # a new process on the same database
    try:
        report = await tick(second, db_settings, clock, http)
        assert report.published == ["a1b2c3d4e5f6"]
        async with second.connect() as conn:
            article = await get_article(conn, "a1b2c3d4e5f6")
            distributed = await conn.scalar(select(articles.c.distributed_at))
        assert article is not None and article.status is Status.PUBLISHED
        assert distributed == clock.now()
        queued = await counts(second)
        assert queued.get("activitypub", 0) >= 1  # Create to the followers' shared inbox
        assert queued.get("websub") == 1
        again = await tick(second, db_settings, clock, http)  # nothing twice
        assert again.published == [] and await counts(second) == queued
    finally:
        await second.close()


async def test_stale_scheduled_article_reaches_feeds_not_followers(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:
    await with_audience(db, db_settings, clock.now())
    publish_at = START + timedelta(hours=1)
    await store(
        db, db_settings, make_article(publish_at=publish_at, published_at=None), clock.now()
    )
    clock.set(publish_at + db_settings.scheduler.stale_after + timedelta(hours=1))  # down all night
    report = await tick(db, db_settings, clock, http)
    assert report.published == ["a1b2c3d4e5f6"]
    assert await counts(db) == {"websub": 1}  # feeds are told; timelines are not flooded


async def test_a_moved_embargo_goes_out_dated_and_federated_at_its_new_time(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:
    """The CMS moves a scheduled report two days later (WordPress sends only the new `date`):
    the old release time, never public, must not become its publication date."""
    await with_audience(db, db_settings, clock.now())
    article = make_article(publish_at=START + timedelta(hours=1), published_at=None)
    await store(db, db_settings, article, clock.now())
    later = START + timedelta(days=2)  # further than stale_after from the first date
    clock.advance(timedelta(minutes=5))
    await store(
        db, db_settings, replace(article, publish_at=later, title="Judul baru"), clock.now()
    )
    clock.set(later + timedelta(seconds=5))
    report = await tick(db, db_settings, clock, http)
    assert report.published == [article.id]
    async with db.connect() as conn:
        stored = await get_article(conn, article.id)
        creates = await conn.scalar(
            select(func.count()).select_from(activities).where(activities.c.type == "Create")
        )
    assert stored is not None and stored.published_at == later
    assert creates  # pushed to followers, not taken for an old report


async def test_two_schedulers_publish_once(
    db_settings: Settings,
    db_url: str,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:
    nodes = [Database(create_engine(db_url)) for _ in range(3)]
    try:
        await with_audience(nodes[0], db_settings, clock.now())
        for n in range(4):
            article = make_article(
                id=f"art{n}",
                slug=f"berita-{n}",
                title=f"Berita {n}",
                publish_at=START + timedelta(minutes=10 + n),
                published_at=None,
            )
            await store(nodes[0], db_settings, article, clock.now())
        clock.advance(timedelta(hours=1))
        reports = await asyncio.gather(
            *(
                tick(node, db_settings, clock, http, holder=f"node{i}")
                for i, node in enumerate(nodes)
            )
        )
        published = sorted(a for r in reports for a in r.published)
        assert published == ["art0", "art1", "art2", "art3"]
        assert sum(r.housekeeping is not None for r in reports) == 1
        async with nodes[0].connect() as conn:
            creates = (
                (
                    await conn.execute(
                        select(activities.c.object_uri).where(activities.c.type == "Create")
                    )
                )
                .scalars()
                .all()
            )
        # Every thread part of every article was created once, by one of the three nodes.
        assert len(creates) == len(set(creates)) > 4
    finally:
        for node in nodes:
            await node.close()


async def test_series_parts_are_released_by_later_ticks(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:
    utama = db_settings.channels[0]
    series = utama.model_copy(
        update={"excerpts": utama.excerpts.model_copy(update={"mode": "series", "series_parts": 3})}
    )
    settings = db_settings.model_copy(update={"channels": (series, *db_settings.channels[1:])})
    await with_audience(db, settings, clock.now())
    article = make_article(published_at=clock.now())
    await store(db, settings, article, clock.now())

    async def published_parts() -> int:
        async with db.connect() as conn:
            return int(
                await conn.scalar(
                    select(func.count())
                    .select_from(posts)
                    .where(posts.c.actor_name == "utama", posts.c.state == "published")
                )
                or 0
            )

    assert await published_parts() == 1
    assert await next_due(db, clock.now()) == clock.now() + series.excerpts.series_interval
    clock.advance(series.excerpts.series_interval)
    report = await tick(db, settings, clock, http)
    assert report.posts_released == 1 and await published_parts() == 2


async def test_housekeeping(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
) -> None:
    now = clock.now()
    old = now - timedelta(days=db_settings.delivery.keep_sent_days + 1)
    async with db.begin() as conn:
        await conn.execute(
            insert(deliveries),
            [
                {
                    "kind": "websub",
                    "target": "http://a/cb",
                    "host": "a",
                    "shared": False,
                    "state": state,
                    "attempts": 1,
                    "due_at": when,
                    "created_at": when,
                    "finished_at": when if state != "pending" else None,
                    "lease_until": now - timedelta(minutes=1) if state == "pending" else None,
                    "leased_by": "dead-worker" if state == "pending" else None,
                }
                for state, when in [("sent", old), ("dead", old), ("sent", now), ("pending", now)]
            ],
        )
        await conn.execute(
            insert(websub_subscriptions).values(
                topic="t",
                callback="c",
                lease_seconds=3600,
                state="active",
                expires_at=now - timedelta(seconds=1),
                created_at=old,
                updated_at=old,
            )
        )
        await conn.execute(insert(remote_actors).values(uri="https://x/u", fetched_at=old))
        await conn.execute(
            insert(inbox_seen).values(
                activity_id="https://x/a", type="Like", actor_uri="https://x/u", received_at=old
            )
        )
        await conn.execute(
            insert(signatures_seen),
            [
                {"digest": "expired", "expires_at": now - timedelta(seconds=1)},
                {"digest": "current", "expires_at": now + timedelta(hours=1)},
            ],
        )
    report = await tick(db, db_settings, clock, http)
    assert report.subscriptions_expired == 1
    assert report.housekeeping == {
        "leases_released": 1,
        "deliveries_deleted": 2,
        "held_given_up": 0,
        "remote_actors_expired": 1,
        "inbox_seen_deleted": 1,
        "signatures_seen_expired": 1,
    }
    assert (await tick(db, db_settings, clock, http)).housekeeping is None  # once per period
    clock.advance(timedelta(minutes=11))
    assert (await tick(db, db_settings, clock, http)).housekeeping is not None
    async with db.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(job_leases)) == 1
        assert list(await conn.scalars(select(signatures_seen.c.digest))) == ["current"]


# --- sources ------------------------------------------------------------------------------------


PAGE = """<!doctype html><html lang="id"><head><meta charset="utf-8">
<title>{title}</title><meta property="og:title" content="{title}">
<link rel="canonical" href="{url}">
<meta property="article:published_time" content="2026-11-28T09:00:00+07:00">
</head><body><article><h1>{title}</h1>
<p>SERANG, PROLOGMEDIA – {lead} Warga diminta tetap waspada karena hujan masih turun.</p>
<p>Kepala BPBD mengatakan tim gabungan sudah dikerahkan ke lokasi sejak pagi hari.</p>
</article></body></html>"""


class Publisher:
    """The publisher's site: robots.txt, an RSS feed (ETag-aware) and article pages."""

    def __init__(self) -> None:
        self.port = free_port()
        self.items = [("Banjir Rendam Serang", "Banjir merendam ratusan rumah.")]
        self.feed_hits: list[dict[str, str]] = []
        self.page_hits: list[str] = []
        self.robots = ""
        self.robots_hits = 0
        self.broken: set[str] = set()  # pages answering 500
        self.page_delay = 0.0  # seconds each page takes to answer

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def feed(self, request: web.Request) -> web.Response:
        self.feed_hits.append(dict(request.headers))
        etag = f'"v{len(self.items)}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        items = "".join(
            f"<item><title>{t}</title><link>{self.url(f'/berita/{i}')}</link>"
            # the pages say 09:00 WIB: the feed agrees, so known pages are not refetched
            f"<pubDate>{format_datetime(START - timedelta(hours=1))}</pubDate></item>"
            for i, (t, _) in enumerate(self.items)
        )
        channel = f"<channel><title>P</title>{items}</channel>"
        xml = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
        return web.Response(
            body=xml.encode(), content_type="application/rss+xml", headers={"ETag": etag}
        )

    async def page(self, request: web.Request) -> web.Response:
        index = int(request.match_info["n"])
        self.page_hits.append(request.path)
        await asyncio.sleep(self.page_delay)
        if request.path in self.broken:
            return web.Response(status=500, text="maaf")
        title, lead = self.items[index]
        html = PAGE.format(title=title, lead=lead, url=self.url(request.path))
        return web.Response(text=html, content_type="text/html")

    async def robots_txt(self, request: web.Request) -> web.Response:
        self.robots_hits += 1
        return web.Response(text=self.robots, content_type="text/plain")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/robots.txt", self.robots_txt)
        app.router.add_get("/rss.xml", self.feed)
        app.router.add_get("/berita/{n}", self.page)
        return app


async def test_sources_are_polled_with_conditional_get(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
) -> None:
    site = Publisher()
    source = {"url": site.url("/rss.xml"), "interval": timedelta(minutes=15), "section": "Banten"}
    settings = db_settings.model_copy(update={"sources": (SourceSettings(**source),)})
    metrics = Metrics()
    async with serve_app(site.app(), site.port):
        report = await tick(db, settings, clock, http)
        assert report.sources_polled == 1 and report.articles_stored == 1
        assert site.page_hits == ["/berita/0"]
        # The poll names this instance, not just the software: its operator can be reached.
        assert site.feed_hits[0]["User-Agent"] == instance_user_agent(settings.site.base_url)
        assert (await tick(db, settings, clock, http)).sources_polled == 0  # not due yet
        clock.advance(timedelta(minutes=15))
        report = await tick(db, settings, clock, http, metrics=metrics)
        assert report.sources_polled == 1 and report.articles_stored == 0
        assert site.feed_hits[-1].get("If-None-Match") == '"v1"'  # answered 304
        assert report.sources_not_modified == 1
        polls = metrics.registry.get_sample_value(
            "siarkan_source_polls_total", {"outcome": "not_modified"}
        )
        assert polls == 1
        site.items.append(("Jalan Tol Tangerang Ditutup", "Jalan tol ditutup sementara."))
        clock.advance(timedelta(minutes=15))
        report = await tick(db, settings, clock, http)
        assert report.articles_stored == 1
        assert site.page_hits == ["/berita/0", "/berita/1"]  # the known page is not refetched
    async with db.connect() as conn:
        stored = (await conn.execute(select(articles.c.title, articles.c.section))).all()
        state = (await conn.execute(select(sources_state))).mappings().one()
    assert sorted(stored) == [
        ("Banjir Rendam Serang", "Banten"),
        ("Jalan Tol Tangerang Ditutup", "Banten"),
    ]
    assert state["etag"] == '"v2"' and state["last_error"] is None


def with_source(settings: Settings, site: Publisher) -> tuple[Settings, SourceSettings]:
    source = SourceSettings(url=site.url("/rss.xml"), interval=timedelta(minutes=15))
    return settings.model_copy(update={"sources": (source,)}), source


async def poll(
    db: Database,
    settings: Settings,
    source: SourceSettings,
    http: aiohttp.ClientSession,
    clock: ManualClock,
) -> PollResult:
    clock.advance(source.interval)
    result = await poll_source(db, settings, source, http, clock.now())
    assert result is not None
    return result


def more_news(site: Publisher, count: int) -> None:
    site.items += [(f"Berita Banten Nomor {n}", f"Kabar ke-{n} dari Banten.") for n in range(count)]


async def test_a_failed_source_page_is_retried_though_the_feed_did_not_change(
    db_settings: Settings, db: Database, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    site = Publisher()
    settings, source = with_source(db_settings, site)
    site.broken = {"/berita/0"}
    async with serve_app(site.app(), site.port):
        first = await poll(db, settings, source, http, clock)
        assert (first.failed, first.stored, first.complete) == (1, 0, False)
        site.broken = set()
        # The feed still says "v1": had the poll kept it, this would be a 304 and the page
        # would wait for the next story to be published.
        second = await poll(db, settings, source, http, clock)
        assert "If-None-Match" not in site.feed_hits[-1]
        assert (second.stored, second.complete) == (1, True)
        third = await poll(db, settings, source, http, clock)
        assert third.not_modified


@pytest.mark.parametrize(
    ("limit", "per_poll"),
    [
        ({"MAX_PAGES_PER_POLL": 2}, [2, 2, 1]),
        # Out of time at once: the first page of each poll is fetched all the same.
        ({"PAGE_BUDGET": 0.0, "PAGE_CONCURRENCY": 2}, [1, 1, 1, 1, 1]),
    ],
)
async def test_a_poll_cut_short_leaves_the_rest_to_the_next_poll(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    limit: dict[str, float],
    per_poll: list[int],
) -> None:
    for name, value in limit.items():
        monkeypatch.setattr(sources, name, value)
    site = Publisher()
    more_news(site, 4)  # five stories
    settings, source = with_source(db_settings, site)
    async with serve_app(site.app(), site.port):
        stored = []
        for _ in per_poll:
            result = await poll(db, settings, source, http, clock)
            assert "If-None-Match" not in site.feed_hits[-1]
            stored.append(result.stored)
        assert stored == per_poll and result.complete
        assert (await poll(db, settings, source, http, clock)).not_modified


async def test_the_page_budget_holds_inside_a_batch(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four pages of one host are one batch, fetched one after the other: with slow pages
    (or a long Crawl-delay) the batch alone outlasts the budget. The tick waits for the
    poll, so the budget must stop it there, not after the batch."""
    monkeypatch.setattr(sources, "PAGE_BUDGET", 0.5)
    site = Publisher()
    site.page_delay = 0.6
    more_news(site, 3)  # four stories, one batch
    settings, source = with_source(db_settings, site)
    async with serve_app(site.app(), site.port):
        results = []
        while not results or not results[-1].complete:
            assert len(results) < 4
            started = time.monotonic()
            results.append(await poll(db, settings, source, http, clock))
            took = time.monotonic() - started
            assert took < 1.5, took  # the whole batch takes 2.4 s
            assert "If-None-Match" not in site.feed_hits[-1]  # cut short: read in full
        assert len(results) > 1 and results[0].stored >= 1
        assert sum(r.stored for r in results) == 4 and sum(r.failed for r in results) == 0


async def test_a_source_page_that_cannot_be_stored_fails_alone(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A write that fails (a database error, a row the store refuses) is one failed page:
    raised out of the poll it would end the tick, other sources and housekeeping included,
    at every poll of this source until the page changes."""
    site = Publisher()
    more_news(site, 1)
    settings, source = with_source(db_settings, site)
    real_store = sources.store_article
    down = {site.url("/berita/0")}

    async def flaky_store(conn: Any, settings: Settings, article: Article, **kwargs: Any) -> Any:
        if article.canonical_url in down:
            raise RuntimeError("database connection lost")
        return await real_store(conn, settings, article, **kwargs)

    monkeypatch.setattr(sources, "store_article", flaky_store)
    async with serve_app(site.app(), site.port):
        first = await poll(db, settings, source, http, clock)
        assert (first.stored, first.failed, first.complete) == (1, 1, False)
        down.clear()
        second = await poll(db, settings, source, http, clock)
        assert "If-None-Match" not in site.feed_hits[-1]  # not remembered: read in full
        assert (second.stored, second.failed, second.complete) == (1, 0, True)


async def test_source_pages_follow_robots_txt(
    db_settings: Settings, db: Database, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    site = Publisher()
    more_news(site, 1)
    site.robots = "User-agent: *\nDisallow: /\n\nUser-agent: siarkan\nDisallow: /berita/1\n"
    settings, source = with_source(db_settings, site)
    async with serve_app(site.app(), site.port):
        result = await poll(db, settings, source, http, clock)
        assert (result.stored, result.skipped, result.failed) == (1, 1, 0)
        assert site.page_hits == ["/berita/0"] and site.robots_hits == 1
        # robots.txt said no, and will say so next time: the feed is remembered all the same.
        assert result.complete
        assert (await poll(db, settings, source, http, clock)).not_modified
        off = settings.model_copy(
            update={"imports": settings.imports.model_copy(update={"respect_robots_txt": False})}
        )
        more_news(site, 1)  # a new story: the feed changes
        result = await poll(db, off, source, http, clock)
        assert result.stored == 2 and site.robots_hits == 1
        assert site.page_hits == ["/berita/0", "/berita/1", "/berita/2"]


async def test_the_source_document_goes_through_the_address_guard(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = Publisher()
    guarded = db_settings.model_copy(update={"federation": FederationSettings()})
    settings, source = with_source(guarded, site)
    async with serve_app(site.app(), site.port):
        result = await poll(db, settings, source, http, clock)
    assert result.error is not None and result.error.startswith("refused: 127.0.0.1")
    assert site.feed_hits == []
    # A source that could not be read is a warning: alerting by log level sees it.
    (polled,) = [r for r in caplog.records if r.getMessage() == "source polled"]
    assert polled.levelname == "WARNING"


async def test_apscheduler_ticks_and_stops(
    db_settings: Settings,
    db: Database,
    make_article: Callable[..., Article],
) -> None:
    settings = db_settings.model_copy(
        update={"scheduler": db_settings.scheduler.model_copy(update={"tick_seconds": 0.2})}
    )
    woken: list[bool] = []
    from siarkan.clock import SystemClock

    now = SystemClock().now()
    await store(
        db, settings, make_article(publish_at=now + timedelta(seconds=0.5), published_at=None), now
    )
    async with aiohttp.ClientSession() as session:
        scheduler = Scheduler(
            db,
            settings,
            SystemClock(),
            lambda: session,
            holder="t",
            on_queued=lambda: woken.append(True),
        )
        scheduler.start()
        try:
            for _ in range(100):
                if scheduler.ticks >= 3 and woken:
                    break
                await asyncio.sleep(0.05)
        finally:
            await scheduler.stop()
    assert scheduler.ticks >= 3 and woken
    async with db.connect() as conn:
        article = await get_article(conn, "a1b2c3d4e5f6")
    assert article is not None and article.status is Status.PUBLISHED


async def test_a_slow_source_never_holds_a_publication_back(
    db_settings: Settings,
    db: Database,
    make_article: Callable[..., Article],
) -> None:
    """Source polls pace their page fetches and may take a minute: they run as a job of their
    own, so an article scheduled meanwhile is published on time, not after the poll."""
    from siarkan.clock import SystemClock

    site = Publisher()
    site.page_delay = 1.5  # each of the four pages: the poll takes ~6 s
    more_news(site, 3)
    settings, _ = with_source(db_settings, site)
    settings = settings.model_copy(
        update={"scheduler": settings.scheduler.model_copy(update={"tick_seconds": 0.2})}
    )
    now = SystemClock().now()
    due = now + timedelta(seconds=0.8)
    await store(db, settings, make_article(publish_at=due, published_at=None), now)
    async with serve_app(site.app(), site.port), aiohttp.ClientSession() as session:
        scheduler = Scheduler(db, settings, SystemClock(), lambda: session, holder="t")
        scheduler.start()
        try:
            published_at = None
            for _ in range(60):
                await asyncio.sleep(0.05)
                async with db.connect() as conn:
                    article = await get_article(conn, "a1b2c3d4e5f6")
                if article is not None and article.status is Status.PUBLISHED:
                    published_at = SystemClock().now()
                    break
            assert published_at is not None, "not published within 3 s"
            assert published_at - due < timedelta(seconds=1)
            assert site.page_hits and scheduler.polls == 0  # the poll is still fetching
        finally:
            await scheduler.stop(grace=0.1)


async def test_stopping_lets_a_source_poll_under_way_finish(
    db_settings: Settings, db: Database
) -> None:
    """SIGTERM finishes in-flight work: a poll fetching its pages when the scheduler stops
    stores them before it ends, instead of being cancelled mid-fetch by APScheduler's
    executor shutdown (agronholm/apscheduler#233)."""
    from siarkan.clock import SystemClock

    site = Publisher()
    site.page_delay = 0.4  # two pages: the poll takes ~1 s
    more_news(site, 1)
    settings, _ = with_source(db_settings, site)
    async with serve_app(site.app(), site.port), aiohttp.ClientSession() as session:
        scheduler = Scheduler(db, settings, SystemClock(), lambda: session, holder="t")
        scheduler.start()
        try:
            for _ in range(200):
                if site.page_hits:
                    break
                await asyncio.sleep(0.02)
            assert site.page_hits and scheduler.polls == 0  # the poll is under way
        finally:
            await scheduler.stop(grace=10)
        assert scheduler.polls == 1
        assert site.page_hits == ["/berita/0", "/berita/1"]
    async with db.connect() as conn:
        stored = await list_articles(conn)
    assert sorted(a.title for a in stored) == ["Banjir Rendam Serang", "Berita Banten Nomor 0"]


def series_settings(settings: Settings, interval: timedelta) -> Settings:
    """`settings` with the main channel publishing series of 6 parts, `interval` apart."""
    utama = settings.channels[0]
    excerpts = utama.excerpts.overridden(mode="series", series_parts=6, series_interval=interval)
    series = utama.model_copy(update={"excerpts": excerpts})
    return settings.model_copy(update={"channels": (series, *settings.channels[1:])})


async def series_parts(db: Database, article_id: str) -> list[tuple[str, datetime | None, Any]]:
    """(state, published_at, due_at) of an article's series parts, in part order."""
    async with db.connect() as conn:
        rows = await conn.execute(
            select(posts.c.state, posts.c.published_at, posts.c.due_at)
            .where(posts.c.actor_name == "utama", posts.c.article_id == article_id)
            .order_by(posts.c.part)
        )
        return [(state, published, due) for state, published, due in rows.all()]


async def test_series_parts_overdue_after_downtime_come_spaced_not_in_a_burst(
    db_settings: Settings,
    db_url: str,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:
    """Down for 3 h with parts due every 30 min: on restart one part goes, the rest keep the
    series' spacing from it (stored, so a second restart does not burst either)."""
    interval = timedelta(minutes=30)
    settings = series_settings(db_settings, interval)
    first = Database(create_engine(db_url))
    await with_audience(first, settings, clock.now())
    article = make_article(published_at=clock.now())
    await store(first, settings, article, clock.now())
    parts = await series_parts(first, article.id)
    assert len(parts) == 6 and [s for s, _, _ in parts] == ["published"] + ["scheduled"] * 5
    await first.close()  # down from 10:00 until 11:40: parts 1-3 come due meanwhile

    clock.advance(timedelta(minutes=100))
    second = Database(create_engine(db_url))
    try:
        report = await tick(second, settings, clock, http)
        assert report.posts_released == 1
        parts = await series_parts(second, article.id)
        restart = clock.now()
        assert [s for s, _, _ in parts] == ["published"] * 2 + ["scheduled"] * 4
        assert parts[1][1] == restart
        # Part 4 was due at 12:00, only 20 min after part 1: pushed too.
        assert [due for _, _, due in parts[2:]] == [restart + k * interval for k in (1, 2, 3, 4)]
        clock.advance(timedelta(minutes=10))
        assert (await tick(second, settings, clock, http)).posts_released == 0
    finally:
        await second.close()  # down again from 11:50 until 13:20: parts 2-4 come due

    clock.advance(timedelta(minutes=90))
    third = Database(create_engine(db_url))
    try:
        report = await tick(third, settings, clock, http)
        assert report.posts_released == 1
        restart = clock.now()
        parts = await series_parts(third, article.id)
        assert [s for s, _, _ in parts] == ["published"] * 3 + ["scheduled"] * 3
        assert [due for _, _, due in parts[3:]] == [restart + k * interval for k in (1, 2, 3)]
        for _ in range(3):  # then one part per interval, in order
            clock.advance(interval)
            assert (await tick(third, settings, clock, http)).posts_released == 1
        parts = await series_parts(third, article.id)
        released = [published for _, published, _ in parts if published is not None]
        assert len(released) == 6 and released == sorted(released)
        assert all(b - a >= interval for a, b in itertools.pairwise(released))
        async with third.connect() as conn:
            created = (
                await conn.execute(
                    select(activities.c.object_uri)
                    .where(activities.c.type == "Create", activities.c.actor_name == "utama")
                    .order_by(activities.c.id)
                )
            ).scalars()
            uris = (
                await conn.execute(
                    select(posts.c.uri)
                    .where(posts.c.actor_name == "utama", posts.c.article_id == article.id)
                    .order_by(posts.c.part)
                )
            ).scalars()
            assert list(created) == list(uris)  # Creates went out in the series' order
    finally:
        await third.close()


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)  # row locks held by another transaction: PostgreSQL's SKIP LOCKED
async def test_a_series_part_held_by_another_transaction_is_not_overtaken_by_the_next(
    db_settings: Settings,
    db_url: str,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:
    """PostgreSQL: respacing and release skip locked rows. When another transaction (an edit,
    another node) holds the first overdue part, the unlocked rest of the series must not be
    respaced or released as if the next part were the first: it would go out before the
    part it follows."""
    interval = timedelta(minutes=30)
    settings = series_settings(db_settings, interval)
    node = Database(create_engine(db_url))
    try:
        await with_audience(node, settings, clock.now())
        article = make_article(published_at=clock.now())
        await store(node, settings, article, clock.now())
        clock.advance(timedelta(minutes=100))  # down: parts 1-3 came due meanwhile
        async with node.begin() as other:  # another transaction holds part 1
            await other.execute(
                select(posts.c.id)
                .where(posts.c.actor_name == "utama", posts.c.article_id == article.id)
                .where(posts.c.part == 1)
                .with_for_update()
            )
            report = await asyncio.wait_for(tick(node, settings, clock, http), 30)
            assert report.posts_released == 0
        assert (await tick(node, settings, clock, http)).posts_released == 1
        restart = clock.now()
        parts = await series_parts(node, article.id)
        assert [s for s, _, _ in parts] == ["published"] * 2 + ["scheduled"] * 4
        assert parts[1][1] == restart
        assert [due for _, _, due in parts[2:]] == [restart + k * interval for k in (1, 2, 3, 4)]
    finally:
        await node.close()


async def test_downtime_respaces_series_only_each_on_its_own(
    db_settings: Settings,
    db: Database,
    clock: ManualClock,
    http: aiohttp.ClientSession,
    make_article: Callable[..., Article],
) -> None:
    """After downtime, each overdue series sends one part now (series are per article), while
    embargoed reports whose time passed meanwhile go out when due, whole, as before."""
    settings = series_settings(db_settings, timedelta(minutes=30))
    await with_audience(db, settings, clock.now())
    for n in range(2):  # two series in the main channel, started at 10:00
        await store(
            db,
            settings,
            make_article(
                id=f"seri{n}", slug=f"seri-{n}", section="Nasional", published_at=clock.now()
            ),
            clock.now(),
        )
    for n in range(2):  # two embargoed Banten reports, due at 10:20 and 10:40
        embargoed = make_article(
            id=f"emb{n}",
            slug=f"embargo-{n}",
            publish_at=START + timedelta(minutes=20 + 20 * n),
            published_at=None,
        )
        await store(db, settings, embargoed, clock.now())
    clock.advance(timedelta(hours=3))  # down until 13:00
    report = await tick(db, settings, clock, http)
    assert sorted(report.published) == ["emb0", "emb1"]
    async with db.connect() as conn:
        banten = (
            await conn.execute(select(posts.c.state).where(posts.c.actor_name == "banten"))
        ).scalars()
        assert list(banten) == ["published"] * 2  # both embargoed reports, released at once
    for article_id in ("seri0", "seri1"):
        states = [state for state, _, _ in await series_parts(db, article_id)]
        assert states == ["published"] * 2 + ["scheduled"] * 4
    for article_id in ("emb0", "emb1"):  # their series starts now, as any new series does
        states = [state for state, _, _ in await series_parts(db, article_id)]
        assert states == ["published"] + ["scheduled"] * 5
