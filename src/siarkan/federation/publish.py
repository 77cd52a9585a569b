"""Placeholder until the federation engine lands: publishing an article federates nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from siarkan.articles.model import Article
from siarkan.config import Settings


async def on_article_change(
    conn: AsyncConnection,
    settings: Settings,
    article: Article,
    *,
    previous: Article | None,
    now: datetime,
) -> None:
    return None
