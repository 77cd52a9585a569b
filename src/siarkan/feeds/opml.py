"""The feed list as OPML 2.0 (http://opml.org/spec2.opml), for importing into a feed reader. Pure.

    [FeedRef] | one outline per channel (text = channel title) holding one outline per feed:
                type="rss" (OPML's word for any feed), xmlUrl, htmlUrl, language

Each feed appears once, in its preferred format (the first of the channel's `feeds.formats`),
so importing the file subscribes to every feed once instead of three times.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from siarkan.config import Settings
from siarkan.feeds.content import xml_safe
from siarkan.feeds.service import FeedRef
from siarkan.urls import feeds_index_url


def render_opml(settings: Settings, refs: Sequence[FeedRef], *, updated: datetime | None) -> bytes:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = xml_safe(f"{settings.site.name} — feeds")
    if updated is not None:
        etree.SubElement(head, "dateModified").text = format_datetime(
            updated.astimezone(settings.site.tz).replace(microsecond=0)
        )
    etree.SubElement(head, "ownerName").text = xml_safe(settings.site.name)
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    etree.SubElement(head, "ownerId").text = feeds_index_url(settings)
    body = etree.SubElement(root, "body")
    groups: dict[str, etree._Element] = {}
    for ref in refs:
        channel = ref.spec.channel
        group = groups.get(channel.name)
        if group is None:
            group = etree.SubElement(
                body, "outline", text=xml_safe(channel.title), title=xml_safe(channel.title)
            )
            groups[channel.name] = group
        if not ref.urls:
            continue
        _, xml_url = ref.urls[0]
        outline = etree.SubElement(
            group,
            "outline",
            type="rss",
            text=xml_safe(ref.title),
            title=xml_safe(ref.title),
            xmlUrl=xml_url,
            htmlUrl=ref.html_url,
        )
        outline.set("language", channel.language or settings.site.language)
        if channel.description:
            outline.set("description", xml_safe(channel.description))
    body_bytes: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body_bytes
