"""HTTP caching and security headers of the public HTML pages, over real loopback HTTP.

Every page a browser or a CDN may keep carries a validator that changes whenever the page
does (an edit, a retraction, a scheduled report coming due, new settings), and a 304 for a
client that already holds it.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from siarkan.articles.model import Status
from siarkan.clock import ManualClock
from siarkan.config import Settings
from siarkan.store.articles import retract_article
from siarkan.store.db import Database
from siarkan.web.app import create_app
from tests.feeds.conftest import Live, Store, numbered
from tests.helpers import free_port, serve_app

PAGES = ("/", "/kanal/utama", "/kanal/utama/tag/kabupaten-serang", "/artikel/berita-nomor-3")


async def etag_of(live: Live, path: str) -> str:
    response, _ = await live.get(path)
    assert response.status == 200, path
    assert response.headers["Cache-Control"] == "public, max-age=60", path
    etag = response.headers["ETag"]
    assert etag.startswith('W/"'), path
    return etag


async def status_for(live: Live, path: str, etag: str, if_none_match: str | None = None) -> int:
    response, body = await live.get(path, headers={"If-None-Match": if_none_match or etag})
    if response.status == 304:
        assert body == b"" and response.headers["ETag"] == etag, path
        assert response.headers["Cache-Control"] == "public, max-age=60", path
    return response.status


async def test_pages_answer_304_to_the_tag_they_sent(live: Live, store: Store) -> None:
    await store(numbered(i) for i in range(25))
    tags = {path: await etag_of(live, path) for path in PAGES}
    assert len(set(tags.values())) == len(PAGES)  # one page, one tag
    for path, etag in tags.items():
        assert await status_for(live, path, etag) == 304, path
        assert await status_for(live, path, etag, f'"other", {etag}') == 304, path  # any of a list
        assert await status_for(live, path, etag, '"other"') == 200, path
        assert await etag_of(live, path) == etag, path  # stable while nothing changes
    # An older page of a list is another page.
    _, first = await live.get("/kanal/utama")
    older = re.search(rb'<a class="older" href="(\?sebelum=[^"]+)"', first)
    assert older is not None
    paged = await etag_of(live, "/kanal/utama" + older.group(1).decode())
    assert paged != tags["/kanal/utama"]


async def test_an_edit_changes_every_page_that_shows_it(live: Live, store: Store) -> None:
    await store(numbered(i) for i in range(6))
    before = {path: await etag_of(live, path) for path in PAGES}
    # Same clock, same published time: only the headline moved (a store's changed_at alone
    # would not tell the two versions apart).
    await store([numbered(3, title="Berita nomor 3: banjir surut di Serang")])
    for path, etag in before.items():
        assert await status_for(live, path, etag) == 200, path
        response, body = await live.get(path)
        assert b"banjir surut" in body, path
        assert response.headers["ETag"] != etag, path


async def test_a_retraction_changes_the_lists_and_ends_the_article(
    live: Live, store: Store, db: Database, clock: ManualClock
) -> None:
    await store(numbered(i) for i in range(6))
    before = {path: await etag_of(live, path) for path in PAGES}
    async with db.begin() as conn:
        await retract_article(conn, "art00003", now=clock.now())
    for path, etag in before.items():
        expected = 410 if path.startswith("/artikel/") else 200
        assert await status_for(live, path, etag) == expected, path
    _, home = await live.get("/")
    assert b"berita-nomor-3" not in home


async def test_a_scheduled_report_coming_due_changes_the_lists(
    live: Live, store: Store, clock: ManualClock
) -> None:
    await store(numbered(i) for i in range(3))
    due = clock.now() + timedelta(hours=1)
    await store([numbered(9, publish_at=due, published_at=None)])  # nothing written when due
    before = await etag_of(live, "/")
    assert await status_for(live, "/", before) == 304
    clock.advance(timedelta(hours=2))
    assert await status_for(live, "/", before) == 200
    _, home = await live.get("/")
    assert b"berita-nomor-9" in home


async def test_a_new_deploy_or_new_settings_revalidate_to_a_new_page(
    feed_settings: Settings, db: Database, clock: ManualClock, live: Live, store: Store
) -> None:
    """The tags include the settings, the package version, templates and stylesheet: a page
    rendered by another configuration is never "not modified"."""
    await store(numbered(i) for i in range(3))
    before = {path: await etag_of(live, path) for path in PAGES[:2]}
    renamed = feed_settings.model_copy(
        update={"site": feed_settings.site.model_copy(update={"name": "Prolog Media Baru"})}
    )
    app = create_app(renamed, db=db, clock=clock, roles={"web"}, migrate=False)
    async with serve_app(app, free_port()) as other:
        for path, etag in before.items():
            response, body = await live.get(other + path, headers={"If-None-Match": etag})
            assert response.status == 200 and b"Prolog Media Baru" in body, path


async def test_error_pages_get_no_validator(live: Live, store: Store) -> None:
    await store([numbered(1, status=Status.RETRACTED), numbered(2, status=Status.DRAFT)])
    for path in ("/artikel/berita-nomor-1", "/artikel/berita-nomor-2", "/kanal/tidak-ada"):
        response, _ = await live.get(path, headers={"If-None-Match": "*"})
        assert response.status in (404, 410), path
        assert "ETag" not in response.headers, path


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/kanal/utama",
        "/kanal/utama/tag/kabupaten-serang",
        "/artikel/berita-nomor-3",
        "/artikel/berita-nomor-1",  # 410
        "/artikel/tidak-ada",  # 404
        "/tidak-ada",  # the catch-all 404
        "/feeds",
        "/@prologmedia",
        "/preview/berita-nomor-3",
    ],
)
async def test_every_html_page_carries_the_security_headers(
    live: Live, store: Store, path: str
) -> None:
    await store([numbered(3), numbered(1, status=Status.RETRACTED)])
    response, _ = await live.get(path, headers={"Accept": "text/html"})
    assert response.headers["Content-Type"] == "text/html; charset=utf-8", path
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    # Featured images live on the publisher's servers.
    assert set(policy["img-src"].split()) >= {"'self'", "https:"}
    assert policy["frame-ancestors"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


async def test_the_feeds_fast_path_is_left_alone(live: Live, store: Store) -> None:
    """Feeds keep their own validators and headers (feeds/http.py, benchmarked)."""
    await store([numbered(3)])
    response, _ = await live.get("/feeds/utama/rss.xml")
    assert response.status == 200 and "Content-Security-Policy" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=120"
