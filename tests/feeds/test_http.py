"""Live feeds over real loopback HTTP, on SQLite and PostgreSQL.

Conditional GET, HEAD, compression, headers, timing of scheduled and retracted articles,
edits, the RFC 5005 archive walk, per-section/tag/author feeds, the feed list and OPML.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import timedelta

import brotli
import feedparser
from lxml import etree

from siarkan.articles.model import Status
from siarkan.clock import ManualClock
from siarkan.feeds.paging import encode_cursor
from siarkan.store.articles import retract_article
from siarkan.store.db import Database
from tests.feeds.conftest import PAGE, Live, Store, numbered
from tests.feeds.validator import CHECKS

FEED = "/feeds/utama/rss.xml"


async def test_headers_and_content_types(live: Live, store: Store) -> None:
    await store(numbered(i) for i in range(3))
    for path, media_type in (
        ("/feeds/utama/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/feeds/utama/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feeds/utama/feed.json", "application/feed+json; charset=utf-8"),
    ):
        response, body = await live.get(path)
        assert response.status == 200
        assert response.headers["Content-Type"] == media_type
        assert response.headers["Cache-Control"] == "public, max-age=120"
        assert response.headers["ETag"].startswith('W/"')
        assert response.headers["Last-Modified"].endswith(" GMT")
        assert response.headers["Vary"] == "Accept-Encoding"
        links = response.links
        assert str(links["hub"]["url"]) == f"{live.url}/websub"
        assert str(links["self"]["url"]) == f"{live.url}{path}"
        fmt = {"rss.xml": "rss", "atom.xml": "atom", "feed.json": "json"}[path.rsplit("/", 1)[1]]
        assert CHECKS[fmt](body) == []


async def test_conditional_get_and_head(live: Live, store: Store) -> None:
    await store(numbered(i) for i in range(3))
    first, body = await live.get(FEED)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    again, empty = await live.get(FEED, headers={"If-None-Match": etag})
    assert again.status == 304 and empty == b""
    assert again.headers["ETag"] == etag
    strong, _ = await live.get(FEED, headers={"If-None-Match": etag.removeprefix("W/")})
    assert strong.status == 304  # weak comparison (RFC 9110 §13.1.2)
    other, _ = await live.get(FEED, headers={"If-None-Match": 'W/"nope", "other"'})
    assert other.status == 200
    since, _ = await live.get(FEED, headers={"If-Modified-Since": modified})
    assert since.status == 304
    older, _ = await live.get(FEED, headers={"If-Modified-Since": "Sun, 01 Nov 2020 00:00:00 GMT"})
    assert older.status == 200
    # If-None-Match wins over If-Modified-Since.
    both, _ = await live.get(FEED, headers={"If-None-Match": '"x"', "If-Modified-Since": modified})
    assert both.status == 200

    async with live.http.head(live.url + FEED) as head:
        assert head.status == 200
        assert int(head.headers["Content-Length"]) == len(body)
        assert head.headers["ETag"] == etag
        assert await head.read() == b""

    # A new article changes the ETag; the old one no longer matches.
    await store([numbered(10)])
    changed, _ = await live.get(FEED, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag


async def test_browser_readers_may_read_feeds_cross_origin(live: Live, store: Store) -> None:
    """A reader running in a web page fetches with an Origin; without Access-Control-Allow-Origin
    the browser hands it nothing (Fetch standard, CORS check), 200 or 304 alike."""
    await store(numbered(i) for i in range(3))
    origin = {"Origin": "https://reader.example"}
    for path in (
        "/feeds/utama/feed.json",
        "/feeds/utama/atom.xml",
        "/feeds/utama/tag/pilkada/rss.xml",
    ):
        for _ in range(2):  # the first answer renders, the second comes from the cache
            response, _ = await live.get(path, headers=origin)
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == "*", path
            exposed = {
                h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")
            }
            assert {"ETag", "Link"} <= exposed
        again, _ = await live.get(
            path, headers={**origin, "If-None-Match": response.headers["ETag"]}
        )
        assert again.status == 304
        assert again.headers["Access-Control-Allow-Origin"] == "*"


async def test_compression(live: Live, store: Store) -> None:
    await store(numbered(i) for i in range(4))
    _, plain = await live.get(FEED, headers={"Accept-Encoding": "identity"})
    gz, gz_body = await live.get(FEED, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz_body) == plain and len(gz_body) < len(plain)
    br, br_body = await live.get(FEED, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br_body) == plain
    no_br, _ = await live.get(FEED, headers={"Accept-Encoding": "br;q=0, gzip"})
    assert no_br.headers["Content-Encoding"] == "gzip"
    assert gz.headers["ETag"] == br.headers["ETag"]


async def test_unknown_feeds_are_404(live: Live, store: Store) -> None:
    await store([numbered(1)])
    for path in (
        "/feeds/nope/rss.xml",
        "/feeds/utama/feed.xml",
        "/feeds/utama/archive/not-a-cursor/rss.xml",
        "/feeds/utama/tag/tidak-ada/rss.xml",
        "/feeds/banten/tag/banjir/rss.xml",  # banten has no per-tag feeds
    ):
        response, _ = await live.get(path)
        assert response.status == 404, path


async def test_scheduled_and_retracted_timing(
    live: Live, store: Store, db: Database, clock: ManualClock
) -> None:
    await store(numbered(i) for i in range(3))
    due = clock.now() + timedelta(hours=2)
    await store([numbered(50, publish_at=due, published_at=None, status=Status.SCHEDULED)])

    def ids(body: bytes) -> list[str]:
        return [e.id.rsplit("/", 1)[1] for e in feedparser.parse(body).entries]

    _, body = await live.get(FEED)
    assert "art00050" not in ids(body)
    page, _ = await live.get("/artikel/berita-nomor-50")
    assert page.status == 404

    clock.advance(timedelta(hours=1, minutes=59))
    _, body = await live.get(FEED)
    assert "art00050" not in ids(body)

    clock.advance(timedelta(minutes=1))
    _, body = await live.get(FEED)
    assert ids(body)[0] == "art00050"  # on the minute, without any write
    page, _ = await live.get("/artikel/berita-nomor-50")
    assert page.status == 200

    async with db.begin() as conn:
        await retract_article(conn, "art00050", now=clock.now())
    _, body = await live.get(FEED)
    assert "art00050" not in ids(body)
    gone, _ = await live.get("/artikel/berita-nomor-50")
    assert gone.status == 410


async def test_a_report_retracted_under_embargo_was_never_there(
    live: Live, store: Store, db: Database, clock: ManualClock
) -> None:
    # 410 says the page was public once (RFC 9110 §15.5.11); one never released is a 404,
    # as it was while scheduled, and says nothing of what was planned.
    due = clock.now() + timedelta(hours=2)
    await store([numbered(51, publish_at=due, published_at=None, status=Status.SCHEDULED)])
    clock.advance(timedelta(hours=1))
    async with db.begin() as conn:
        await retract_article(conn, "art00051", now=clock.now())
    page, body = await live.get("/artikel/berita-nomor-51")
    assert page.status == 404 and b"ditarik" not in body
    clock.advance(timedelta(hours=2))  # past the embargo it was never released at
    page, _ = await live.get("/artikel/berita-nomor-51")
    assert page.status == 404


async def test_edit_keeps_guid_and_bumps_updated(
    live: Live, store: Store, clock: ManualClock
) -> None:
    article = numbered(7)
    await store([numbered(6), article])
    _, before = await live.get("/feeds/utama/atom.xml")
    clock.advance(timedelta(hours=1))
    await store([replace(article, title="Banjir surut, warga kembali", updated_at=None)])
    _, after = await live.get("/feeds/utama/atom.xml")
    old, new = feedparser.parse(before).entries, feedparser.parse(after).entries
    assert [e.id for e in old] == [e.id for e in new]
    assert new[0].title == "Banjir surut, warga kembali"
    assert new[0].updated_parsed > old[0].updated_parsed
    assert new[0].published_parsed == old[0].published_parsed
    assert (
        feedparser.parse(after).feed.updated_parsed > feedparser.parse(before).feed.updated_parsed
    )


async def _walk(live: Live, path: str) -> list[list[str]]:
    """Follow prev-archive from the subscription document; the ids of every document."""
    documents: list[list[str]] = []
    url: str | None = live.url + path
    while url:
        response, body = await live.get(url)
        assert response.status == 200, url
        fmt = "atom" if url.endswith("atom.xml") else "rss"
        assert CHECKS[fmt](body) == [], url
        parsed = feedparser.parse(body)
        assert not parsed.bozo
        documents.append([e.id for e in parsed.entries])
        links = {link.rel: link.href for link in parsed.feed.get("links", [])}
        if len(documents) > 1:
            assert links["current"] == live.url + path
            root = etree.fromstring(body)
            assert root.find(".//{http://purl.org/syndication/history/1.0}archive") is not None
        url = links.get("prev-archive")
        assert len(documents) < 200
    return documents


async def test_rfc5005_walk_reaches_every_article_once(live: Live, store: Store) -> None:
    count = 43
    await store(numbered(i) for i in range(count))
    for path in ("/feeds/utama/atom.xml", "/feeds/utama/rss.xml"):
        documents = await _walk(live, path)
        current, archives = documents[0], documents[1:]
        assert len(current) == PAGE
        archived = [guid for page in archives for guid in page]
        assert len(archived) == len(set(archived))  # archive pages never overlap
        every = {f"{live.url}/id/artikel/art{i:05d}" for i in range(count)}
        assert set(current) | set(archived) == every
        assert all(1 <= len(page) <= PAGE for page in archives)


async def test_json_feed_next_url_walks_the_same_archive(live: Live, store: Store) -> None:
    await store(numbered(i) for i in range(23))
    seen: list[str] = []
    url: str | None = live.url + "/feeds/utama/feed.json"
    while url:
        _, body = await live.get(url)
        feed = json.loads(body)
        assert CHECKS["json"](body) == []
        seen += [item["id"] for item in feed["items"]]
        url = feed.get("next_url")
    assert len(set(seen)) == 23


async def test_archive_pages_are_stable_and_moved_cursors_redirect(
    live: Live, store: Store, db: Database, clock: ManualClock
) -> None:
    await store(numbered(i) for i in range(30))
    before = await _walk(live, FEED)
    archive_url = feedparser.parse((await live.get(FEED))[1]).feed.links
    prev = next(link.href for link in archive_url if link.rel == "prev-archive")
    _, archived = await live.get(prev)

    await store(numbered(i) for i in range(30, 34))  # newer articles arrive
    after = await _walk(live, FEED)
    assert before[1:] == after[-len(before) + 1 :]  # old archive pages unchanged
    _, same = await live.get(prev)
    # Same entries; only a next-archive link may appear once a newer page closed (RFC 5005 §4).
    assert [e.id for e in feedparser.parse(same).entries] == [
        e.id for e in feedparser.parse(archived).entries
    ]

    # A cursor whose article was retracted is redirected to the page that now holds it.
    async with db.begin() as conn:
        await retract_article(conn, "art00001", now=clock.now())
    stale = f"/feeds/utama/archive/{encode_cursor((numbered(1).published_at, 'art00001'))}/rss.xml"
    async with live.http.get(live.url + stale, allow_redirects=False) as moved:
        assert moved.status == 302
        assert moved.headers["Access-Control-Allow-Origin"] == "*"  # browsers follow it too
        target = moved.headers["Location"]
    response, _ = await live.get(target)
    assert response.status == 200


async def test_per_section_tag_and_author_feeds(live: Live, store: Store) -> None:
    await store(numbered(i) for i in range(12))
    cases = {
        "/feeds/utama/section/banten/rss.xml": {i for i in range(12) if i % 2},
        "/feeds/utama/tag/kabupaten-serang/rss.xml": {i for i in range(12) if i % 3 == 0},
        "/feeds/utama/author/budi-santoso/atom.xml": {i for i in range(12) if i % 2 == 0},
    }
    for path, expected in cases.items():
        documents = await _walk(live, path)
        got = {int(guid.rsplit("art", 1)[1]) for page in documents for guid in page}
        assert got == expected, path
    _, body = await live.get("/feeds/utama/tag/kabupaten-serang/rss.xml")
    parsed = feedparser.parse(body)
    assert parsed.feed.title == "Prolog Media — Berita Utama — Kabupaten Serang"
    assert parsed.feed.link == f"{live.url}/kanal/utama/tag/kabupaten-serang"
    # The banten channel (match: sections [Banten]) holds only Banten articles.
    banten = await _walk(live, "/feeds/banten/atom.xml")
    assert {int(g.rsplit("art", 1)[1]) for p in banten for g in p} == {
        i for i in range(12) if i % 2
    }


async def test_feed_list_and_opml(live: Live, store: Store) -> None:
    await store(numbered(i) for i in range(6))
    response, html = await live.get("/feeds")
    assert response.status == 200
    text = html.decode()
    for path in (
        "/feeds/utama/rss.xml",
        "/feeds/utama/atom.xml",
        "/feeds/utama/feed.json",
        "/feeds/banten/rss.xml",
        "/feeds/utama/section/banten/rss.xml",
        "/feeds/utama/tag/pilkada/rss.xml",
        "/feeds/utama/author/ahmad-fauzi/rss.xml",
    ):
        assert path in text, path
    response, body = await live.get("/feeds.opml")
    assert response.headers["Content-Type"].startswith("text/x-opml")
    root = etree.fromstring(body)
    assert root.get("version") == "2.0" and root.findtext("head/title")
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    assert f"{live.url}/feeds/utama/rss.xml" in urls and f"{live.url}/feeds/banten/rss.xml" in urls
    assert len(urls) == len(set(urls))
    assert all(
        o.get("type") == "rss" and o.get("text") for o in root.iter("outline") if o.get("xmlUrl")
    )


async def test_cached_path_does_not_touch_the_database(live: Live, store: Store) -> None:
    from siarkan.feeds.http import FEED_SERVICE

    await store(numbered(i) for i in range(3))
    service = live.app[FEED_SERVICE]
    service.cache.refresh_seconds = 3600
    await live.get(FEED)
    engine_connect = service.db.connect
    calls = 0

    def counting() -> object:
        nonlocal calls
        calls += 1
        return engine_connect()

    service.db.connect = counting  # type: ignore[method-assign]
    try:
        for _ in range(5):
            response, _ = await live.get(FEED)
            assert response.status == 200
    finally:
        service.db.connect = engine_connect  # type: ignore[method-assign]
    assert calls == 0
