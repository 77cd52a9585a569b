"""What a feed document says, independent of its format. Pure: articles + settings in, data out.

    stored articles (newest first) + FeedSpec + page links
        | feed_item (per article: guid, links, excerpt summary, absolute content, site-tz dates)
        | feed_doc  (title, language, self/hub/archive links per format, updated = newest item)
        -> FeedDoc, which rss.py / atom.py / jsonfeed.py turn into bytes

Nothing here reads the clock: `updated` comes from the data, so the same articles always give
the same bytes (stable ETags, no phantom updates in readers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from lxml.html import defs as html_defs

from siarkan.articles.model import Article
from siarkan.config import ChannelSettings, Settings
from siarkan.excerpts import make_excerpts
from siarkan.feeds.content import absolute, feed_content_html, iri_to_uri, xml_safe
from siarkan.urls import article_guid, article_link, article_url, tag_url

Format = Literal["rss", "atom", "json"]
FORMATS: tuple[Format, ...] = ("rss", "atom", "json")
FILE_NAMES: Mapping[str, str] = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
FORMAT_BY_FILE: Mapping[str, Format] = {"rss.xml": "rss", "atom.xml": "atom", "feed.json": "json"}
MEDIA_TYPES: Mapping[str, str] = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
FORMAT_TITLES: Mapping[str, str] = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
GENERATOR = "siarkan"
GENERATOR_URI = "https://github.com/siarkan/siarkan"


def _version() -> str:
    try:
        return version("siarkan")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0"


GENERATOR_VERSION = _version()

ScopeKind = Literal["section", "tag", "author"]


@dataclass(frozen=True, slots=True)
class Scope:
    """A sub-feed of a channel: its articles of one section, tag or author."""

    kind: ScopeKind
    slug: str
    name: str  # as written in the articles, for titles

    @property
    def path(self) -> str:
        return f"{self.kind}/{self.slug}"


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """Which feed: a channel, or one scope of it."""

    channel: ChannelSettings
    scope: Scope | None = None

    @property
    def scope_path(self) -> str:
        return self.scope.path if self.scope else ""

    @property
    def page_size(self) -> int:
        return self.channel.feeds.items


@dataclass(frozen=True, slots=True)
class FeedImage:
    url: str
    media_type: str | None
    length: int | None
    width: int | None
    height: int | None
    title: str  # alt text
    description: str  # caption and credit


@dataclass(frozen=True, slots=True)
class FeedItem:
    guid: str
    guid_is_permalink: bool
    link: str
    title: str
    summary: str
    content_html: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    published: datetime
    updated: datetime
    image: FeedImage | None
    language: str


@dataclass(frozen=True, slots=True)
class PageLinks:
    """Where this document is and its RFC 5005 neighbours, for one format (absolute URLs)."""

    self_url: str
    current: str  # the subscription document (== self_url unless this is an archive page)
    prev_archive: str | None = None  # older entries
    next_archive: str | None = None  # newer entries (archive documents only)


@dataclass(frozen=True, slots=True)
class FeedDoc:
    feed_id: str  # the same for every page and format of one feed
    title: str
    description: str
    language: str
    home_url: str  # the HTML page this feed mirrors
    hub_url: str | None
    icon: str | None
    ttl_minutes: int
    author: str  # feed-level author: Atom needs one when an entry has none (RFC 4287 §4.1.1)
    updated: datetime | None  # newest item update; None for an empty feed
    items: tuple[FeedItem, ...]
    archive: bool  # an RFC 5005 archive document (fh:archive)
    links: Mapping[str, PageLinks] = field(default_factory=dict)  # by format

    def links_for(self, fmt: str) -> PageLinks:
        return self.links[fmt]


# A title is plain text; tags an importer let through would show up as "<b>" in readers and
# are a "ContainsHTML" warning for the W3C validator (validators.py nonhtml). Only real HTML
# elements go: "PT A&B <Tbk>" is text, as the validator also sees it.
_TAG_RE = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)\b[^<>]*>")


def _drop_html_tag(match: re.Match[str]) -> str:
    return "" if match[1].lower() in html_defs.tags else match[0]


def plain(text: str) -> str:
    return " ".join(_TAG_RE.sub(_drop_html_tag, xml_safe(text)).split())


def _site_time(settings: Settings, when: datetime) -> datetime:
    # RSS wants RFC 822 with a numeric zone (+0700, never "WIB"); readers show local time.
    return when.astimezone(settings.site.tz).replace(microsecond=0)


def _summary(article: Article, settings: Settings, channel: ChannelSettings) -> str:
    """The excerpt's story text, without title, link line or hashtags (they are elsewhere)."""
    excerpts = make_excerpts(
        article,
        channel.excerpts,
        permalink=article_url(settings, article),
        tag_url=lambda tag: tag_url(settings, channel.name, tag),
        mode="summary",
    )
    if excerpts and excerpts[0].body_text:
        return excerpts[0].body_text
    return article.lead


