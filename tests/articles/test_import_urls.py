"""Importing pages, an RSS feed and a sitemap index served by a real aiohttp server on loopback,
through the CLI handler, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from siarkan.articles.importer import fetch_and_parse_url
from siarkan.articles.remote import MAX_BYTES, fetch
from siarkan.articles.text import ArticleRejected
from siarkan.cli import import_cmd
from siarkan.cli.context import CliContext
from siarkan.cli.main import build_parser
from siarkan.config import Settings
from siarkan.store.articles import get_article
from siarkan.store.db import Database
from tests.helpers import free_port, serve_app

SAMPLE_PAGE = (
    Path(__file__).resolve().parents[2] / "samples" / "festival-kopi-pandeglang.html"
).read_text(encoding="utf-8")


def article_page(n: int) -> str:
    """The sample page as article n, with no canonical of its own (its URL is)."""
    html = SAMPLE_PAGE.replace(
        "Festival Kopi Banten Digelar", f"Festival Kopi Banten Ke-{n} Digelar"
    )
    for marker in ('<link rel="canonical"', '<meta property="og:url"', '"mainEntityOfPage"'):
        start = html.index(marker)
        end = html.index("\n", start)
        html = html[:start] + html[end:]
    return html


def rss(base: str) -> str:
    items = "".join(
        f"<item><title>Berita {n}</title><link>{link}</link>"
        "<pubDate>Sat, 18 Oct 2025 09:15:00 +0700</pubDate></item>"
        for n, link in ((1, f"{base}/artikel/1"), (2, "/artikel/2"), (9, f"{base}/hilang"))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Prolog Media</title><link>{base}/</link>{items}</channel></rss>"
    )


SITEMAP_INDEX = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    "<sitemap><loc>/sitemap-berita.xml</loc></sitemap></sitemapindex>"
)


def sitemap(base: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/artikel/3</loc></url><url><loc>{base}/artikel/1</loc></url></urlset>"
    )


@pytest.fixture
async def publisher() -> AsyncIterator[str]:
    """A fake publisher site: article pages, a feed, a sitemap index, and misbehaving URLs."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    async def article(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(text=article_page(n), content_type="text/html", charset="utf-8")

    async def feed(request: web.Request) -> web.Response:
        return web.Response(text=rss(base), content_type="application/rss+xml")

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=SITEMAP_INDEX, content_type="application/xml")

    async def news_sitemap(request: web.Request) -> web.Response:
        return web.Response(text=sitemap(base), content_type="text/xml")

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        chunk = b"<p>" + b"x" * (1024 * 1024) + b"</p>"
        for _ in range(11):  # no Content-Length: the limit must hold while streaming
            await response.write(chunk)
        await response.write_eof()
        return response

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="terlambat")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/artikel/4")

    app = web.Application()
    app.router.add_get("/artikel/{n}", article)
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/sitemap.xml", index)
    app.router.add_get("/sitemap-berita.xml", news_sitemap)
    app.router.add_get("/besar", huge)
    app.router.add_get("/lambat", slow)
    app.router.add_get("/pindah", moved)
    async with serve_app(app, port) as url:
        yield url


async def run_cli(settings: Settings, *argv: str) -> int:
    args = build_parser().parse_args(["import", *argv])
    return await import_cmd.run(args, CliContext(settings=settings, config_path=Path("x.yaml")))


async def test_feed_sitemap_and_pages_over_loopback(
    publisher: str,
    db_settings: Settings,
    db: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = await run_cli(
        db_settings,
        f"{publisher}/feed.xml",
        f"{publisher}/sitemap.xml",
        f"{publisher}/pindah",
        f"{publisher}/besar",
        "--json",
    )
    data = json.loads(capsys.readouterr().out)
    assert status == 1
    # Feed: 1, 2 (relative link), a 404. Sitemap index -> 3, and 1 again (not fetched twice
    # in one run). Redirect -> 4.
    assert len(data["imported"]) == 4
    assert data["unchanged"] == []
    assert data["failed"] == [
        {"path": f"{publisher}/hilang", "reason": "HTTP 404 Not Found"},
        {"path": f"{publisher}/besar", "reason": "response is larger than the 10.0 MB limit"},
    ]
    async with db.connect() as conn:
        stored = [await get_article(conn, article_id) for article_id in data["imported"]]
    by_title = {a.title: a for a in stored if a is not None}
    first = by_title[
        "Festival Kopi Banten Ke-1 Digelar di Alun-alun Pandeglang, Hadirkan 80 Pelaku UMKM"
    ]
    assert first.canonical_url == f"{publisher}/artikel/1"
    assert first.dateline == "PANDEGLANG, PROLOGMEDIA"
    assert first.source == f"{publisher}/artikel/1"
    assert f"{publisher}/artikel/4" in {a.canonical_url for a in by_title.values()}
    # Relative links in the body resolve against the page's own URL.
    assert f'href="{publisher}/layanan/klinik-umkm"' in first.body_html


async def test_fetch_limits(publisher: str) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ArticleRejected, match=r"timed out after 0\.2 s"):
            await fetch(session, f"{publisher}/lambat", time_limit=0.2, allow_private=True)
        with pytest.raises(ArticleRejected, match="larger than"):
            await fetch(session, f"{publisher}/besar", max_bytes=MAX_BYTES, allow_private=True)
        with pytest.raises(ArticleRejected, match="fetch failed"):
            await fetch(session, f"http://127.0.0.1:{free_port()}/tidak-ada", allow_private=True)
        fetched = await fetch(session, f"{publisher}/pindah", allow_private=True)
        assert fetched.url == f"{publisher}/artikel/4"
        assert fetched.charset == "utf-8"


async def test_fetch_and_parse_url_for_the_scheduler(publisher: str, settings: Settings) -> None:
    async with aiohttp.ClientSession() as session:
        articles = await fetch_and_parse_url(
            session,
            f"{publisher}/feed.xml",
            settings=settings.site,
            allow_private=True,
            imports=settings.imports,
        )
    assert [a.canonical_url for a in articles] == [
        f"{publisher}/artikel/1",
        f"{publisher}/artikel/2",
    ]
