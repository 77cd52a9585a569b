"""Public HTML pages over loopback HTTP: status codes, metadata, anchors, keyset paging."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import html5lib
from lxml import etree

from siarkan.articles.importer import file_outcomes
from siarkan.articles.model import Image, RelatedLink, Status
from siarkan.articles.parsers import Parsed
from siarkan.clock import ManualClock
from siarkan.config import parse_settings
from siarkan.web.pages import article_blocks, is_public, local_time, news_article_ld
from tests.conftest import TEST_CONFIG
from tests.feeds.conftest import START, Live, Store, numbered


def parse(body: bytes) -> etree._Element:
    document: etree._Element = html5lib.parse(body, treebuilder="lxml", namespaceHTMLElements=False)
    return document


async def test_article_page(live: Live, store: Store) -> None:
    article = numbered(
        3,
        canonical_url="https://www.prologmedia.example/berita/banjir-serang",
        related=(RelatedLink("Harga cabai naik", "https://www.prologmedia.example/cabai"),),
    )
    await store([article])
    response, body = await live.get("/artikel/berita-nomor-3")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    root = parse(body)
    assert root.findtext(".//h1") == article.title
    assert root.find(".//link[@rel='canonical']").get("href") == article.canonical_url
    metas = {m.get("property") or m.get("name"): m.get("content") for m in root.iter("meta")}
    assert metas["og:type"] == "article" and metas["og:title"] == article.title
    assert metas["og:image"] == article.image.url
    assert metas["twitter:card"] == "summary_large_image"
    assert metas["article:published_time"] == "2026-11-01T10:00:00+07:00"
    ld = json.loads(root.find(".//script[@type='application/ld+json']").text)
    assert ld["@type"] == "NewsArticle" and ld["headline"] == article.title
    assert ld["author"] == [{"@type": "Person", "name": "Ahmad Fauzi"}]
    # Paragraph anchors p1..pN, dateline in bold at the start of p1.
    body_el = root.find(".//div[@class='story-body']")
    ids = [el.get("id") for el in body_el if el.get("id")]
    assert ids == [f"p{i}" for i in range(1, len(article.paragraphs) + 1)]
    first = body_el.find("p[@id='p1']")
    assert first.find("strong").text == "SERANG, PROLOGMEDIA"
    assert "".join(first.itertext()).endswith(article.paragraphs[0])
    # "Baca Juga" in its own aside, not in the story body.
    aside = root.find(".//aside[@class='related']")
    assert aside.findtext("h2") == "Baca Juga"
    assert "Harga cabai" not in "".join(body_el.itertext())
    tags = [a.get("href") for a in root.iterfind(".//ul[@class='tags']//a")]
    assert f"{live.url}/kanal/utama/tag/kabupaten-serang" in tags
    # Feed autodiscovery: every channel the article is in (a Banten report: utama and banten).
    alternates = {link.get("href") for link in root.iterfind(".//link[@rel='alternate']")}
    for channel in ("utama", "banten"):
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert f"{live.url}/feeds/{channel}/{name}" in alternates
    assert "Minggu, 1 November 2026 10.00 WIB" in body.decode()


async def test_status_codes(live: Live, store: Store, clock: ManualClock) -> None:
    await store(
        [
            numbered(1, status=Status.RETRACTED),
            numbered(2, publish_at=clock.now() + timedelta(days=1), published_at=None),
            numbered(3, status=Status.DRAFT),
            numbered(4),
        ]
    )
    expected = {
        "/artikel/berita-nomor-1": 410,
        "/artikel/berita-nomor-2": 404,
        "/artikel/berita-nomor-3": 404,
        "/artikel/berita-nomor-4": 200,
        "/artikel/tidak-ada": 404,
        "/artikel/art00004": 404,  # ids are not permalinks
        "/kanal/tidak-ada": 404,
        "/kanal/utama/tag/tidak-ada": 404,
        "/kanal/utama?sebelum=rusak": 404,
    }
    for path, status in expected.items():
        response, body = await live.get(path)
        assert response.status == status, path
        if status != 200:
            assert b"<!doctype html>" in body and str(status).encode() in body


async def test_unknown_addresses_get_the_html_404_page(live: Live) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    for path in ("/tidak-ada", "/@tidak-ada", "/artikel/tidak-ada/lagi", "/artikel/tidak-ada"):
        response, body = await live.get(path, headers=browser)
        assert response.status == 404, path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8", path
        root = parse(body)
        assert root.findtext(".//h1") == "Halaman tidak ditemukan", path
        assert root.find(".//a[@href='/']") is not None, path
    # Fediverse servers and API clients keep their short answers.
    response, body = await live.get("/@tidak-ada", headers={"Accept": "application/activity+json"})
    assert response.status == 404 and b"<!doctype html>" not in body
    response, body = await live.get("/tidak-ada.xml", headers={"Accept": "application/rss+xml"})
    assert response.status == 404 and b"<!doctype html>" not in body
    async with live.http.post(live.url + "/tidak-ada/inbox", data=b"{}") as posted:
        assert posted.status == 404


async def test_link_previews_and_search_get_whole_words(live: Live, store: Store) -> None:
    article = numbered(5, subtitle=None)
    assert len(article.lead) > 200
    await store([article])
    _, body = await live.get("/artikel/berita-nomor-5")
    root = parse(body)
    metas = {m.get("property") or m.get("name"): m.get("content") for m in root.iter("meta")}
    description = metas["og:description"]
    assert metas["description"] == metas["twitter:description"] == description
    assert len(description) <= 200 and description.endswith("…")
    assert article.lead.startswith(description.removesuffix("…"))
    assert article.lead[len(description) - 1] == " ", description  # cut between words
    ld = json.loads(root.find(".//script[@type='application/ld+json']").text)
    assert ld["description"] == description


# WHATWG HTML "valid global date and time string": seconds take at most three fraction digits
# (the W3C Nu checker rejects "00:18:05.863916+07:00", as an article imported without a date,
# stamped with the import time, had it).
VALID_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)")


async def test_time_elements_carry_valid_html_datetimes(live: Live, store: Store) -> None:
    stamped = START + timedelta(hours=6, microseconds=863916)
    await store([numbered(6, published_at=stamped, updated_at=stamped + timedelta(hours=2))])
    for path in (
        "/",
        "/kanal/utama",
        "/kanal/utama/tag/kabupaten-serang",
        "/artikel/berita-nomor-6",
    ):
        _, body = await live.get(path)
        root = parse(body)
        found = [el.get("datetime") for el in root.iter("time")]
        assert found, path
        for value in found:
            assert VALID_DATETIME.fullmatch(value), (path, value)
    metas = {m.get("property"): m.get("content") for m in root.iter("meta")}
    assert metas["article:published_time"] == "2026-11-01T13:00:00+07:00"
    assert metas["article:modified_time"] == "2026-11-01T15:00:00+07:00"


async def test_profile_fields_can_be_verified_from_the_home_page(live: Live) -> None:
    """Mastodon marks a field verified when the page it links to has a rel="me" link back to
    the account's `url` (app/services/verify_link_service.rb)."""
    for channel in ("utama", "banten"):
        _, body = await live.get(
            f"/ap/actors/{channel}", headers={"Accept": "application/activity+json"}
        )
        actor = json.loads(body)
        (field,) = actor["attachment"]
        href = html5lib.parse(field["value"], namespaceHTMLElements=False).find(".//a").get("href")
        assert href == live.url  # the default "Situs" field: the site's home page
        _, home = await live.get(href, headers={"Accept": "text/html"})
        backlinks = [
            el.get("href")
            for el in parse(home).iter("a", "link")
            if "me" in (el.get("rel") or "").split()
        ]
        assert actor["url"] in backlinks, channel