def feed_item(settings: Settings, channel: ChannelSettings, article: Article) -> FeedItem:
    """One article as a feed entry of `channel` (guid stable across edits and slug changes)."""
    permalink = article_url(settings, article)
    link = iri_to_uri(article_link(settings, article))
    base = article.canonical_url or permalink
    published = article.published_at or article.updated_at
    assert published is not None, "only published articles are in feeds"
    updated = max(article.updated_at or published, published)
    image = None
    if article.image is not None:
        url = absolute(article.image.url, base)
        if url is not None:
            description = " ".join(
                part
                for part in (article.image.caption.strip(), article.image.credit.strip())
                if part
            )
            image = FeedImage(
                url=url,
                media_type=article.image.type_or_guess(),
                length=article.image.length,
                width=article.image.width,
                height=article.image.height,
                title=xml_safe(article.image.alt),
                description=xml_safe(description),
            )
    # One category per word whatever its case: a section "Kesehatan" with a tag "kesehatan"
    # would be two tags in readers (Miniflux keeps both: internal/reader/atom/atom_10_adapter.go
    # sorts and drops only exact repeats). The section's spelling comes first and wins.
    categories_by_key: dict[str, str] = {}
    for value in ((article.section,) if article.section else ()) + article.tags:
        category = xml_safe(value or "").strip()
        if category:
            categories_by_key.setdefault(category.casefold(), category)
    categories = tuple(categories_by_key.values())
    guid = article_guid(settings, article)
    return FeedItem(
        guid=guid,
        guid_is_permalink=guid == link,
        link=link,
        title=plain(article.title) or link,
        summary=xml_safe(_summary(article, settings, channel)),
        content_html=feed_content_html(article, base),
        authors=tuple(xml_safe(a).strip() for a in article.authors if xml_safe(a).strip()),
        categories=categories,
        published=_site_time(settings, published),
        updated=_site_time(settings, updated),
        image=image,
        language=article.language or settings.site.language,
    )


def feed_doc(
    settings: Settings,
    spec: FeedSpec,
    items: tuple[FeedItem, ...],
    *,
    home_url: str,
    hub_url: str | None,
    links: Mapping[str, PageLinks],
    archive: bool,
    feed_id: str,
) -> FeedDoc:
    channel = spec.channel
    title = xml_safe(channel.title)
    if spec.scope is not None:
        title = f"{title} — {xml_safe(spec.scope.name)}"
    description = xml_safe(channel.description or settings.site.description or channel.title)
    return FeedDoc(
        feed_id=feed_id,
        title=title,
        description=description,
        language=channel.language or settings.site.language,
        home_url=home_url,
        hub_url=hub_url,
        icon=settings.site.icon,
        ttl_minutes=channel.feeds.ttl_minutes,
        author=xml_safe(settings.site.name),
        updated=max((item.updated for item in items), default=None),
        items=items,
        archive=archive,
        links=links,
    )
