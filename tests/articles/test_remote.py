"""Feed and sitemap parsing (pure), checked against feedparser where it applies."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import feedparser
import pytest

from siarkan.articles.remote import FeedEntry, parse_feed_or_sitemap, sniff_kind
from siarkan.articles.text import ArticleRejected

BASE = "https://news.example/feed/"

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Prolog Media</title><link>https://news.example/</link>
<image><url>https://news.example/logo.png</url><title>Logo</title><link>https://news.example/</link></image>
<item><title>Banjir &amp; Longsor</title><link>https://news.example/a</link>
  <description>&lt;p&gt;Ringkasan&lt;/p&gt;</description>
  <content:encoded><![CDATA[<p>Isi lengkap</p>]]></content:encoded>
  <pubDate>Tue, 11 Mar 2025 08:00:00 WIB</pubDate></item>
<item><title>Relatif</title><link>/b</link><dc:date>2025-03-12T09:00:00Z</dc:date></item>
<item><title>Hanya guid</title><guid>https://news.example/c</guid></item>
<item><title>Guid bukan tautan</title><guid isPermaLink="false">tag:x,2025:1</guid></item>
<item><title>Duplikat</title><link>https://news.example/a</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Prolog</title><id>urn:x</id><updated>2025-03-11T00:00:00Z</updated>
<entry><title>Atom satu</title><id>urn:1</id>
  <link rel="self" href="https://news.example/api/1"/>
  <link rel="alternate" type="text/html" href="https://news.example/atom-1"/>
  <published>2025-03-11T08:00:00+07:00</published><summary>Ringkas</summary></entry>
<entry><title>Atom dua</title><id>urn:2</id><link href="atom-2"/>
  <updated>2025-03-12T08:00:00+07:00</updated></entry>
</feed>"""

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://news.example/s1</loc><lastmod>2025-03-11</lastmod></url>
<url><loc>https://news.example/s2</loc>
  <news:news><news:title>Berita dua</news:title>
  <news:publication_date>2025-03-12T10:00:00+07:00</news:publication_date></news:news></url>
<url><loc>javascript:alert(1)</loc></url>
</urlset>"""

INDEX = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://news.example/sitemap-1.xml</loc></sitemap>
<sitemap><loc>/sitemap-2.xml.gz</loc></sitemap></sitemapindex>"""


def test_rss() -> None:
    entries = parse_feed_or_sitemap(RSS, BASE)
    assert [e.url for e in entries] == [
        "https://news.example/a",
        "https://news.example/b",
        "https://news.example/c",
    ]
    first = entries[0]
    assert first.title == "Banjir & Longsor"
    assert first.summary == "<p>Isi lengkap</p>"
    assert first.published == datetime(2025, 3, 11, 1, tzinfo=UTC)
    assert entries[1].published == datetime(2025, 3, 12, 9, tzinfo=UTC)
    # feedparser (a test-only dependency) agrees on the links it can read.
    parsed = feedparser.parse(RSS)
    assert {e.link for e in parsed.entries if "link" in e} >= {"https://news.example/a"}


def test_atom() -> None:
    entries = parse_feed_or_sitemap(ATOM, BASE)
    assert [e.url for e in entries] == [
        "https://news.example/atom-1",
        "https://news.example/feed/atom-2",
    ]
    assert entries[0].summary == "Ringkas"
    assert entries[1].published == datetime(2025, 3, 12, 1, tzinfo=UTC)
    assert feedparser.parse(ATOM).entries[0].link == entries[0].url


def test_sitemap_with_news_tags() -> None:
    entries = parse_feed_or_sitemap(SITEMAP, BASE)
    assert entries == [
        FeedEntry("https://news.example/s1", published=datetime(2025, 3, 11, tzinfo=UTC)),
        FeedEntry(
            "https://news.example/s2",
            title="Berita dua",
            published=datetime(2025, 3, 12, 3, tzinfo=UTC),
        ),
    ]


def test_sitemap_index_and_gzip() -> None:
    entries = parse_feed_or_sitemap(gzip.compress(INDEX), "https://news.example/sitemap.xml")
    assert [(e.url, e.is_sitemap) for e in entries] == [
        ("https://news.example/sitemap-1.xml", True),
        ("https://news.example/sitemap-2.xml.gz", True),
    ]


def test_sitemap_without_namespace_and_rdf() -> None:
    bare = b"<urlset><url><loc>https://news.example/x</loc></url></urlset>"
    assert [e.url for e in parse_feed_or_sitemap(bare, BASE)] == ["https://news.example/x"]
    rdf = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://news.example/"/>'
        b'<item rdf:about="https://news.example/r"><title>R</title>'
        b"<link>https://news.example/r</link></item></rdf:RDF>"
    )
    assert [e.url for e in parse_feed_or_sitemap(rdf, BASE)] == ["https://news.example/r"]


def test_entities_are_not_expanded() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>&x;</title><link>https://news.example/x</link></item>"
        b"</channel></rss>"
    )
    [entry] = parse_feed_or_sitemap(xxe, BASE)
    assert entry.title is None or "root:" not in entry.title


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\x01\x02", b"<html><body>bukan feed</body></html>", b'{"json": 1}'],
)
def test_not_a_feed(data: bytes) -> None:
    with pytest.raises(ArticleRejected, match="not an RSS/Atom feed or a sitemap"):
        parse_feed_or_sitemap(data, BASE)


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("text/html", b"<!doctype html><html>", "html"),
        ("application/rss+xml", RSS, "feed"),
        ("text/xml", SITEMAP, "feed"),
        ("application/octet-stream", ATOM, "feed"),
        ("text/plain", b"  <rss version='2.0'>", "feed"),
        (
            "application/xml",
            b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">',
            "html",
        ),
        ("", b"<p>teks</p>", "html"),
    ],
)
def test_sniff_kind(content_type: str, body: bytes, kind: str) -> None:
    assert sniff_kind(content_type, body) == kind
