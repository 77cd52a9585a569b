"""Importing a whole publisher site the way real ones are served: links to the inside in a
public sitemap, a gzipped child sitemap sent as a file, pages labelled ISO-8859-1, pages whose
only date is in the sitemap."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from aiohttp import web

from siarkan import USER_AGENT, instance_user_agent
from siarkan.articles.crawl import Crawler
from siarkan.articles.html import decode_html
from siarkan.articles.importer import (
    ImportOptions,
    Progress,
    UrlOutcome,
    import_targets,
    url_outcomes,
)
from siarkan.articles.parsers import Failed, Parsed, parse_page_bytes
from siarkan.articles.remote import fetch, sniff_kind
from siarkan.articles.text import ArticleRejected
from siarkan.clock import ManualClock
from siarkan.config import Settings
from siarkan.federation import fetch as fetch_module
from siarkan.federation.fetch import resolve
from tests.articles.test_import_urls import article_page
from tests.helpers import free_port, serve_app

WIB = timezone(timedelta(hours=7))
PUBLIC_HOST = "kabarbanten.test"  # resolved to loopback by the test, but "public"

UNDATED = """<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<title>Warga Lebak Gotong Royong Perbaiki Jembatan Gantung - Kabar Banten</title>
<meta property="og:type" content="article"></head><body><article>
<h1>Warga Lebak Gotong Royong Perbaiki Jembatan Gantung</h1>
<div class="entry-content"><p>LEBAK, KABARBANTEN.COM – Ratusan warga Desa Sukamaju bergotong royong
memperbaiki jembatan gantung yang putus diterjang banjir bandang pekan lalu.</p>
<p>Kepala desa setempat mengatakan perbaikan ditargetkan selesai dalam dua pekan agar anak-anak
bisa kembali bersekolah tanpa harus memutar sejauh lima kilometer.</p></div>
</article></body></html>"""


def urlset(*locs: tuple[str, str]) -> bytes:
    urls = "".join(
        f"<url><loc>{loc}</loc><news:news><news:publication_date>{when}"
        "</news:publication_date></news:news></url>"
        for loc, when in locs
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{urls}</urlset>"
    ).encode()


@pytest.fixture
async def site() -> AsyncIterator[tuple[str, str]]:
    """(public base URL, the same server by its loopback address)."""
    port = free_port()
    public = f"http://{PUBLIC_HOST}:{port}"
    inside = f"http://127.0.0.1:{port}"

    async def article(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(text=article_page(n), content_type="text/html", charset="utf-8")

    async def undated(request: web.Request) -> web.Response:
        return web.Response(text=UNDATED, content_type="text/html", charset="utf-8")

    async def to_inside(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{inside}/artikel/3")

    async def index(request: web.Request) -> web.Response:
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<sitemap><loc>/post-sitemap.xml.gz</loc></sitemap></sitemapindex>"
        )
        return web.Response(text=text, content_type="application/xml")

    async def gzipped(request: web.Request) -> web.Response:
        # WordPress sitemap plugins and nginx serve .xml.gz as a file, not Content-Encoding.
        body = gzip.compress(urlset((f"{public}/artikel/1", "2025-10-18T09:15:00+07:00")))
        return web.Response(body=body, content_type="application/x-gzip")

    async def evil(request: web.Request) -> web.Response:
        body = urlset(
            (f"{public}/artikel/1", "2025-10-18T09:15:00+07:00"),
            (f"{inside}/artikel/2", "2025-10-18T09:15:00+07:00"),
            ("http://169.254.169.254/latest/meta-data/", "2025-10-18T09:15:00+07:00"),
            (f"{public}/ke-dalam", "2025-10-18T09:15:00+07:00"),
            (f"{public}/tanpa-tanggal", "2025-10-03 10:30:00"),
        )
        return web.Response(body=body, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/artikel/{n}", article)
    app.router.add_get("/tanpa-tanggal", undated)
    app.router.add_get("/ke-dalam", to_inside)
    app.router.add_get("/sitemap_index.xml", index)
    app.router.add_get("/post-sitemap.xml.gz", gzipped)
    app.router.add_get("/news-sitemap.xml", evil)
    async with serve_app(app, port):
        yield public, inside


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """PUBLIC_HOST resolves to the loopback test server; every other name as usual."""

    async def fake(host: str, port: int, *, allow_private: bool) -> list[str]:
        if host == PUBLIC_HOST:
            return ["127.0.0.1"]
        return await resolve(host, port, allow_private=allow_private)

    monkeypatch.setattr(fetch_module, "resolve", fake)


async def outcomes(url: str, settings: Settings, *, allow_private: bool) -> list[UrlOutcome]:
    async with aiohttp.ClientSession() as session:
        crawler = Crawler(
            session,
            settings.imports,
            allow_private=allow_private,
            user_agent=instance_user_agent(settings.site.base_url),
        )
        return [o async for o in url_outcomes(crawler, url, settings=settings.site)]


async def test_links_to_the_inside_in_a_public_sitemap_are_refused(
    site: tuple[str, str], public_dns: None, settings: Settings
) -> None:
    public, inside = site
    found = await outcomes(f"{public}/news-sitemap.xml", settings, allow_private=False)
    parsed = {o.source for o in found if isinstance(o, Parsed)}
    failed = {o.source: o.reason for o in found if isinstance(o, Failed)}
    assert parsed == {f"{public}/artikel/1", f"{public}/tanpa-tanggal"}
    assert failed[f"{inside}/artikel/2"].startswith("refused: 127.0.0.1 resolves to a non-public")
    assert failed["http://169.254.169.254/latest/meta-data/"].startswith("refused: ")
    # A redirect from the public site to the inside is checked again, hop by hop.
    assert failed[f"{public}/ke-dalam"].startswith("refused: 127.0.0.1")


async def test_metadata_address_is_refused_without_connecting() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ArticleRejected, match=r"^refused: .*169\.254\.169\.254"):
            await fetch(session, "http://169.254.169.254/latest/meta-data/")


async def test_a_page_without_a_date_takes_the_sitemaps(
    site: tuple[str, str], public_dns: None, settings: Settings
) -> None:
    public, _ = site
    found = await outcomes(f"{public}/news-sitemap.xml", settings, allow_private=False)
    undated = next(o for o in found if o.source == f"{public}/tanpa-tanggal")
    assert isinstance(undated, Parsed)
    # Not None (the store would make it "now" and federate a week-old story as news).
    assert undated.article.published_at == datetime(2025, 10, 3, 10, 30, tzinfo=WIB)
    dated = next(o for o in found if o.source == f"{public}/artikel/1")
    assert isinstance(dated, Parsed)  # the page's own date wins over the sitemap's
    assert dated.article.published_at == datetime(2025, 10, 18, 9, 15, tzinfo=WIB)


async def test_gzipped_child_sitemap_served_as_a_file(
    site: tuple[str, str], public_dns: None, settings: Settings
) -> None:
    public, _ = site
    assert sniff_kind("application/x-gzip", gzip.compress(b"<urlset/>")) == "feed"
    found = await outcomes(f"{public}/sitemap_index.xml", settings, allow_private=False)
    assert [type(o).__name__ for o in found] == ["Parsed"], found


def test_iso_8859_1_label_means_windows_1252(settings: Settings) -> None:
    assert decode_html("“Kami” – siap…".encode("cp1252"), "ISO-8859-1") == "“Kami” – siap…"
    assert decode_html(b"\x93ya\x94", "us-ascii") == "“ya”"
    page = UNDATED.replace('charset="utf-8"', 'charset="iso-8859-1"').encode("cp1252")
    outcome = parse_page_bytes(page, url="https://kabarbanten.test/a", settings=settings.site)
    assert isinstance(outcome, Parsed)
    assert outcome.article.dateline == "LEBAK, KABARBANTEN.COM"


async def test_a_page_listed_twice_is_fetched_once(settings: Settings) -> None:
    """A site's feed, its sitemap and its news sitemap list the same reports: one fetch each."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    hits: dict[str, int] = {}

    async def article(request: web.Request) -> web.Response:
        hits[request.path] = hits.get(request.path, 0) + 1
        n = int(request.match_info["n"])
        return web.Response(text=article_page(n), content_type="text/html", charset="utf-8")

    async def news(request: web.Request) -> web.Response:
        when = "2025-10-18T09:15:00+07:00"
        body = urlset((f"{base}/artikel/1", when), (f"{base}/artikel/1#komentar", when))
        return web.Response(body=body, content_type="application/xml")

    async def index(request: web.Request) -> web.Response:
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<sitemap><loc>/news.xml</loc></sitemap><sitemap><loc>/news.xml</loc></sitemap>"
            "</sitemapindex>"
        )
        return web.Response(text=text, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/artikel/{n}", article)
    app.router.add_get("/news.xml", news)
    app.router.add_get("/index.xml", index)
    async with serve_app(app, port), aiohttp.ClientSession() as session:
        crawler = Crawler(session, settings.imports, allow_private=True, user_agent=USER_AGENT)
        seen: set[str] = set()
        found = [
            o
            for url in (f"{base}/index.xml", f"{base}/news.xml")
            async for o in url_outcomes(crawler, url, settings=settings.site, seen=seen)
        ]
    assert [type(o).__name__ for o in found] == ["Parsed"], found
    assert hits == {"/artikel/1": 1}


async def test_progress_counts_every_page_a_sitemap_lists(settings: Settings) -> None:
    """A sitemap index of 2 sitemaps and 5 pages is 1 + 5 steps of the progress bar, grown as
    they are read; not one step that sits at 0/1 for the whole crawl."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    when = "2025-10-18T09:15:00+07:00"

    async def article(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(text=article_page(n), content_type="text/html", charset="utf-8")

    async def child(request: web.Request) -> web.Response:
        first = 1 if request.match_info["n"] == "1" else 4
        pages = [(f"{base}/artikel/{n}", when) for n in range(first, first + 3)]
        return web.Response(body=urlset(*pages[: 3 if first == 1 else 2]), content_type="text/xml")

    async def index(request: web.Request) -> web.Response:
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<sitemap><loc>/s1.xml</loc></sitemap><sitemap><loc>/s2.xml</loc></sitemap>"
            "</sitemapindex>"
        )
        return web.Response(text=text, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/artikel/{n}", article)
    app.router.add_get("/s{n}.xml", child)
    app.router.add_get("/index.xml", index)
    totals: list[int] = []
    done: list[str] = []

    def found(count: int) -> None:
        totals.append((totals[-1] if totals else 0) + count)

    async with serve_app(app, port), aiohttp.ClientSession() as session:
        report = await import_targets(
            [f"{base}/index.xml"],
            db=None,
            settings=settings,
            clock=ManualClock(datetime(2025, 10, 19, tzinfo=WIB)),
            options=ImportOptions(dry_run=True),
            session=session,
            progress=Progress(found, done.append),
        )
    assert len(report.parsed) == 5
    assert totals == [1, 4, 6]  # the target, then each child sitemap's pages as it is read
    assert done == [f"{base}/artikel/{n}" for n in range(1, 6)] + [f"{base}/index.xml"]
