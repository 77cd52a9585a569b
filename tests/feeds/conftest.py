"""Fixtures for the feed tests: small pages, a manual clock, the app on real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from siarkan.articles.model import Article
from siarkan.clock import ManualClock
from siarkan.config import FeedSettings, Settings
from siarkan.feeds.http import FEED_SERVICE
from siarkan.store.articles import UpsertResult, upsert_article
from siarkan.store.db import Database
from siarkan.web.app import create_app
from tests.helpers import make_report, serve_app

START = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
PAGE = 5


def numbered(i: int, **overrides: Any) -> Article:
    """Article number i, published i hours after START; tags and sections vary with i."""
    when = START + timedelta(hours=i)
    fields: dict[str, Any] = {
        "id": f"art{i:05d}",
        "slug": f"berita-nomor-{i}",
        "title": f"Berita nomor {i}: banjir di Serang",
        "section": "Banten" if i % 2 else "Nasional",
        "tags": ("banjir", "Kabupaten Serang") if i % 3 == 0 else ("pilkada",),
        "authors": ("Ahmad Fauzi",) if i % 2 else ("Siti Rahma", "Budi Santoso"),
        "published_at": when,
        "updated_at": when,
    }
    fields.update(overrides)
    return make_report(**fields)


@pytest.fixture
def feed_settings(settings: Settings) -> Settings:
    """The test settings with small feed pages and per-section/tag/author feeds on `utama`."""
    utama, *rest = settings.channels
    feeds = FeedSettings(items=PAGE, per=("section", "tag", "author"), max_age=120)
    return settings.model_copy(
        update={"channels": (utama.model_copy(update={"feeds": feeds}), *rest)}
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START + timedelta(days=30))


Store = Callable[[Iterable[Article]], Awaitable[list[UpsertResult]]]


@pytest.fixture
def store(db: Database, clock: ManualClock) -> Store:
    async def put(articles: Iterable[Article]) -> list[UpsertResult]:
        results = []
        async with db.begin() as conn:
            for article in articles:
                results.append(await upsert_article(conn, article, now=clock.now()))
        return results

    return put


@dataclass
class Live:
    url: str
    app: web.Application
    http: aiohttp.ClientSession
    seen: list[dict[str, str]] = field(default_factory=list)  # request headers, in order

    async def get(self, path: str, **kwargs: Any) -> tuple[aiohttp.ClientResponse, bytes]:
        target = path if path.startswith("http") else self.url + path
        async with self.http.get(target, **kwargs) as response:
            return response, await response.read()


@pytest.fixture
async def live(feed_settings: Settings, db: Database, clock: ManualClock) -> AsyncIterator[Live]:
    app = create_app(feed_settings, db=db, clock=clock, roles={"web"}, migrate=False)
    seen: list[dict[str, str]] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append({"path": request.path_qs, **dict(request.headers)})
        response: web.StreamResponse = await handler(request)
        return response

    app.middlewares.append(record)
    port = int(feed_settings.site.base_url.rsplit(":", 1)[1])
    async with (
        serve_app(app, port) as url,
        aiohttp.ClientSession(
            auto_decompress=False, headers={"Accept-Encoding": "identity"}
        ) as http,
    ):
        # Tests move the clock and write directly: ask the database on every request.
        app[FEED_SERVICE].cache.refresh_seconds = 0
        yield Live(url, app, http, seen)
