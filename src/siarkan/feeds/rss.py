"""FeedDoc -> RSS 2.0 bytes (feedgen, plus the parts feedgen gets wrong). Pure.

    FeedDoc | channel: title, link (the HTML page), description, language, ttl, generator,
              lastBuildDate = newest item (omitted when empty), atom:link self/hub/archive,
              fh:archive on archive pages
            | items (newest first): title, link, description (excerpt), content:encoded (full),
              dc:creator (all authors in one element), guid (isPermaLink="false": it is not
              the page), category, enclosure + media:content for the featured image,
              pubDate (RFC 822, +0700)

W3C validator rules followed (w3c/feedvalidator item.py, channel.py): description before
content:encoded; dc:creator instead of <author> (which must be an e-mail address, and both
together are "DuplicateItemSemantics"); a channel atom:link rel="self" with a type; enclosure
with url, length (0 when unknown) and type.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree

from siarkan.feeds.model import GENERATOR, GENERATOR_VERSION, FeedDoc, FeedItem
from siarkan.feeds.xmlparts import (
    ATOM_NS,
    DC_NS,
    FH_NS,
    MEDIA_NS,
    add_archive_marker,
    add_links,
    add_media_content,
    feed_links,
)


def rss_image_format(url: str) -> bool:
    """Can this be the channel <image>? RSS 2.0 allows GIF, JPEG or PNG only.

    Mirrors the W3C validator's ImageUrlFormat warning (image.py: the text after the URL's last
    dot, when it is one word, must be jpg/jpeg/gif/png). An SVG or ICO icon still reaches
    readers through Atom <icon> and JSON Feed `icon`.
    """
    extension = url.rsplit(".", 1)[-1].lower()
    return not re.fullmatch(r"\w+", extension) or extension in {"jpg", "jpeg", "gif", "png"}


class _ChannelExtension:
    """feedgen extension for the channel: atom:link hub/archive links, fh:archive."""

    doc: FeedDoc | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS, "media": MEDIA_NS, "fh": FH_NS}

    def extend_rss(self, rss: Any) -> Any:
        assert self.doc is not None
        channel = rss[0]
        add_links(channel, feed_links(self.doc, "rss"), f"{{{ATOM_NS}}}link")
        if self.doc.archive:
            add_archive_marker(channel)
        return rss

    def extend_atom(self, feed: Any) -> Any:
        return feed


class _ItemExtension:
    """feedgen extension for an item: dc:creator, enclosure, media:content."""

    item: FeedItem | None = None

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, entry: Any) -> Any:
        item = self.item
        assert item is not None
        if item.authors:
            # One dc:creator naming everyone: readers that keep a single value see all the
            # co-authors, not one of them (Miniflux's RSS item has one string field for it, and
            # Go's encoding/xml keeps the last of repeated elements: internal/reader/dublincore).
            etree.SubElement(entry, f"{{{DC_NS}}}creator").text = ", ".join(item.authors)
        image = item.image
        if image is not None:
            if image.media_type:
                # RSS 2.0: all three attributes are required; 0 is the validator's "unknown".
                etree.SubElement(
                    entry,
                    "enclosure",
                    url=image.url,
                    length=str(image.length or 0),
                    type=image.media_type,
                )
            add_media_content(entry, image)
        return entry

    def extend_atom(self, entry: Any) -> Any:
        return entry


def render_rss(doc: FeedDoc) -> bytes:
    fg = FeedGenerator()
    fg.register_extension("siarkan", _ChannelExtension, _ItemExtension, atom=False, rss=True)
    fg.siarkan.doc = doc
    fg.title(doc.title)
    fg.description(doc.description)
    fg.language(doc.language)
    # feedgen writes the *last* link() as the channel <link>: the only one we give it.
    fg.link(href=doc.home_url, rel="alternate")
    fg.generator(f"{GENERATOR} {GENERATOR_VERSION}")
    fg.ttl(doc.ttl_minutes)
    if doc.icon and rss_image_format(doc.icon):
        fg.image(url=doc.icon, title=doc.title, link=doc.home_url)
    if doc.updated is not None:
        fg.lastBuildDate(doc.updated)
    else:
        # feedgen defaults lastBuildDate to "now"; an empty feed simply has none.
        fg._FeedGenerator__rss_lastBuildDate = None
    for item in doc.items:
        entry = fg.add_entry(order="append")
        entry.siarkan.item = item
        entry.title(item.title)
        entry.link(href=item.link)
        entry.guid(item.guid, permalink=item.guid_is_permalink)
        # RSS <description> is HTML (RSS 2.0 spec; the W3C validator parses it as HTML, strictly):
        # the excerpt is plain text, so "PT A&B" or "2<3" must reach it as text, not markup.
        entry.description(escape(item.summary or item.title, quote=False))
        entry.content(item.content_html)
        if item.categories:
            entry.category([{"term": c} for c in item.categories])
        entry.pubDate(item.published)
    body: bytes = fg.rss_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    return body
