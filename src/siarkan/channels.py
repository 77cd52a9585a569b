"""Which channels an article belongs to: pure rules over settings and article data."""

from __future__ import annotations

from siarkan.articles.model import Article
from siarkan.config import ChannelSettings, Settings


def _folded(values: tuple[str, ...]) -> set[str]:
    return {v.casefold() for v in values}


def belongs(channel: ChannelSettings, article: Article) -> bool:
    """A channel with no rules takes everything; otherwise any rule that matches admits it."""
    match = channel.match
    if not (match.sections or match.tags or match.authors):
        return True
    if article.section and article.section.casefold() in _folded(match.sections):
        return True
    if _folded(match.tags) & _folded(article.tags):
        return True
    return bool(_folded(match.authors) & _folded(article.authors))


def channels_for(settings: Settings, article: Article) -> list[ChannelSettings]:
    return [channel for channel in settings.channels if belongs(channel, article)]