async def test_channel_pages_with_keyset_paging(live: Live, store: Store) -> None:
    await store(numbered(i) for i in range(45))
    seen: list[str] = []
    path: str | None = "/kanal/utama"
    while path:
        response, body = await live.get(path)
        assert response.status == 200
        root = parse(body)
        seen += [a.get("href") for a in root.iterfind(".//ol[@class='teasers']//h2/a")]
        older = root.find(".//nav[@class='pager']/a[@class='older']")
        path = ("/kanal/utama" + older.get("href")) if older is not None else None
    assert len(seen) == 45 and len(set(seen)) == 45
    assert seen[0].endswith("/artikel/berita-nomor-44")
    _, body = await live.get("/kanal/banten")
    numbers = [int(n) for n in re.findall(rb"/artikel/berita-nomor-(\d+)", body)]
    assert numbers and all(n % 2 == 1 for n in numbers)
    response, body = await live.get("/kanal/utama/tag/kabupaten-serang")
    assert response.status == 200 and b"#Kabupaten Serang" in body
    _, home = await live.get("/")
    assert b"/kanal/banten" in home and b"berita-nomor-44" in home


async def test_static_css_is_cached_for_long(live: Live) -> None:
    _, home = await live.get("/")
    css = re.search(rb'href="(/static/siarkan\.css\?v=[0-9a-f]+)"', home)
    assert css
    response, body = await live.get(css.group(1).decode())
    assert response.status == 200 and b"prefers-color-scheme: dark" in body
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    assert "immutable" in response.headers["Cache-Control"]
    again, _ = await live.get(
        css.group(1).decode(), headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status == 304


def test_blocks_fall_back_to_paragraphs_when_html_does_not_line_up() -> None:
    article = numbered(1, body_html="<div><p>a</p><p>b</p></div>", paragraphs=("a", "b"))
    blocks = article_blocks(article, "https://x.example/")
    assert [str(b) for b in blocks] == [
        '<p id="p1"><strong class="dateline">SERANG, PROLOGMEDIA</strong> – a</p>',
        '<p id="p2">b</p>',
    ]


def test_blocks_keep_the_story_photos_but_not_a_copy_of_the_featured_one() -> None:
    """A photo inside the story is part of it; a copy of the featured image (shown above the
    body already) is not. Paragraph ids count paragraphs only, and the dateline opens the
    first paragraph even when a photo comes before it."""
    lead = Image(url="https://x.example/wp-content/uploads/banjir.jpg", caption="Banjir.")
    body = (
        '<figure><img src="https://x.example/wp-content/uploads/banjir-696x464.jpg">'
        "<figcaption>Banjir.</figcaption></figure><p>a</p>"
        '<figure><img src="/foto/tanggul.jpg" alt="Tanggul"><figcaption>Tanggul jebol.'
        '</figcaption></figure><p>b</p><p><img src="/foto/peta.png" alt="Peta"></p><p>c</p>'
    )
    article = numbered(1, body_html=body, paragraphs=("a", "b", "c"), image=lead)
    blocks = [str(b) for b in article_blocks(article, "https://x.example/berita/1")]
    assert blocks == [
        '<p id="p1"><strong class="dateline">SERANG, PROLOGMEDIA</strong> – a</p>',
        '<figure><img src="https://x.example/foto/tanggul.jpg" alt="Tanggul">'
        "<figcaption>Tanggul jebol.</figcaption></figure>",
        '<p id="p2">b</p>',
        '<p><img src="https://x.example/foto/peta.png" alt="Peta"></p>',
        '<p id="p3">c</p>',
    ]


def test_news_page_photos_on_the_article_page() -> None:
    """tagDiv (tests/articles/pages) prints the featured image again, smaller, at the top of
    the body, and a second photo mid-story: the page shows the second once, not the first."""
    settings = parse_settings(TEST_CONFIG.format(port=1, sqlite="/tmp/x"), env={})
    page = Path(__file__).parent.parent / "articles" / "pages" / "tagdiv-prologmedia.html"
    (outcome,) = file_outcomes(page.resolve(), page.name, settings.site)
    assert isinstance(outcome, Parsed)
    article = outcome.article
    html = "".join(article_blocks(article, article.canonical_url or ""))
    assert "embung-tirtayasa" not in html  # the featured image, shown above the body
    assert html.count("<figure>") == 1 and "bupati-tinjau-embung.jpg" in html
    ids = re.findall(r'id="p(\d+)"', html)
    assert ids == [str(k) for k in range(1, len(article.paragraphs) + 1)]


def test_is_public_matches_visibility_rules() -> None:
    article = numbered(1)
    now = article.published_at + timedelta(hours=1)
    assert is_public(article, now)
    assert not is_public(replace(article, status=Status.RETRACTED), now)
    assert not is_public(replace(article, status=Status.DRAFT), now)
    later = replace(article, status=Status.SCHEDULED, publish_at=now + timedelta(minutes=1))
    assert not is_public(later, now) and is_public(later, now + timedelta(minutes=1))


def test_news_article_structured_data_as_google_recommends() -> None:
    """developers.google.com/search/docs/appearance/structured-data/article: headline (no
    length limit since 2023), image, datePublished/dateModified in ISO 8601 with a time zone,
    each author by name alone; a publisher Organization with its logo."""
    settings = parse_settings(TEST_CONFIG.format(port=1, sqlite="/tmp/x"), env={})
    long_title = "Banjir Rendam 1.250 Rumah di Kabupaten Serang, " * 4
    article = numbered(
        1,
        title=long_title.strip(),
        updated_at=numbered(1).published_at + timedelta(minutes=90, microseconds=5),
    )
    ld = news_article_ld(settings, article, "ringkas")
    assert len(ld["headline"]) > 110 and ld["headline"] == article.title  # as the <h1> shows
    assert ld["datePublished"] == "2026-11-01T08:00:00+07:00"
    assert ld["dateModified"] == "2026-11-01T09:30:00+07:00"  # to the second, with offset
    assert ld["author"] == [{"@type": "Person", "name": "Ahmad Fauzi"}]
    assert ld["image"] == [article.image.url]
    assert ld["publisher"] == {
        "@type": "Organization",
        "name": "Prolog Media",
        "url": settings.site.base_url,
    }  # no logo configured: none claimed

    icon = settings.model_copy(
        update={"site": settings.site.model_copy(update={"icon": "https://x.example/ikon.png"})}
    )
    assert news_article_ld(icon, article, "")["publisher"]["logo"] == {
        "@type": "ImageObject",
        "url": "https://x.example/ikon.png",
    }
    logo = icon.model_copy(
        update={"site": icon.site.model_copy(update={"logo": "https://x.example/logo lebar.png"})}
    )
    assert news_article_ld(logo, article, "")["publisher"]["logo"]["url"] == (
        "https://x.example/logo%20lebar.png"
    )

    # An unsigned report is the newsroom's own.
    unsigned = news_article_ld(icon, replace(article, authors=()), "")
    assert unsigned["author"] == [
        {"@type": "Organization", "name": "Prolog Media", "url": settings.site.base_url}
    ]
    # No updated time stored: modified when published.
    fresh = news_article_ld(settings, replace(article, updated_at=None), "")
    assert fresh["dateModified"] == fresh["datePublished"]


def test_local_time_uses_the_site_zone() -> None:
    settings = parse_settings(TEST_CONFIG.format(port=1, sqlite="/tmp/x"), env={})
    assert local_time(settings, numbered(0).published_at) == "Minggu, 1 November 2026 07.00 WIB"
