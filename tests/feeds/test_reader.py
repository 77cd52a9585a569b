"""A real feed reader (the PyPI `reader` library) subscribed to the live app over loopback.

reader is synchronous (requests), so it runs in a thread while the app serves on the loop.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from reader import make_reader

from siarkan.clock import ManualClock
from tests.feeds.conftest import Live, Store, numbered


@pytest.mark.parametrize("file", ["rss.xml", "atom.xml", "feed.json"])
async def test_reader_updates_without_duplicates(
    live: Live, store: Store, clock: ManualClock, tmp_path: Path, file: str
) -> None:
    feed_url = f"{live.url}/feeds/utama/{file}"
    await store(numbered(i) for i in range(4))
    rd = make_reader(str(tmp_path / "reader.sqlite"))
    try:
        rd.add_feed(feed_url)

        def update() -> None:
            rd.update_feed(feed_url)

        def entries() -> dict[str, tuple[str | None, object]]:
            return {e.id: (e.title, e.updated) for e in rd.get_entries(feed=feed_url)}

        await asyncio.to_thread(update)
        first = await asyncio.to_thread(entries)
        assert len(first) == 4

        # Second update, nothing changed: the server answers 304 to reader's If-None-Match.
        before = len(live.seen)
        await asyncio.to_thread(update)
        requests = [r for r in live.seen[before:] if r["path"].endswith(file)]
        assert requests and "If-None-Match" in requests[-1]
        assert await asyncio.to_thread(entries) == first

        # One new article and an edit of an existing one: updated, not duplicated.
        clock.advance(timedelta(hours=1))
        edited = replace(numbered(2), title="Banjir surut di Serang", updated_at=None)
        await store([numbered(9), edited])
        await asyncio.to_thread(update)
        after = await asyncio.to_thread(entries)
        assert len(after) == 5
        assert set(after) == set(first) | {f"{live.url}/id/artikel/art00009"}
        assert after[f"{live.url}/id/artikel/art00002"][0] == "Banjir surut di Serang"
        feed = rd.get_feed(feed_url)
        assert feed.last_exception is None
    finally:
        rd.close()


async def test_reader_imports_the_opml(live: Live, store: Store, tmp_path: Path) -> None:
    await store(numbered(i) for i in range(3))
    _, opml = await live.get("/feeds.opml")
    rd = make_reader(str(tmp_path / "reader.sqlite"))
    try:
        rd.import_feeds(io.BytesIO(opml))
        urls = {feed.url for feed in rd.get_feeds()}
        assert f"{live.url}/feeds/utama/rss.xml" in urls
        await asyncio.to_thread(rd.update_feeds)
        assert all(feed.last_exception is None for feed in rd.get_feeds())
        assert len(list(rd.get_entries())) >= 3
    finally:
        rd.close()
