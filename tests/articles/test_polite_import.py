"""Importing a site the way a well-behaved crawler reads it, against a real loopback site and
real databases: robots.txt (RFC 9309), one request at a time per host with the crawl delay,
our User-Agent, and conditional GETs of feeds and sitemaps on the next import."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from siarkan import USER_AGENT, instance_user_agent
from siarkan.articles import crawl, importer
from siarkan.articles.importer import ImportOptions, ImportReport, import_targets
from siarkan.articles.text import ArticleRejected
from siarkan.cli import import_cmd
from siarkan.cli.context import CliContext
from siarkan.cli.main import build_parser
from siarkan.clock import ManualClock
from siarkan.config import ImportSettings, Settings
from siarkan.federation import fetch as federation_fetch
from siarkan.store.db import Database
from siarkan.store.tables import fetch_validators
from tests.articles.test_import_urls import article_page
from tests.helpers import free_port, serve_app

T0 = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    started: float
    ended: float = 0.0


@dataclass
class Site:
    """A publisher: robots.txt, an RSS feed (ETag-aware), a sitemap index, article pages."""

    port: int = field(default_factory=free_port)
    robots: tuple[int, str] | None = (200, "")  # None: robots.txt never answers in time
    pages: list[str] = field(default_factory=lambda: ["/artikel/1", "/arsip/2", "/privat/3"])
    etag: str | None = '"v1"'
    last_modified: str | None = None
    also_current: set[str] = field(default_factory=set)  # older ETags still answered with 304
    broken: set[str] = field(default_factory=set)  # pages answering 500
    hits: list[Hit] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requested(self, prefix: str) -> list[Hit]:
        return [h for h in self.hits if h.path.startswith(prefix)]

    def _hit(self, request: web.Request) -> Hit:
        hit = Hit(request.path_qs, dict(request.headers), time.monotonic())
        self.hits.append(hit)
        return hit

    async def robots_txt(self, request: web.Request) -> web.Response:
        self._hit(request)
        if self.robots is None:
            await asyncio.sleep(5)
            return web.Response(text="")
        status, text = self.robots
        return web.Response(status=status, text=text, content_type="text/plain")

    async def feed(self, request: web.Request) -> web.Response:
        self._hit(request)
        validators = {}
        if self.etag:
            validators["ETag"] = self.etag
        if self.last_modified:
            validators["Last-Modified"] = self.last_modified
        asked = request.headers.get("If-None-Match")
        if (self.etag and asked in {self.etag, *self.also_current}) or (
            self.last_modified and request.headers.get("If-Modified-Since") == self.last_modified
        ):
            return web.Response(status=304, headers=validators)
        items = "".join(
            f"<item><title>Berita {n}</title><link>{self.url(path)}</link>"
            "<pubDate>Sat, 18 Oct 2025 09:15:00 +0700</pubDate></item>"
            for n, path in enumerate(self.pages)
        )
        channel = f"<channel><title>Kabar Banten</title>{items}</channel>"
        xml = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
        return web.Response(text=xml, content_type="application/rss+xml", headers=validators)

    async def index(self, request: web.Request) -> web.Response:
        self._hit(request)
        xml = (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<sitemap><loc>/feed.xml</loc></sitemap></sitemapindex>"
        )
        # Validators on the index too: siarkan must not use them (see test below).
        return web.Response(text=xml, content_type="application/xml", headers={"ETag": '"i1"'})

    async def page(self, request: web.Request) -> web.Response:
        hit = self._hit(request)
        await asyncio.sleep(0.05)  # long enough for two requests at once to overlap
        hit.ended = time.monotonic()
        if request.path in self.broken:
            return web.Response(status=500, text="maaf")
        n = int(request.match_info["n"])
        return web.Response(text=article_page(n), content_type="text/html", charset="utf-8")

    async def moved(self, request: web.Request) -> web.Response:
        self._hit(request)
        raise web.HTTPFound("/arsip/9")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/robots.txt", self.robots_txt)
        app.router.add_get("/feed.xml", self.feed)
        app.router.add_get("/sitemap.xml", self.index)
        app.router.add_get("/pindah", self.moved)
        app.router.add_get("/{section}/{n:\\d+}", self.page)
        return app


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    publisher = Site()
    async with serve_app(publisher.app(), publisher.port):
        yield publisher


def with_imports(settings: Settings, **values: Any) -> Settings:
    imports = settings.imports.model_copy(update=values)
    return settings.model_copy(update={"imports": imports})


async def run_import(
    settings: Settings, db: Database, *urls: str, options: ImportOptions = ImportOptions()
) -> ImportReport:
    # A bare session: the User-Agent must come from siarkan's fetch, not a session default.
    async with aiohttp.ClientSession() as session:
        return await import_targets(
            list(urls),
            db=db,
            settings=settings,
            clock=ManualClock(T0),
            options=options,
            session=session,
        )


ROBOTS = "User-agent: *\nDisallow: /\n\nUser-agent: siarkan\nDisallow: /arsip/\n"


async def test_robots_txt_disallowed_pages_are_skipped_with_the_reason(
    site: Site, db_settings: Settings, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    site.robots = (200, ROBOTS)
    site.pages.append("/pindah")  # redirects to /arsip/9: the hop is checked too
    args = build_parser().parse_args(["import", site.url("/feed.xml")])
    context = CliContext(settings=db_settings, config_path=Path("x.yaml"))
    status = await import_cmd.run(args, context)
    out, err = capsys.readouterr()
    robots = site.url("/robots.txt")
    assert status == 0  # skipping is what the site asked for, not a failure
    assert f"{site.url('/arsip/2')}: skipped: disallowed by {robots} (Disallow: /arsip/)" in err
    assert f"{site.url('/pindah')}: skipped: disallowed by {robots} (Disallow: /arsip/)" in err
    assert out.strip() == "2 imported, 0 updated, 0 unchanged, 0 failed, 2 skipped (robots.txt)"
    # The group for siarkan replaced `*` (which disallows everything): /privat/3 was fetched.
    assert [h.path for h in site.requested("/privat/")] == ["/privat/3"]
    assert site.requested("/arsip/") == []  # neither listed nor redirected-to
    assert len(site.requested("/robots.txt")) == 1  # once per run
    # robots.txt, the feed and the pages all name this instance, so the site's operator can
    # tell which one is calling (and the group for our product token is the one followed).
    agent = instance_user_agent(db_settings.site.base_url)
    assert agent.startswith("siarkan/") and db_settings.site.base_url in agent
    assert {h.headers.get("User-Agent") for h in site.hits} == {agent}


async def test_the_switch_off_reads_everything_without_robots_txt(
    site: Site, settings: Settings, db: Database
) -> None:
    site.robots = (200, "User-agent: *\nDisallow: /\n")
    report = await run_import(
        with_imports(settings, respect_robots_txt=False), db, site.url("/feed.xml")
    )
    assert len(report.imported) == 3 and report.skipped == [] and report.failed == []
    assert site.requested("/robots.txt") == []
    assert {h.headers.get("User-Agent") for h in site.hits} == {
        instance_user_agent(settings.site.base_url)
    }


@pytest.mark.parametrize(
    ("answer", "imported", "reason"),
    [
        ((404, "User-agent: *\nDisallow: /\n"), 3, None),  # RFC 9309 §2.3.1.3: allow all
        ((410, ""), 3, None),
        ((503, "User-agent: *\nAllow: /\n"), 0, "HTTP 503"),  # §2.3.1.4: disallow all
        ((429, ""), 0, "HTTP 429"),
    ],
)
async def test_robots_txt_answering_an_error(
    site: Site,
    settings: Settings,
    db: Database,
    answer: tuple[int, str],
    imported: int,
    reason: str | None,
) -> None:
    site.robots = answer
    report = await run_import(settings, db, site.url("/feed.xml"))
    assert len(report.imported) == imported
    if reason is not None:
        robots = site.url("/robots.txt")
        expected = f"robots.txt unreachable ({reason}): {robots} disallows everything"
        assert {s.reason for s in report.skipped} == {expected}
        assert len(report.skipped) == 3 and report.ok
        assert site.requested("/artikel/") == []
        # Worth another try later: the feed is not remembered, the next import reads it all.
        site.robots = (200, "")
        again = await run_import(settings, db, site.url("/feed.xml"))
        assert "If-None-Match" not in site.requested("/feed.xml")[-1].headers
        assert len(again.imported) == 3


async def test_robots_txt_that_never_answers_disallows_the_site(
    site: Site, settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crawl, "ROBOTS_TIMEOUT", 0.3)
    site.robots = None
    report = await run_import(settings, db, site.url("/feed.xml"))
    assert report.imported == [] and len(report.skipped) == 3
    assert "robots.txt unreachable (timed out after 0.3 s)" in report.skipped[0].reason


def _gaps(hits: list[Hit]) -> list[float]:
    ordered = sorted(hits, key=lambda h: h.started)
    return [b.started - a.ended for a, b in itertools.pairwise(ordered)]


@pytest.mark.parametrize(
    ("robots", "imports", "at_least", "below"),
    [
        ("User-agent: *\nCrawl-delay: 0.3\n", {}, 0.3, 2.0),  # the site's word
        ("User-agent: *\nCrawl-delay: 30\n", {"max_crawl_delay": 0.2}, 0.2, 2.0),  # capped
        # ... but a site asking for more than the cap is never read faster than our own pace
        (
            "User-agent: *\nCrawl-delay: 30\n",
            {"crawl_delay": 0.3, "max_crawl_delay": 0.1},
            0.3,
            2.0,
        ),
        ("", {"crawl_delay": 0.25}, 0.25, 2.0),  # no Crawl-delay: ours
    ],
)
async def test_one_request_at_a_time_per_host_with_the_crawl_delay(
    site: Site,
    settings: Settings,
    db: Database,
    robots: str,
    imports: dict[str, float],
    at_least: float,
    below: float,
) -> None:
    site.robots = (200, robots)
    site.pages = ["/artikel/1", "/artikel/2", "/artikel/3", "/artikel/4"]
    report = await run_import(with_imports(settings, **imports), db, site.url("/feed.xml"))
    assert len(report.imported) == 4
    gaps = _gaps(site.requested("/artikel/"))
    assert len(gaps) == 3
    # Never two at once (a gap below 0 is an overlap), and the delay between them; measured
    # at the server, so a little less than the client waited.
    assert min(gaps) >= at_least - 0.02, gaps
    assert max(gaps) < below, gaps


def test_crawl_delay_defaults() -> None:
    defaults = ImportSettings()
    assert defaults.respect_robots_txt is True
    assert defaults.crawl_delay == 0.5 and defaults.max_crawl_delay == 10.0


async def stored_validators(db: Database) -> dict[str, tuple[str | None, str | None]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            select(
                fetch_validators.c.url, fetch_validators.c.etag, fetch_validators.c.last_modified
            )
        )
        return {url: (etag, modified) for url, etag, modified in rows.all()}


async def test_a_reimport_asks_whether_the_feed_changed(
    site: Site, settings: Settings, db: Database
) -> None:
    feed = site.url("/feed.xml")
    first = await run_import(settings, db, feed)
    assert len(first.imported) == 3
    assert await stored_validators(db) == {feed: ('"v1"', None)}
    pages_before = len(site.requested("/"))

    again = await run_import(settings, db, feed)
    assert site.requested("/feed.xml")[-1].headers.get("If-None-Match") == '"v1"'
    assert again.not_modified == [feed] and again.imported == again.unchanged == []
    assert again.summary().endswith(", 1 feeds/sitemaps not modified")
    # Nothing but the feed was asked for (no pages, and no robots.txt: no page needed it).
    assert [h.path for h in site.hits[pages_before:]] == ["/feed.xml"]

    refetched = await run_import(settings, db, feed, options=ImportOptions(refetch=True))
    assert "If-None-Match" not in site.requested("/feed.xml")[-1].headers
    assert len(refetched.unchanged) == 3 and refetched.not_modified == []

    site.etag, site.last_modified = None, "Sat, 18 Oct 2025 02:15:00 GMT"
    await run_import(settings, db, feed)  # v1 no longer matches: read in full, remembered
    assert await stored_validators(db) == {feed: (None, "Sat, 18 Oct 2025 02:15:00 GMT")}
    last = await run_import(settings, db, feed)
    headers = site.requested("/feed.xml")[-1].headers
    assert headers.get("If-Modified-Since") == "Sat, 18 Oct 2025 02:15:00 GMT"
    assert last.not_modified == [feed]


async def test_a_304_with_a_new_etag_is_remembered(
    site: Site, settings: Settings, db: Database
) -> None:
    # The server moved to a new ETag for the same content (a rebuilt cache, another
    # replica): its 304 says so, and the next import must ask with the new one.
    feed = site.url("/feed.xml")
    await run_import(settings, db, feed)
    site.etag, site.also_current = '"v2"', {'"v1"'}
    again = await run_import(settings, db, feed)
    assert again.not_modified == [feed]
    assert await stored_validators(db) == {feed: ('"v2"', None)}
    await run_import(settings, db, feed)
    assert site.requested("/feed.xml")[-1].headers.get("If-None-Match") == '"v2"'


async def test_a_dry_run_neither_sends_nor_saves_validators(
    site: Site, settings: Settings, db: Database
) -> None:
    await run_import(settings, db, site.url("/feed.xml"))
    async with aiohttp.ClientSession() as session:
        report = await import_targets(
            [site.url("/feed.xml")],
            db=None,
            settings=settings,
            clock=ManualClock(T0),
            options=ImportOptions(dry_run=True),
            session=session,
        )
    assert len(report.parsed) == 3
    assert "If-None-Match" not in site.requested("/feed.xml")[-1].headers


async def test_a_failed_page_keeps_the_feed_from_being_remembered(
    site: Site, settings: Settings, db: Database
) -> None:
    site.broken = {"/arsip/2"}
    first = await run_import(settings, db, site.url("/feed.xml"))
    assert len(first.imported) == 2 and [f.source for f in first.failed] == [site.url("/arsip/2")]
    assert await stored_validators(db) == {}
    site.broken = set()
    # Same feed, same ETag: without the rule this would be a 304 and the page never retried.
    second = await run_import(settings, db, site.url("/feed.xml"))
    assert "If-None-Match" not in site.requested("/feed.xml")[-1].headers
    assert len(second.imported) == 1 and len(second.unchanged) == 2
    assert await stored_validators(db) == {site.url("/feed.xml"): ('"v1"', None)}


async def test_a_page_robots_txt_disallows_does_not_stop_the_feed_being_remembered(
    site: Site, settings: Settings, db: Database
) -> None:
    site.robots = (200, ROBOTS)
    first = await run_import(settings, db, site.url("/feed.xml"))
    assert len(first.skipped) == 1
    again = await run_import(settings, db, site.url("/feed.xml"))
    assert again.not_modified == [site.url("/feed.xml")]


async def test_a_sitemap_index_is_read_in_full_its_children_conditionally(
    site: Site, settings: Settings, db: Database
) -> None:
    await run_import(settings, db, site.url("/sitemap.xml"))
    assert set(await stored_validators(db)) == {site.url("/feed.xml")}
    again = await run_import(settings, db, site.url("/sitemap.xml"))
    # The index: a 304 would hide a grown child sitemap, so it is never asked conditionally.
    assert "If-None-Match" not in site.requested("/sitemap.xml")[-1].headers
    assert site.requested("/feed.xml")[-1].headers.get("If-None-Match") == '"v1"'
    assert again.not_modified == [site.url("/feed.xml")]


async def test_a_page_timing_out_in_a_redirect_leaves_robots_txt_to_the_others(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pages wait for one robots.txt; the first gives up (its time limit covers its
    redirect's check). The second must still get its answer, not a cancelled shared fetch."""
    monkeypatch.setattr(crawl, "ROBOTS_TIMEOUT", 0.6)
    slow = Site(robots=None)  # robots.txt that never answers in time
    port = free_port()

    async def elsewhere(request: web.Request) -> web.Response:
        raise web.HTTPFound(slow.url("/artikel/1"))

    hop = web.Application()
    hop.router.add_get("/ke-sana", elsewhere)
    async with (
        serve_app(slow.app(), slow.port),
        serve_app(hop, port),
        aiohttp.ClientSession() as session,
    ):
        crawler = crawl.Crawler(
            session, settings.imports, allow_private=True, user_agent=USER_AGENT
        )
        first, second = await asyncio.gather(
            crawler.fetch(f"http://127.0.0.1:{port}/ke-sana", listed=True, time_limit=0.2),
            crawler.fetch(slow.url("/artikel/1"), listed=True),
            return_exceptions=True,
        )
    assert isinstance(first, ArticleRejected) and "timed out after 0.2 s" in str(first)
    assert isinstance(second, crawl.Disallowed), second
    assert "robots.txt unreachable (timed out after 0.6 s)" in str(second)
    assert slow.requested("/artikel/") == []


