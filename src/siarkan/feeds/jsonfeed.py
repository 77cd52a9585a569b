"""FeedDoc -> JSON Feed 1.1 bytes (https://www.jsonfeed.org/version/1.1/). Pure.

    FeedDoc | version, title, home_page_url, feed_url (the subscription document), description,
              language, icon, hubs (WebSub), next_url (older entries: the RFC 5005
              prev-archive page)
            | items: id (stable guid), url, title, summary, content_html, image, date_published,
              date_modified (RFC 3339), authors (the item's, else the site), tags, language,
              attachments (featured image)
            | "_rfc5005": the archive links in JSON Feed's extension syntax (keys starting "_")

JSON Feed has one pagination link, `next_url`, that leads to older items: following it from the
subscription document walks the same archive pages the XML feeds link with prev-archive.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from siarkan.feeds.model import FeedDoc, FeedItem

VERSION = "https://jsonfeed.org/version/1.1"


def _date(when: datetime) -> str:
    return when.isoformat()


def _item(item: FeedItem, site_author: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.guid,
        "url": item.link,
        "title": item.title,
        "content_html": item.content_html,
        "summary": item.summary,
        "date_published": _date(item.published),
        "date_modified": _date(item.updated),
    }
    if item.image is not None:
        data["image"] = item.image.url
    # Every item names its authors and the feed names none: JSON Feed 1.1 makes top-level
    # `authors` the fallback for items without their own, but Miniflux adds them to every
    # item's (internal/reader/json/adapter.go), showing "Prolog Media, Siti Rahma" as author.
    data["authors"] = [{"name": name} for name in item.authors or (site_author,)]
    if item.categories:
        data["tags"] = list(item.categories)
    data["language"] = item.language
    if item.image is not None and item.image.media_type:
        attachment: dict[str, Any] = {"url": item.image.url, "mime_type": item.image.media_type}
        if item.image.description:
            attachment["title"] = item.image.description
        if item.image.length:
            attachment["size_in_bytes"] = item.image.length
        data["attachments"] = [attachment]
    return data


def render_json(doc: FeedDoc) -> bytes:
    links = doc.links_for("json")
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": doc.title,
        "home_page_url": doc.home_url,
        # "serves as the unique identifier for the feed" (JSON Feed 1.1): an archive page names
        # the subscription document, or a reader following next_url sees a new feed per page.
        "feed_url": links.current,
        "description": doc.description,
        "language": doc.language,
    }
    if doc.icon:
        feed["icon"] = doc.icon
        feed["favicon"] = doc.icon
    if doc.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": doc.hub_url}]
    if links.prev_archive:
        feed["next_url"] = links.prev_archive
    history: dict[str, Any] = {"archive": doc.archive, "current": links.current}
    if links.prev_archive:
        history["prev_archive"] = links.prev_archive
    if links.next_archive:
        history["next_archive"] = links.next_archive
    feed["_rfc5005"] = history
    feed["items"] = [_item(item, doc.author) for item in doc.items]
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
