"""What happens when an article is stored: the one place publication fans out.

    upsert / retract / scheduler publishes (same transaction)
        -> federation.publish.on_article_change   (posts, Create/Update/Delete, deliveries)
        -> distribution.websub.on_article_change  (WebSub notifications for affected feeds)

Both only write rows (the transactional outbox); workers send them later. Call this inside
the transaction that stored the article, so a crash never leaves one without the other.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.articles.model import Article
from siarkan.config import Settings
from siarkan.distribution import websub
from siarkan.federation import publish


async def article_changed(
    conn: AsyncConnection,
    settings: Settings,
    article: Article,
    *,
    previous: Article | None,
    now: datetime,
    release: bool = True,
) -> None:
    """`release=False` writes the posts but leaves their release (Create + deliveries) to a
    later `release_due` in the batch, or to the scheduler: bulk imports release in bulk."""
    await publish.on_article_change(
        conn, settings, article, previous=previous, now=now, release=release
    )
    await websub.on_article_change(conn, settings, article, previous=previous, now=now)


async def release_due(conn: AsyncConnection, settings: Settings, now: datetime) -> int:
    """Release every due post (parts written with release=False included), in batches."""
    released = total = await publish.release_due_posts(conn, settings, now)
    while released >= publish.RELEASE_BATCH:
        released = await publish.release_due_posts(conn, settings, now)
        total += released
    return total
