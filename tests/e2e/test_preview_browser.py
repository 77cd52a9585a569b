"""The excerpt preview in headless Chromium, phone and desktop.

Screenshots go to tests/artifacts/preview-<mode>-<viewport>.png for a person to look at; the
page must load with no console message and lay every card out inside the viewport.
"""

from __future__ import annotations

import re
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.e2e.browser import dump_dom_async, require_chromium, screenshot_async
from tests.helpers import serve_app
from tests.test_excerpts_golden import BANJIR, JALAN, SIDANG

from siarkan.clock import ManualClock
from siarkan.config import DatabaseSettings, Settings
from siarkan.store.articles import upsert_article
from siarkan.store.db import Database
from siarkan.store.engine import create_engine
from siarkan.web.app import create_app

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent.parent / "artifacts"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 1000)}
NOW = datetime(2025, 12, 2, 3, 0, tzinfo=UTC)
PAGES = {
    "thread": f"/preview/{JALAN.id}?mode=thread",
    "summary": f"/preview/{SIDANG.id}?mode=summary",
    "series": f"/preview/{BANJIR.id}?channel=banten&mode=series",
}


@pytest.fixture
async def site(settings: Settings, sqlite_url: str) -> AsyncIterator[str]:
    require_chromium()
    settings = settings.model_copy(update={"database": DatabaseSettings(url=sqlite_url)})
    db = Database(create_engine(sqlite_url))
    async with db.begin() as conn:
        for article in (JALAN, BANJIR, SIDANG):
            await upsert_article(conn, article, now=NOW - timedelta(hours=1))
    app = create_app(settings, db=db, clock=ManualClock(NOW), roles={"web"}, migrate=False)
    try:
        async with serve_app(app, int(settings.site.base_url.rsplit(":", 1)[1])) as url:
            yield url
    finally:
        await db.close()


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("page", list(PAGES))
async def test_preview_renders_cleanly(site: str, page: str, viewport: str) -> None:
    width, height = VIEWPORTS[viewport]
    shot = ARTIFACTS / f"preview-{page}-{viewport}.png"
    console: list[str] = []
    await screenshot_async(site + PAGES[page], shot, width, height, console=console)
    dom = await dump_dom_async(site + PAGES[page], console=console)
    assert console == [], console
    assert png_size(shot) == (width, height) and shot.stat().st_size > 10_000
    assert "<h1>" in dom and "Pratinjau unggahan" in dom
    posts = re.findall(r'<li class="post', dom)
    assert posts, "no post cards rendered"
    # Mastodon-style links: the scheme is in the DOM but hidden by the stylesheet.
    assert 'class="invisible">https://' in dom or 'class="invisible">http://' in dom
    if page == "summary":
        assert len(posts) == 1
