"""XML pieces RSS and Atom share, added through feedgen extensions. Pure.

feedgen 1.0.0 drops or mangles several of these (PROTOCOLS.md "Feeds"): it writes only the
`self` atom:link into RSS (no `hub`, no RFC 5005 links), loses rel/type/length on Atom entry
links (an enclosure would become a second alternate link, which the W3C validator rejects), and
wraps media:content in a one-child media:group (a validator warning). So these elements are
written here, with lxml, and feedgen only gets the fields it handles correctly.
"""

from __future__ import annotations

from lxml import etree

from siarkan.feeds.model import MEDIA_TYPES, FeedDoc, FeedImage

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
DC_NS = "http://purl.org/dc/elements/1.1/"
FH_NS = "http://purl.org/syndication/history/1.0"


def feed_links(doc: FeedDoc, fmt: str) -> list[tuple[str, str, str | None]]:
    """(rel, href, type) of the feed-level links: self, hub and RFC 5005 archive links."""
    links = doc.links_for(fmt)
    media_type = MEDIA_TYPES[fmt]
    found: list[tuple[str, str, str | None]] = [("self", links.self_url, media_type)]
    if doc.hub_url:
        found.append(("hub", doc.hub_url, None))
    if doc.archive:
        found.append(("current", links.current, media_type))
    if links.prev_archive:
        found.append(("prev-archive", links.prev_archive, media_type))
    if links.next_archive:
        found.append(("next-archive", links.next_archive, media_type))
    return found


def add_links(parent: etree._Element, links: list[tuple[str, str, str | None]], tag: str) -> None:
    for rel, href, media_type in links:
        element = etree.SubElement(parent, tag, href=href, rel=rel)
        if media_type:
            element.set("type", media_type)


def add_archive_marker(parent: etree._Element) -> None:
    """RFC 5005 §4: an archive document carries an empty fh:archive element."""
    etree.SubElement(parent, f"{{{FH_NS}}}archive")


def add_media_content(parent: etree._Element, image: FeedImage) -> None:
    """One media:content for the featured image (Media RSS 1.5.1), never in a media:group."""
    content = etree.SubElement(parent, f"{{{MEDIA_NS}}}content", url=image.url, medium="image")
    if image.media_type:
        content.set("type", image.media_type)
    if image.length:
        content.set("fileSize", str(image.length))
    if image.width and image.height:
        content.set("width", str(image.width))
        content.set("height", str(image.height))
    if image.title:
        title = etree.SubElement(content, f"{{{MEDIA_NS}}}title", type="plain")
        title.text = image.title
    if image.description:
        description = etree.SubElement(content, f"{{{MEDIA_NS}}}description", type="plain")
        description.text = image.description
