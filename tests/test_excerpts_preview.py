"""GET /preview/{article} over real loopback HTTP, plus its pure helpers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape

import aiohttp
import pytest
from multidict import CIMultiDict

from siarkan.articles.model import Status
from siarkan.clock import ManualClock
from siarkan.config import DatabaseSettings, Settings
from siarkan.excerpts import make_excerpts
from siarkan.federation.publish import excerpts_for
from siarkan.store.articles import upsert_article
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.web.app import create_app
from siarkan.web.preview import _after, account_for, preview_cards
from siarkan.web.security import style_hash
from tests.helpers import serve_app
from tests.test_excerpts_golden import BANJIR, JALAN

NOW = datetime(2025, 12, 2, 3, 0, tzinfo=UTC)
DRAFT = replace(JALAN, id="draft-1", slug="draf-berita", status=Status.DRAFT)


@pytest.fixture
async def site(settings: Settings, sqlite_url: str) -> AsyncIterator[tuple[str, Settings]]:
    """The app on a real port with JALAN, BANJIR (published) and DRAFT stored."""
    settings = settings.model_copy(update={"database": DatabaseSettings(url=sqlite_url)})
    db = Database(create_engine(sqlite_url))
    async with db.begin() as conn:
        for article in (JALAN, BANJIR, DRAFT):
            await upsert_article(conn, article, now=NOW - timedelta(hours=1))
    app = create_app(settings, db=db, clock=ManualClock(NOW), roles={"web"}, migrate=False)
    port = int(settings.site.base_url.rsplit(":", 1)[1])
    try:
        async with serve_app(app, port) as url:
            yield url, settings
    finally:
        await db.close()


async def fetch(url: str, **headers: str) -> tuple[int, str, CIMultiDict[str]]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status, await resp.text(), CIMultiDict(resp.headers)


def cards(page: str) -> list[str]:
    return re.findall(r'<li class="post[^"]*">(.*?)</li>\s*(?=<li class="post|</ol>)', page, re.S)


async def test_thread_preview_shows_every_post_as_a_card(site: tuple[str, Settings]) -> None:
    base, settings = site
    status, page, headers = await fetch(f"{base}/preview/{JALAN.id}")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["X-Robots-Tag"] == "noindex" and headers["Cache-Control"] == "no-cache"
    expected = excerpts_for(settings, settings.channel("utama"), JALAN)
    found = cards(page)
    assert len(found) == len(expected) == 6
    host = settings.site.host
    for card, part in zip(found, expected, strict=True):
        assert part.html in card  # the post's own HTML, not escaped twice
        assert f"@prologmedia@{host}" in card
        assert f"{part.length} / 500 karakter" in card
        assert f'<span class="number">{part.index + 1}/6</span>' in card
        assert unescape(re.search(r"<pre>(.*?)</pre>", card, re.S).group(1)) == part.text
    assert "Membalas 1/6" in found[1]
    assert 'class="posts thread"' in page
    # No JavaScript and nothing loaded from elsewhere: styles are inline, no src= anywhere.
    assert "<script" not in page and " src=" not in page and "<link" not in page
    # ... and the one inline <style> is the one the page's CSP allows, by its hash; no
    # style="" attribute anywhere (a hash does not cover those).
    (css,) = re.findall(r"<style>(.*?)</style>", page, re.S)
    policy = headers["Content-Security-Policy"]
    assert f"style-src {style_hash(css)};" in policy and "unsafe-inline" not in policy
    assert "style=" not in page


async def test_a_published_preview_revalidates_and_a_draft_is_never_stored(
    site: tuple[str, Settings],
) -> None:
    base, _ = site
    status, page, headers = await fetch(f"{base}/preview/{JALAN.id}?mode=thread")
    assert status == 200 and headers["Cache-Control"] == "no-cache"
    etag = headers["ETag"]
    status, page, again = await fetch(
        f"{base}/preview/{JALAN.id}?mode=thread", **{"If-None-Match": etag}
    )
    assert status == 304 and page == "" and again["ETag"] == etag
    # Another mode is another page, with another tag.
    status, _, summary = await fetch(
        f"{base}/preview/{JALAN.id}?mode=summary", **{"If-None-Match": etag}
    )
    assert status == 200 and summary["ETag"] != etag
    # A draft, seen by the admin: no-store, and no validator to keep it by.
    status, _, draft = await fetch(
        f"{base}/preview/{DRAFT.id}", Authorization="Bearer test-token-123"
    )
    assert status == 200 and draft["Cache-Control"] == "no-store" and "ETag" not in draft


async def test_switching_channel_and_mode(site: tuple[str, Settings]) -> None:
    base, settings = site
    status, page, _ = await fetch(f"{base}/preview/{BANJIR.slug}?channel=banten&mode=series")
    assert status == 200
    banten = settings.channel("banten")
    channel = banten.model_copy(update={"excerpts": banten.excerpts.overridden(mode="series")})
    expected = excerpts_for(settings, channel, BANJIR)
    assert len(cards(page)) == len(expected) > 3
    # Switched to series with max_chars left unset: parts sized like a series channel's.
    assert channel.excerpts.max_chars == channel.excerpts.series_target_chars
    assert len(expected) < 10
    assert f"@banten@{settings.site.host}" in page
    series_tab = (
        '<a href="/preview/banjir-bandang-terjang-lebak-1-250-warga-mengungsi'
        '?channel=banten&amp;mode=series" aria-current="page">Seri</a>'
    )
    assert series_tab in page
    assert "Terbit +2 jam" in page  # series_interval 2 h, second part


async def test_summary_preview(site: tuple[str, Settings]) -> None:
    base, _ = site
    status, page, _ = await fetch(f"{base}/preview/{JALAN.id}?mode=summary")
    assert status == 200
    [card] = cards(page)
    assert '<span class="number">' not in card
    assert "#<span>KabupatenSerang</span>" in card


@pytest.mark.parametrize(
    ("query", "title"),
    [("?mode=tweet", "Mode tidak dikenal"), ("?channel=olahraga", "Kanal tidak dikenal")],
)
async def test_bad_query(site: tuple[str, Settings], query: str, title: str) -> None:
    base, _ = site
    status, page, _ = await fetch(f"{base}/preview/{JALAN.id}{query}")
    assert status == 400 and title in page


async def test_unknown_and_unpublished_articles_are_not_found(site: tuple[str, Settings]) -> None:
    base, _ = site
    assert (await fetch(f"{base}/preview/tidak-ada"))[0] == 404
    assert (await fetch(f"{base}/preview/{DRAFT.id}"))[0] == 404
    assert (await fetch(f"{base}/preview/{DRAFT.id}", Authorization="Bearer salah"))[0] == 404
    status, page, _ = await fetch(
        f"{base}/preview/{DRAFT.id}", Authorization="Bearer test-token-123"
    )
    assert status == 200 and len(cards(page)) == 6


# --- pure helpers -----------------------------------------------------------------------------


def test_account_for_channel(settings: Settings) -> None:
    account = account_for(settings, settings.channel("utama"))
    assert account.display_name == "Prolog Media — Berita Utama"
    assert account.handle == f"@prologmedia@{settings.site.host}"
    assert account.initials == "PM"
    assert 0 <= account.hue < 360


def test_after_in_indonesian() -> None:
    assert _after(timedelta(hours=2)) == "+2 jam"
    assert _after(timedelta(hours=26, minutes=30)) == "+1 hari 2 jam 30 menit"
    assert _after(timedelta(0)) == "segera"


def test_cards_flag_posts_over_the_limit(settings: Settings) -> None:
    channel = settings.channel("utama")
    parts = make_excerpts(
        JALAN,
        channel.excerpts,
        permalink="https://x.example.id/a",
        tag_url=lambda t: t,
        mode="thread",
    )
    made = preview_cards(parts, channel, 300)  # pretend the limit was lower
    assert any(c.over for c in made) and all(c.meter <= 100 for c in made)
    assert made[0].context == "Awal utas"
