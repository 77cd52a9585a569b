"""Last-Modified of live feeds: never later than the server's clock (RFC 9110 §8.8.2.1)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

from siarkan.clock import ManualClock
from siarkan.feeds.http import FEED_SERVICE
from siarkan.store.articles import retract_article
from siarkan.store.db import Database
from tests.feeds.conftest import Live, Store, numbered

FEED = "/feeds/utama/rss.xml"


async def test_future_dated_article_does_not_put_last_modified_in_the_future(
    live: Live, store: Store, clock: ManualClock
) -> None:
    await store(numbered(i) for i in range(3))
    ahead = clock.now() + timedelta(days=30)  # a pre-dated report, published (no publish_at)
    await store([numbered(99, published_at=ahead, updated_at=ahead)])
    first, _ = await live.get(FEED)
    assert first.status == 200
    stamp = first.headers["Last-Modified"]
    assert parsedate_to_datetime(stamp) <= clock.now()

    # A reader that revalidates with If-Modified-Since only must see the next change.
    clock.advance(timedelta(minutes=5))
    await store([numbered(100, published_at=clock.now(), updated_at=clock.now())])
    again, body = await live.get(FEED, headers={"If-Modified-Since": stamp})
    assert again.status == 200
    assert b"art00100" in body
    assert parsedate_to_datetime(again.headers["Last-Modified"]) > parsedate_to_datetime(stamp)


async def test_a_retraction_moves_last_modified_forward(
    live: Live, store: Store, db: Database, clock: ManualClock
) -> None:
    """The retracted item leaves no row on the page to date the change by; a reader that
    revalidates with If-Modified-Since only must still get the page without it."""
    await store(numbered(i) for i in range(3))
    first, _ = await live.get(FEED)
    stamp = first.headers["Last-Modified"]
    clock.advance(timedelta(minutes=5))
    async with db.begin() as conn:
        assert await retract_article(conn, "art00002", now=clock.now()) is not None
    live.app[FEED_SERVICE].cache.invalidate()
    again, body = await live.get(FEED, headers={"If-Modified-Since": stamp})
    assert again.status == 200
    assert b"art00002" not in body
    assert parsedate_to_datetime(again.headers["Last-Modified"]) > parsedate_to_datetime(stamp)
