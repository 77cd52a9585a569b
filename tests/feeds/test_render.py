"""Rendering without a server: golden files, feedparser, the W3C validator's rules, JSON Feed.

Golden files live in tests/golden/feeds/; regenerate with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import timedelta
from html import escape, unescape
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
import pytest
from lxml import etree

from siarkan.articles.importer import file_outcomes
from siarkan.articles.model import Article, Image, picture_name, same_picture
from siarkan.articles.parsers import Parsed
from siarkan.config import Settings, parse_settings
from siarkan.feeds.content import feed_content_html
from siarkan.feeds.model import (
    FILE_NAMES,
    FORMATS,
    FeedSpec,
    PageLinks,
    feed_doc,
    feed_item,
    plain,
)
from siarkan.feeds.query import PageData
from siarkan.feeds.render import RENDERERS, render
from siarkan.feeds.service import build_doc
from siarkan.urls import article_guid
from tests.conftest import TEST_CONFIG
from tests.feeds.conftest import numbered
from tests.feeds.validator import CHECKS, check_html

GOLDEN = Path(__file__).parent.parent / "golden" / "feeds"
NEWS_PAGES = Path(__file__).parent.parent / "articles" / "pages"
BASE = "https://berita.prologmedia.example"


@pytest.fixture
def fixed_settings() -> Settings:
    """Settings that do not depend on a free port, so the golden files are stable."""
    text = TEST_CONFIG.replace("http://127.0.0.1:{port}", BASE).format(sqlite="/tmp/x.db")
    return parse_settings(text, "tests", env={})


def tricky(i: int) -> Article:
    """Everything a real import throws at a feed: relative URLs, scripts, control characters."""
    body = (
        '<p>Warga <a href="/tag/banjir">terdampak</a> banjir\x0b mengungsi.'
        '<script>alert("x")</script></p>'
        '<p style="color:red" onclick="steal()">Foto: <img src="gambar/peta.png" alt="Peta"> '
        '<iframe src="https://video.example/embed"></iframe></p>'
        "<p>Rp1,5 miliar &amp; 5.000 paket.</p>"
    )
    return numbered(
        i,
        title="Banjir \x01Serang: <b>1.250</b> rumah & “darurat”",
        body_html=body,
        paragraphs=(
            "Warga terdampak banjir mengungsi.",
            "Foto: Peta",
            "Rp1,5 miliar & 5.000 paket.",
        ),
        canonical_url="https://www.prologmedia.example/berita/2026/11/banjir-serang",
        image=Image(
            url="/foto/banjir.jpg",
            alt="Banjir",
            caption="Banjir di Cikande.",
            credit="Foto: Ahmad/Prolog",
            media_type=None,
            width=1200,
            height=800,
        ),
        authors=("Ahmad Fauzi", "Siti Rahma"),
    )


def _docs(settings: Settings) -> dict[str, bytes]:
    channel = settings.channels[0]
    spec = FeedSpec(channel)
    articles = [tricky(7), numbered(6), numbered(5, image=None, authors=())]
    items = tuple(feed_item(settings, channel, a) for a in articles)
    data = PageData(
        rows=(),
        archive_end=None,
        prev_archive=(numbered(2).published_at, "art00002"),
        next_archive=None,
    )
    doc = build_doc(settings, spec, data, items)
    return {fmt: render(doc, fmt) for fmt in FORMATS}


def test_one_renderer_per_format() -> None:
    assert set(RENDERERS) == set(FORMATS) == set(FILE_NAMES)


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fixed_settings: Settings, fmt: str) -> None:
    body = _docs(fixed_settings)[fmt]
    path = GOLDEN / f"utama.{FILE_NAMES[fmt]}"
    if fmt != "json":  # pretty-print only for review; the golden compares the same way
        body = etree.tostring(
            etree.fromstring(body), pretty_print=True, encoding="UTF-8", xml_declaration=True
        )
    else:
        body = json.dumps(json.loads(body), ensure_ascii=False, indent=2).encode() + b"\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    assert path.exists(), f"missing golden file {path}: run with UPDATE_GOLDEN=1"
    assert body == path.read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_validator_rules(fixed_settings: Settings, fmt: str) -> None:
    assert CHECKS[fmt](_docs(fixed_settings)[fmt]) == []


def test_plain_text_summary_stays_text_in_every_format(fixed_settings: Settings) -> None:
    text = "Laba PT A&B naik 2<3 kali &copy lipat."
    article = numbered(8, paragraphs=(text,), body_html=f"<p>{escape(text)}</p>")
    channel = fixed_settings.channels[0]
    doc = build_doc(
        fixed_settings,
        FeedSpec(channel),
        PageData(rows=(), archive_end=None, prev_archive=None, next_archive=None),
        (feed_item(fixed_settings, channel, article),),
    )
    for fmt in FORMATS:
        body = render(doc, fmt)
        assert CHECKS[fmt](body) == []
        if fmt != "json":
            (entry,) = feedparser.parse(body).entries
            # RSS <description> is HTML, Atom <summary> text (feedparser hands each on as is).
            assert (unescape(entry.summary) if fmt == "rss" else entry.summary) == text
    assert json.loads(render(doc, "json"))["items"][0]["summary"] == text


@pytest.mark.parametrize(
    ("icon", "in_rss"),
    [("https://cdn.example/logo.png", True), ("https://cdn.example/logo.svg", False)],
)
def test_site_icon_where_each_format_allows_it(icon: str, in_rss: bool) -> None:
    text = TEST_CONFIG.replace("http://127.0.0.1:{port}", BASE).format(sqlite="/tmp/x.db")
    settings = parse_settings(
        text.replace("  language: id\n", f"  language: id\n  icon: {icon}\n", 1), "tests", env={}
    )
    docs = _docs(settings)
    for fmt in FORMATS:
        assert CHECKS[fmt](docs[fmt]) == []
    # RSS 2.0 <image> is GIF, JPEG or PNG; Atom <icon> and JSON Feed take any image.
    assert (etree.fromstring(docs["rss"]).findtext("channel/image/url") == icon) is in_rss
    assert etree.fromstring(docs["atom"]).findtext("{http://www.w3.org/2005/Atom}icon") == icon
    assert json.loads(docs["json"])["icon"] == icon


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feedparser_reads_everything(fixed_settings: Settings, fmt: str) -> None:
    parsed = feedparser.parse(_docs(fixed_settings)[fmt])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.language == "id"
    assert [e.id for e in parsed.entries] == [
        f"{BASE}/id/artikel/art00007",
        f"{BASE}/id/artikel/art00006",
        f"{BASE}/id/artikel/art00005",
    ]
    first = parsed.entries[0]
    # Links go to the publisher's page; the image resolves against it too.
    assert first.link == "https://www.prologmedia.example/berita/2026/11/banjir-serang"
    # RSS names co-authors in one dc:creator (see test_rss_co_authors_in_one_dc_creator).
    names = ["Ahmad Fauzi, Siti Rahma"] if fmt == "rss" else ["Ahmad Fauzi", "Siti Rahma"]
    assert [a.name for a in first.authors] == names
    assert first.published_parsed[:5] == (2026, 11, 1, 7, 0)  # 07:00 UTC = 14:00 WIB
    assert {"Banten", "pilkada"} <= {t.term for t in first.tags}
    content = first.content[0].value
    assert "https://www.prologmedia.example/tag/banjir" in content
    assert "https://www.prologmedia.example/berita/2026/11/gambar/peta.png" in content
    assert "<script" not in content and "iframe" not in content and "onclick" not in content
    assert content.index("<figure>") < content.index("SERANG, PROLOGMEDIA")
    assert first.summary.startswith("Warga terdampak banjir mengungsi.")
    images = [m["url"] for m in first.get("media_content", [])]
    assert images == ["https://www.prologmedia.example/foto/banjir.jpg"]
    if fmt == "rss":  # a guid that is not the page says so, and is never taken as the link
        assert first.guidislink is False
    second = parsed.entries[1]
    enclosures = [link for link in second.links if link.rel == "enclosure"]
    assert [(e.href, e.type) for e in enclosures] == [
        ("https://cdn.prologmedia.example/2026/11/banjir-serang.jpg", "image/jpeg")
    ]
    alternates = [link for link in second.links if link.rel == "alternate"]
    assert len(alternates) == 1


def test_rss_dates_are_rfc822_with_numeric_zone(fixed_settings: Settings) -> None:
    body = _docs(fixed_settings)["rss"].decode()
    dates = re.findall(r"<(?:pubDate|lastBuildDate)>([^<]+)<", body)
    assert dates and all(d.endswith(" +0700") for d in dates), dates
    assert "WIB" not in "".join(dates)
    # lastBuildDate is the newest item's time, not the time of rendering.
    assert "<lastBuildDate>Sun, 01 Nov 2026 14:00:00 +0700</lastBuildDate>" in body


def test_rss_co_authors_in_one_dc_creator(fixed_settings: Settings) -> None:
    """Miniflux reads dc:creator into one string field, and Go's encoding/xml keeps the last
    of repeated elements (internal/reader/dublincore/dublincore.go): with one element per
    author it showed "Siti Rahma" for a report by Ahmad Fauzi and Siti Rahma. Readers that
    take the first or the last dc:creator must both see every author."""
    root = etree.fromstring(_docs(fixed_settings)["rss"])
    bylines = []
    for item in root.iter("item"):
        creators = [c.text for c in item.findall("{http://purl.org/dc/elements/1.1/}creator")]
        assert len(creators) <= 1
        bylines.append(creators[-1] if creators else None)
    assert bylines == ["Ahmad Fauzi, Siti Rahma", "Siti Rahma, Budi Santoso", None]
    assert CHECKS["rss"](etree.tostring(root)) == []


def test_rss_guid_and_hub(fixed_settings: Settings) -> None:
    root = etree.fromstring(_docs(fixed_settings)["rss"])
    guid = root.find("channel/item/guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
    rels = {
        link.get("rel"): link.get("href") for link in root.iter("{http://www.w3.org/2005/Atom}link")
    }
    assert rels["self"] == f"{BASE}/feeds/utama/rss.xml"
    assert rels["hub"] == f"{BASE}/websub"
    assert rels["prev-archive"].startswith(f"{BASE}/feeds/utama/archive/")
    # The channel link is the HTML page (feedgen would take the last link() given).
    assert root.findtext("channel/link") == f"{BASE}/kanal/utama"


def test_a_section_and_tag_of_one_word_are_one_category(fixed_settings: Settings) -> None:
    """Readers list categories as tags and keep ones that differ only in case (Miniflux:
    internal/reader/atom/atom_10_adapter.go sorts, then drops exact repeats only)."""
    channel = fixed_settings.channels[0]
    article = numbered(3, section="Kesehatan", tags=("kesehatan", "Puskesmas", "PUSKESMAS"))
    doc = build_doc(
        fixed_settings,
        FeedSpec(channel),
        PageData(rows=(), archive_end=None, prev_archive=None, next_archive=None),
        (feed_item(fixed_settings, channel, article),),
    )
    for fmt in ("rss", "atom"):
        (entry,) = feedparser.parse(render(doc, fmt)).entries
        assert [t.term for t in entry.tags] == ["Kesehatan", "Puskesmas"], fmt
    (item,) = json.loads(render(doc, "json"))["items"]
    assert item["tags"] == ["Kesehatan", "Puskesmas"]


def test_guid_survives_edits_and_slug_changes(fixed_settings: Settings) -> None:
    article = numbered(4)
    edited = replace(
        article,
        title="Judul baru",
        slug="judul-baru",
        updated_at=article.updated_at + timedelta(hours=3),
    )
    channel = fixed_settings.channels[0]
    before, after = (
        feed_item(fixed_settings, channel, article),
        feed_item(fixed_settings, channel, edited),
    )
    assert before.guid == after.guid == article_guid(fixed_settings, article)
    assert after.updated > before.updated and after.published == before.published


def test_archive_documents_are_marked(fixed_settings: Settings) -> None:
    channel = fixed_settings.channels[0]
    items = (feed_item(fixed_settings, channel, numbered(3)),)
    key = (numbered(3).published_at, "art00003")
    data = PageData(rows=(), archive_end=key, prev_archive=None, next_archive=None)
    doc = build_doc(fixed_settings, FeedSpec(channel), data, items)
    for fmt in ("rss", "atom"):
        body = render(doc, fmt)
        root = etree.fromstring(body)
        assert root.find(".//{http://purl.org/syndication/history/1.0}archive") is not None
        rels = {
            link.get("rel"): link.get("href")
            for link in root.iter("{http://www.w3.org/2005/Atom}link", "link")
        }
        assert rels["current"] == f"{BASE}/feeds/utama/{FILE_NAMES[fmt]}"
        assert "/archive/" in rels["self"]
        assert CHECKS[fmt](body) == []
    feed = json.loads(render(doc, "json"))
    assert feed["_rfc5005"]["archive"] is True
    assert feed["feed_url"] == f"{BASE}/feeds/utama/feed.json"  # the feed's identity, every page


def test_empty_feed_is_valid_and_has_no_invented_dates(fixed_settings: Settings) -> None:
    channel = fixed_settings.channels[0]
    links = {
        f: PageLinks(f"{BASE}/feeds/utama/{FILE_NAMES[f]}", f"{BASE}/feeds/utama/{FILE_NAMES[f]}")
        for f in FORMATS
    }
    doc = feed_doc(
        fixed_settings,
        FeedSpec(channel),
        (),
        home_url=f"{BASE}/kanal/utama",
        hub_url=None,
        links=links,
        archive=False,
        feed_id=f"{BASE}/feeds/utama/atom.xml",
    )
    first = {fmt: render(doc, fmt) for fmt in FORMATS}
    assert b"lastBuildDate" not in first["rss"]
    assert first == {fmt: render(doc, fmt) for fmt in FORMATS}  # byte-stable
    for fmt in FORMATS:
        assert CHECKS[fmt](first[fmt]) == [], fmt


def test_json_feed_structure(fixed_settings: Settings) -> None:
    feed = json.loads(_docs(fixed_settings)["json"])
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == f"{BASE}/feeds/utama/feed.json"
    assert feed["hubs"] == [{"type": "WebSub", "url": f"{BASE}/websub"}]
    assert feed["next_url"].endswith("/feed.json") and "/archive/" in feed["next_url"]
    item = feed["items"][1]
    assert item["date_published"] == "2026-11-01T13:00:00+07:00"
    assert item["authors"] == [{"name": "Siti Rahma"}, {"name": "Budi Santoso"}]
    assert item["attachments"][0]["mime_type"] == "image/jpeg"


def miniflux_json_authors(feed: dict[str, Any], item: dict[str, Any]) -> list[str]:
    """Who Miniflux says wrote a JSON Feed item (internal/reader/json/adapter.go): the feed's
    `authors` plus the item's plus both 1.0 `author` objects, sorted, duplicates dropped."""
    people = [*feed.get("authors", []), *item.get("authors", [])]
    people += [item.get("author", {}), feed.get("author", {})]
    return sorted({name for person in people if (name := person.get("name", "").strip())})


