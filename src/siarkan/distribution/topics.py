"""WebSub topics are our feed URLs. Pure: settings (+ article) in, URLs out.

    subscriber's hub.topic | parse_topic  -> Topic (channel, format, scope) or None (400)
    changed article        | topics_for   -> every feed URL whose content includes it
    a Topic                | RenderTopic (websub_send.FeedRenderer) -> a notification's body

Scopes are the per-channel sub-feeds (`feeds.per`: section / tag / author), their slug is
`urls.slugify` of the name as written in the articles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from siarkan.articles.model import Article
from siarkan.channels import channels_for
from siarkan.config import ChannelSettings, Settings
from siarkan.urls import feed_url, slugify

FILES = {"rss.xml": "rss", "atom.xml": "atom", "feed.json": "json"}
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
SCOPE_KINDS = ("section", "tag", "author")


@dataclass(frozen=True, slots=True)
class Topic:
    channel: str
    fmt: str  # rss | atom | json
    scope: str  # "" or "tag/banjir"
    url: str  # canonical: exactly as urls.feed_url writes it

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.fmt]


@dataclass(frozen=True, slots=True)
class TopicBody:
    body: bytes
    content_type: str


# Topic -> its current document, or None if it cannot be made (websub_send.FeedRenderer).
RenderTopic = Callable[[Topic], Awaitable[TopicBody | None]]


def _channel(settings: Settings, name: str) -> ChannelSettings | None:
    for channel in settings.channels:
        if channel.name == name:
            return channel
    return None


def parse_topic(settings: Settings, url: str) -> Topic | None:
    """A feed URL we serve -> Topic; anything else (other host, query, unknown feed) -> None."""
    prefix = settings.site.base_url + "/feeds/"
    if not url.startswith(prefix):
        return None
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        return None
    segments = [unquote(s) for s in url[len(prefix) :].split("/")]
    if len(segments) == 2:
        name, file_name = segments
        scope = ""
    elif len(segments) == 4:
        name, kind, slug, file_name = segments
        if kind not in SCOPE_KINDS or not slug or slugify(slug) != slug:
            return None
        scope = f"{kind}/{slug}"
    else:
        return None
    channel = _channel(settings, name)
    fmt = FILES.get(file_name)
    if channel is None or fmt is None or not channel.feeds.enabled:
        return None
    if fmt not in channel.feeds.formats:
        return None
    if scope and scope.split("/", 1)[0] not in channel.feeds.per:
        return None
    return Topic(name, fmt, scope, feed_url(settings, name, fmt, scope=scope))


def near_topic(settings: Settings, url: str) -> Topic | None:
    """The topic `url` was probably meant to be: one of our feed URLs with a query, fragment,
    trailing slash or different letter case in scheme and host. Not accepted as it is: the
    verification must carry the topic exactly as the subscriber sent it (WebSub §5.3), and a
    subscriber that matches it (NewsBlur) would refuse ours; it should use the rel=self URL."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    bare = f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"
    if bare == url:
        return None
    return parse_topic(settings, bare)


def _scopes(channel: ChannelSettings, article: Article) -> list[str]:
    names: dict[str, tuple[str, ...]] = {
        "section": (article.section,) if article.section else (),
        "tag": article.tags,
        "author": article.authors,
    }
    out: list[str] = []
    for kind in channel.feeds.per:
        for name in names[kind]:
            if name.strip():
                out.append(f"{kind}/{slugify(name)}")
    return list(dict.fromkeys(out))


def topics_for(settings: Settings, article: Article) -> list[Topic]:
    """Every feed (channel and scoped, every format) whose items this article can appear in."""
    out: list[Topic] = []
    for channel in channels_for(settings, article):
        if not channel.feeds.enabled:
            continue
        for scope in ["", *_scopes(channel, article)]:
            for fmt in channel.feeds.formats:
                url = feed_url(settings, channel.name, fmt, scope=scope)
                out.append(Topic(channel.name, fmt, scope, url))
    return out


def all_channel_topics(settings: Settings) -> list[Topic]:
    """The unscoped feeds of every channel (for listings and tests)."""
    return [
        Topic(c.name, fmt, "", feed_url(settings, c.name, fmt))
        for c in settings.channels
        if c.feeds.enabled
        for fmt in c.feeds.formats
    ]