async def test_a_sitemap_listing_a_bad_address_fails_that_page_only(
    site: Site, settings: Settings, db: Database
) -> None:
    """A <loc> with a port that is no port (a CMS typo) is one failed page: robots.txt's
    origin of it cannot be named, which must not end the import of the rest."""
    port = free_port()

    async def sitemap(request: web.Request) -> web.Response:
        locs = [
            site.url("/artikel/1"),
            "http://127.0.0.1:99999/artikel/2",
            "http://127.0.0.1:abc/artikel/3",
            "http://[::1/artikel/4",  # unreadable: skipped
            site.url("/artikel/5"),
        ]
        xml = "<urlset>" + "".join(f"<url><loc>{loc}</loc></url>" for loc in locs) + "</urlset>"
        return web.Response(text=xml, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/sitemap.xml", sitemap)
    async with serve_app(app, port):
        report = await run_import(settings, db, f"http://127.0.0.1:{port}/sitemap.xml")
    assert len(report.imported) == 2
    assert [f.source for f in report.failed] == [
        "http://127.0.0.1:99999/artikel/2",
        "http://127.0.0.1:abc/artikel/3",
    ]
    assert all("fetch failed" in f.reason for f in report.failed), report.failed


async def test_a_page_that_could_not_be_stored_keeps_the_feed_from_being_remembered(
    site: Site, settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page was fetched and parsed, but its write failed (the batch reports it "not
    stored"): remembering the feed would make the next import a 304 that never stores it."""
    real_upsert = importer.upsert_article
    down = {site.url("/arsip/2")}

    async def flaky_upsert(conn: Any, article: Any, **kwargs: Any) -> Any:
        if article.canonical_url in down:
            raise RuntimeError("database connection lost")
        return await real_upsert(conn, article, **kwargs)

    monkeypatch.setattr(importer, "upsert_article", flaky_upsert)
    first = await run_import(settings, db, site.url("/feed.xml"))
    assert len(first.imported) == 2
    assert [f.source for f in first.failed] == [site.url("/arsip/2")]
    assert first.failed[0].reason.startswith("not stored: RuntimeError")
    assert await stored_validators(db) == {}
    down.clear()
    second = await run_import(settings, db, site.url("/feed.xml"))
    assert "If-None-Match" not in site.requested("/feed.xml")[-1].headers
    assert len(second.imported) == 1 and len(second.unchanged) == 2
    assert await stored_validators(db) == {site.url("/feed.xml"): ('"v1"', None)}


async def test_a_feed_address_too_long_to_remember_is_imported_all_the_same(
    site: Site, settings: Settings, db: Database
) -> None:
    """fetch_validators.url holds 2,000 characters (PostgreSQL refuses a longer value; a
    sitemap index may list such an address): the feed is imported, just not remembered."""
    feed = site.url("/feed.xml?" + "&".join(f"kategori{n}=berita-banten" for n in range(90)))
    assert len(feed) > 2000
    report = await run_import(settings, db, feed)
    assert len(report.imported) == 3 and report.ok
    assert await stored_validators(db) == {}


async def test_robots_txt_redirected_to_a_refused_address_disallows_the_site(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site is public, its robots.txt redirects to an address the SSRF guard refuses:
    the rules were not read, which is no leave to crawl (RFC 9309 §2.3.1.4)."""
    # 127.0.0.1 plays the public site; 127.0.0.2 the inside address.
    monkeypatch.setattr(federation_fetch, "address_allowed", lambda a: str(a) == "127.0.0.1")
    site = Site()

    async def moved_robots(request: web.Request) -> web.Response:
        site.hits.append(Hit(request.path, dict(request.headers), time.monotonic()))
        raise web.HTTPFound(f"http://127.0.0.2:{site.port}/robots.txt")

    site.robots_txt = moved_robots  # type: ignore[method-assign]
    async with serve_app(site.app(), site.port), aiohttp.ClientSession() as session:
        crawler = crawl.Crawler(
            session, settings.imports, allow_private=False, user_agent=USER_AGENT
        )
        with pytest.raises(crawl.Disallowed) as refused:
            await crawler.fetch(site.url("/artikel/1"), listed=True)
        assert not refused.value.lasting
        assert "robots.txt unreachable (refused: 127.0.0.2" in str(refused.value)
        # The site itself refused: the page's own fetch says so.
        inside = site.url("/artikel/1").replace("127.0.0.1", "127.0.0.2")
        with pytest.raises(ArticleRejected, match=r"^refused: 127\.0\.0\.2"):
            await crawler.fetch(inside, listed=True)
    assert site.requested("/artikel/") == []