def test_json_feed_authors_read_the_same_in_miniflux_as_the_spec_says(
    fixed_settings: Settings,
) -> None:
    """JSON Feed 1.1: top-level `authors` stand in for an item without its own; Miniflux
    instead adds them to every item's, so a site-wide author would co-sign every report."""
    feed = json.loads(_docs(fixed_settings)["json"])
    by_spec = [
        sorted(a["name"] for a in item.get("authors") or feed.get("authors", []))
        for item in feed["items"]
    ]
    assert by_spec == [
        ["Ahmad Fauzi", "Siti Rahma"],
        ["Budi Santoso", "Siti Rahma"],
        [fixed_settings.site.name],  # no byline: the site, as Atom's feed-level author
    ]
    assert [miniflux_json_authors(feed, item) for item in feed["items"]] == by_spec


def test_content_checker_catches_what_the_validator_would() -> None:
    """The checks above must be able to fail."""
    assert check_html('<p><a href="/x">x</a></p>', "t")
    assert check_html("<script>x</script>", "t")
    assert check_html('<p style="x:y">a</p>', "t")
    assert check_html("<div/><p>a", "t")
    assert check_html('<p><a href="https://a.example/">a</a></p>', "t") == []


def test_titles_lose_html_tags_but_keep_angle_bracketed_text() -> None:
    assert plain("PT A&B <Tbk> raih <b>laba</b> <i class='x'>Rp1,5 miliar</i>") == (
        "PT A&B <Tbk> raih laba Rp1,5 miliar"
    )
    assert plain("Banjir Serang <script>x</script>") == "Banjir Serang x"


@pytest.mark.parametrize("page", sorted(p.name for p in NEWS_PAGES.glob("*.html")))
def test_news_page_in_a_feed_shows_each_picture_once(fixed_settings: Settings, page: str) -> None:
    """Themes print the featured image inside the article container too (tagDiv's
    td-post-featured-image in a smaller size, Suara's figure.img-cover, a WordPress [caption]
    above the lead): the feed item opens with the featured figure and must not repeat it."""
    path = (NEWS_PAGES / page).resolve()
    (outcome,) = file_outcomes(path, page, fixed_settings.site)
    assert isinstance(outcome, Parsed), outcome
    article = outcome.article
    html = feed_content_html(article, article.canonical_url or BASE)
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    sources = [img.get("src") or "" for img in root.iter("img")]
    names = [picture_name(src) for src in sources]
    assert len(names) == len(set(names)), sources
    assert check_html(html, page) == []
    if article.image is not None:
        assert root[0].tag == "figure" and same_picture(sources[0], article.image.url)
    text = " ".join(root.text_content().split())
    assert all(" ".join(p.split())[:60] in text for p in article.paragraphs)
