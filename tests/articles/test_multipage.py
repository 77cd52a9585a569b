"""Reports split over several pages (Tribun's and Kompas' "?page=2"): found from page 1's own
markup, read to the end through the polite crawler, joined, stored as one article; against a
loopback publisher and both databases."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import lxml.html
import pytest
from aiohttp import web
from sqlalchemy import select

from siarkan.articles.html import parse_page
from siarkan.articles.paging import (
    ALL,
    Paging,
    bare_title,
    find_paging,
    join_bodies,
    page_of,
    same_article,
    show_all_url,
)
from siarkan.articles.text import Body
from siarkan.cli import import_cmd
from siarkan.cli.context import CliContext
from siarkan.cli.main import build_parser
from siarkan.clock import ManualClock
from siarkan.config import Settings, SourceSettings
from siarkan.distribution.sources import poll_source
from siarkan.store.db import Database
from siarkan.store.tables import articles
from tests.articles.test_polite_import import T0, run_import, with_imports
from tests.helpers import free_port, serve_app

# Not under pages/: test_news_pages imports that folder whole, one report a file.
PAGES = Path(__file__).parent / "paged"
SINGLE = Path(__file__).parent / "pages"
TZ = ZoneInfo("Asia/Jakarta")
TRIBUN_HOST = "https://banten.tribunnews.example"
TRIBUN = "/2025/11/20/banjir-bandang-terjang-tiga-kecamatan-di-lebak-ratusan-rumah-rusak"
KOMPAS_HOST = "https://regional.kompas.example"
KOMPAS = "/read/2025/11/21/101500178/antrean-solar-mengular-di-spbu-serang-sopir-truk-menginap"
OTHER = "/2025/11/19/harga-beras-naik"


def _doc(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


# --- pure: finding the pages ------------------------------------------------------------------


def test_page_numbers_of_the_same_article_only() -> None:
    a = "https://site.example/read/2025/x"
    assert page_of(a, a) == 1
    assert page_of(a + "?page=2", a) == 2
    assert page_of(a + "/?page=3", a) == 3
    assert page_of(a + "?page=all", a) == ALL
    assert page_of(a + "/2/", a) == 2  # wp_link_pages
    assert page_of(a + "/all", a) == ALL  # iNews
    assert page_of("https://site.example/read/2025/y?page=2", a) is None  # another article
    assert page_of("https://other.example/read/2025/x?page=2", a) is None  # another host
    assert page_of(a + "?page=abc", a) is None


def test_tribun_and_kompas_boxes_name_the_next_page() -> None:
    tribun = (PAGES / "tribun-lebak-1.html").read_text()
    paging = find_paging(_doc(tribun), page_url=TRIBUN_HOST + TRIBUN)
    # The "?page=2" of another report in the "Berita Terkini" box is not ours.
    assert paging == Paging(number=1, next=f"{TRIBUN_HOST}{TRIBUN}?page=2", last=3)
    kompas = (PAGES / "kompas-solar-2.html").read_text()
    paging = find_paging(
        _doc(kompas), page_url=f"{KOMPAS_HOST}{KOMPAS}?page=2", article_url=KOMPAS_HOST + KOMPAS
    )
    assert paging == Paging(number=2, next=f"{KOMPAS_HOST}{KOMPAS}?page=3", last=3)
    last = (PAGES / "kompas-solar-3.html").read_text()
    paging = find_paging(
        _doc(last), page_url=f"{KOMPAS_HOST}{KOMPAS}?page=3", article_url=KOMPAS_HOST + KOMPAS
    )
    assert paging is not None and paging.next is None


def test_a_single_page_and_a_next_post_link_are_no_paging() -> None:
    for name in ("liputan6-banten.html", "detik-news.html", "antara-banten.html"):
        html = (SINGLE / name).read_text()
        assert find_paging(_doc(html), page_url="https://x.example/a") is None, name
    # rel="next" to the next post (themes link it) is another article, not page 2.
    html = '<html><head><link rel="next" href="/berita-lain"></head><body><p>x</p></body></html>'
    assert find_paging(_doc(html), page_url="https://x.example/berita") is None
    # Google's pattern (Search Central blog, 2011-09-15): rel="next" in the <head>.
    html = '<html><head><link rel="next" href="/berita?page=2"></head><body></body></html>'
    paging = find_paging(_doc(html), page_url="https://x.example/berita")
    assert paging is not None and paging.next == "https://x.example/berita?page=2"


def test_wordpress_page_links_are_followed() -> None:
    html = (SINGLE / "jnews-kabarpandeglang.html").read_text()
    url = "https://kabarpandeglang.example/lingkungan/ribuan-tukik-dilepas-tanjung-lesung/"
    paging = find_paging(_doc(html), page_url=url)
    assert paging is not None and paging.next == url + "2/"


def test_show_all_is_linked_or_known() -> None:
    paging = Paging(number=1, next="https://banten.tribunnews.com/a?page=2", last=2)
    assert show_all_url("https://banten.tribunnews.com/a", paging, ("tribunnews.com",)) == (
        "https://banten.tribunnews.com/a?page=all"
    )
    assert show_all_url("https://nottribunnews.com/a", paging, ("tribunnews.com",)) is None
    linked = Paging(number=1, next=None, last=2, show_all="https://x.example/a/all")
    assert show_all_url("https://x.example/a", linked, ()) == "https://x.example/a/all"


def test_the_same_article_by_canonical_or_title() -> None:
    first = "https://k.example/read/1/judul"
    assert same_article(
        title="Judul Halaman 2",
        canonical_url=first + "?page=2",
        first_title="Judul",
        first_canonical=first,
    )
    assert bare_title("Judul Berita - Halaman all") == bare_title("Judul Berita")
    assert same_article(
        title="Judul Halaman 2 dari 3",
        canonical_url=None,
        first_title="Judul",
        first_canonical=first,
    )
    assert not same_article(
        title="Berita Lain",
        canonical_url="https://k.example/read/2/lain",
        first_title="Judul",
        first_canonical=first,
    )


def test_joining_keeps_order_and_drops_a_repeated_block() -> None:
    one = Body(("Satu.", "Dua."), "<p>Satu.</p><p>Dua.</p>", dateline="SERANG")
    two = Body(("Dua.", "Tiga."), "<p>Dua.</p><p>Tiga.</p>", initials="nym")
    joined = join_bodies([one, two])
    assert joined.paragraphs == ("Satu.", "Dua.", "Tiga.")
    assert joined.html == "<p>Satu.</p><p>Dua.</p><p>Tiga.</p>"
    assert (joined.dateline, joined.initials) == ("SERANG", "nym")


def test_paging_boxes_and_labels_stay_out_of_the_body() -> None:
    for n in (1, 2):
        html = (PAGES / f"tribun-lebak-{n}.html").read_text()
        page = parse_page(html, url=f"{TRIBUN_HOST}{TRIBUN}?page={n}", tz=TZ)
        text = " ".join(page.body.paragraphs)
        assert "Selanjutnya" not in text and "Halaman" not in text
        assert "?page=" not in page.body.html


# --- a publisher over loopback ----------------------------------------------------------------


@dataclass
class Publisher:
    """Tribun-style and Kompas-style reports, three pages each; Kompas also at ?page=all."""

    port: int = field(default_factory=free_port)
    robots: str = ""
    broken: set[str] = field(default_factory=set)  # "tribun:2": that page answers 500
    moved: dict[str, str] = field(default_factory=dict)  # "tribun:2" -> a redirect target
    ignores_show_all: bool = False  # ?page=all answers page 1, as a site without it does
    hits: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def pages_of(self, prefix: str) -> list[str]:
        return [h for h in self.hits if h.startswith(prefix)]

    async def robots_txt(self, request: web.Request) -> web.Response:
        self.hits.append(request.path_qs)
        return web.Response(text=self.robots, content_type="text/plain")

    def _serve(self, name: str, host: str, request: web.Request) -> web.Response:
        self.hits.append(request.path_qs)
        page = request.query.get("page", "1")
        key = f"{name}:{page}"
        if key in self.broken:
            return web.Response(status=500, text="maaf")
        if key in self.moved:
            raise web.HTTPFound(self.moved[key])
        file = {"tribun": "tribun-lebak", "kompas": "kompas-solar"}[name]
        path = PAGES / f"{file}-{page}.html"
        if page == "all" and self.ignores_show_all:
            path = PAGES / f"{file}-1.html"
        if not path.exists():
            return web.Response(status=404, text="tidak ada")
        html = path.read_text().replace(host, self.base)
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def tribun(self, request: web.Request) -> web.Response:
        return self._serve("tribun", TRIBUN_HOST, request)

    async def kompas(self, request: web.Request) -> web.Response:
        return self._serve("kompas", KOMPAS_HOST, request)

    async def other(self, request: web.Request) -> web.Response:
        self.hits.append(request.path_qs)
        html = (SINGLE / "tribun-banten.html").read_text()
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def feed(self, request: web.Request) -> web.Response:
        self.hits.append(request.path_qs)
        items = "".join(
            f"<item><title>Berita</title><link>{self.url(p)}</link></item>"
            for p in (TRIBUN, KOMPAS)
        )
        xml = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'
        return web.Response(text=xml, content_type="application/rss+xml")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/robots.txt", self.robots_txt)
        app.router.add_get("/feed.xml", self.feed)
        app.router.add_get(TRIBUN, self.tribun)
        app.router.add_get(KOMPAS, self.kompas)
        app.router.add_get(OTHER, self.other)
        return app


@pytest.fixture
async def publisher() -> AsyncIterator[Publisher]:
    site = Publisher()
    async with serve_app(site.app(), site.port):
        yield site


async def _stored(db: Database) -> list[Any]:
    async with db.connect() as conn:
        return list((await conn.execute(select(articles))).mappings())


async def test_a_tribun_report_is_read_over_its_three_pages(
    publisher: Publisher, settings: Settings, db: Database
) -> None:
    publisher.robots = "User-agent: *\nDisallow: /tag/\n"
    report = await run_import(settings, db, publisher.url("/feed.xml"))
    assert report.failed == [] and len(report.imported) == 2
    tribun = publisher.url(TRIBUN)
    # In order, each once, after robots.txt; the other report's "?page=2" never asked for.
    assert publisher.pages_of(TRIBUN) == [TRIBUN, f"{TRIBUN}?page=2", f"{TRIBUN}?page=3"]
    assert publisher.hits.index("/robots.txt") < publisher.hits.index(f"{TRIBUN}?page=2")
    assert publisher.pages_of(OTHER) == []
    assert (tribun, (f"{tribun}?page=2", f"{tribun}?page=3")) in report.joined
    assert report.summary().endswith("2 read from several pages")
    rows = {row["canonical_url"]: row for row in await _stored(db)}
    row = rows[tribun]  # page 1's canonical URL is the article's
    text = "\n".join(row["paragraphs"])
    for first, later in (
        ("Banjir bandang menerjang", "Menurut Febby"),
        ("Menurut Febby", "Bupati"),
    ):
        assert text.index(first) < text.index(later)
    assert "Selanjutnya" not in text and "Halaman" not in text and "Google News" not in text
    assert row["paragraphs"][-1].startswith("Warga diimbau tetap waspada")
    assert row["title"] == "Banjir Bandang Terjang Tiga Kecamatan di Lebak, Ratusan Rumah Rusak"
    # The same article on the next import: the same id, nothing changed.
    again = await run_import(settings, db, publisher.url("/feed.xml"))
    assert sorted(again.unchanged) == sorted(report.imported)


async def test_a_page_that_fails_fails_the_article_and_is_tried_again(
    publisher: Publisher, settings: Settings, db: Database
) -> None:
    publisher.broken.add("tribun:2")
    report = await run_import(settings, db, publisher.url(TRIBUN))
    assert report.imported == [] and len(report.failed) == 1
    reason = report.failed[0].reason
    assert reason.startswith(f"page 2 of the report ({publisher.url(TRIBUN)}?page=2)")
    assert "HTTP 500" in reason and "not stored" in reason
    assert f"{TRIBUN}?page=3" not in publisher.hits
    assert await _stored(db) == []
    publisher.broken.clear()
    report = await run_import(settings, db, publisher.url(TRIBUN))
    assert len(report.imported) == 1


async def test_robots_txt_keeps_us_from_later_pages(
    publisher: Publisher, settings: Settings, db: Database
) -> None:
    publisher.robots = "User-agent: *\nDisallow: /*?page=\n"
    report = await run_import(settings, db, publisher.url(TRIBUN))
    assert len(report.failed) == 1 and "disallowed by" in report.failed[0].reason
    assert publisher.pages_of(f"{TRIBUN}?") == []


async def test_a_loop_back_to_page_one_stops_there(
    publisher: Publisher, settings: Settings, db: Database
) -> None:
    # Page 2 "moves" to page 1: a site sending an unknown page home. Pages are not read twice.
    publisher.moved["tribun:2"] = TRIBUN
    report = await run_import(settings, db, publisher.url(TRIBUN))
    assert len(report.imported) == 1 and report.joined == []
    assert publisher.pages_of(TRIBUN) == [TRIBUN, f"{TRIBUN}?page=2", TRIBUN]
    (warning,) = [message for _, message in report.warnings]
    assert "read before: stopped there" in warning


async def test_a_page_link_to_another_article_is_not_joined(
    publisher: Publisher, settings: Settings, db: Database
) -> None:
    publisher.moved["tribun:3"] = OTHER
    report = await run_import(settings, db, publisher.url(TRIBUN))
    assert len(report.imported) == 1
    assert report.joined == [(publisher.url(TRIBUN), (f"{publisher.url(TRIBUN)}?page=2",))]
    (warning,) = [message for _, message in report.warnings]
    assert "linked as page 3, is another article" in warning
    (row,) = await _stored(db)
    assert "Pengoplosan" not in " ".join(row["paragraphs"])
    assert row["paragraphs"][-1].startswith("Sebanyak 1.150 jiwa mengungsi")


async def test_max_pages_bounds_the_reading(
    publisher: Publisher, settings: Settings, db: Database
) -> None:
    report = await run_import(with_imports(settings, max_pages=2), db, publisher.url(TRIBUN))
    assert len(report.imported) == 1
    assert publisher.pages_of(TRIBUN) == [TRIBUN, f"{TRIBUN}?page=2"]
    (warning,) = [message for _, message in report.warnings]
    assert "stopped after 2 pages (imports.max_pages)" in warning


async def test_kompas_show_all_page_is_one_request_and_the_same_article(
    publisher: Publisher, settings: Settings, db: Database
) -> None:
    shows_all = with_imports(settings, show_all_sites=("127.0.0.1",))
    report = await run_import(shows_all, db, publisher.url(KOMPAS))
    kompas = publisher.url(KOMPAS)
    assert report.joined == [(kompas, (f"{kompas}?page=all",))]
    assert publisher.pages_of(KOMPAS) == [KOMPAS, f"{KOMPAS}?page=all"]
    (row,) = await _stored(db)
    assert row["canonical_url"] == kompas and len(row["paragraphs"]) == 8
    assert row["paragraphs"][-1].startswith("Ia memastikan pasokan kembali normal")
    # Read page by page instead (a site that ignores ?page=all answers page 1 again): the
    # same article, the same id, the same text.
    publisher.hits.clear()
    publisher.ignores_show_all = True
    again = await run_import(shows_all, db, publisher.url(KOMPAS))
    assert again.unchanged == report.imported
    assert publisher.pages_of(KOMPAS) == [
        KOMPAS,
        f"{KOMPAS}?page=all",
        f"{KOMPAS}?page=2",
        f"{KOMPAS}?page=3",
    ]


async def test_turns_and_crawl_delay_hold_for_later_pages(
    publisher: Publisher, settings: Settings, db: Database
) -> None:
    started = time.monotonic()
    report = await run_import(with_imports(settings, crawl_delay=0.2), db, publisher.url(TRIBUN))
    assert len(report.imported) == 1
    # Three pages, one robots.txt (no turn), two pauses between pages at least.
    assert time.monotonic() - started >= 0.4


async def test_the_sources_poller_reads_every_page_or_waits(
    publisher: Publisher, db_settings: Settings, db: Database
) -> None:
    source = SourceSettings(url=publisher.url("/feed.xml"), interval=timedelta(minutes=15))
    settings = db_settings.model_copy(update={"sources": (source,)})
    clock = ManualClock(T0)
    publisher.broken.add("tribun:3")
    async with aiohttp.ClientSession() as http:
        result = await poll_source(db, settings, source, http, clock.now())
        assert result is not None and (result.stored, result.failed) == (1, 1)
        assert not result.complete  # the feed is not remembered: the next poll tries again
        publisher.broken.clear()
        clock.advance(source.interval)
        result = await poll_source(db, settings, source, http, clock.now())
        assert result is not None and (result.stored, result.failed) == (1, 0)
    rows = {row["canonical_url"]: row for row in await _stored(db)}
    assert rows[publisher.url(TRIBUN)]["paragraphs"][-1].startswith("Warga diimbau")
    assert rows[publisher.url(KOMPAS)]["paragraphs"][-1].startswith("Ia memastikan pasokan")


async def test_the_cli_names_the_pages_it_joined(
    publisher: Publisher, db_settings: Settings, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(["import", publisher.url(TRIBUN)])
    status = await import_cmd.run(args, CliContext(settings=db_settings, config_path=Path("x")))
    out, err = capsys.readouterr()
    tribun = publisher.url(TRIBUN)
    assert status == 0
    assert f"{tribun}: report split over pages, also read: {tribun}?page=2 {tribun}?page=3" in err
    assert out.strip() == "1 imported, 0 updated, 0 unchanged, 0 failed, 1 read from several pages"
