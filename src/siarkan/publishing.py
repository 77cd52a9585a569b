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
) -> None:
    await publish.on_article_change(conn, settings, article, previous=previous, now=now)
    await websub.on_article_change(conn, settings, article, previous=previous, now=now)
