"""One renderer per format, registered by name: adding a format is adding one entry. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from siarkan.feeds.atom import render_atom
from siarkan.feeds.jsonfeed import render_json
from siarkan.feeds.model import FeedDoc
from siarkan.feeds.rss import render_rss

Renderer = Callable[[FeedDoc], bytes]

RENDERERS: Mapping[str, Renderer] = {
    "rss": render_rss,
    "atom": render_atom,
    "json": render_json,
}


def render(doc: FeedDoc, fmt: str) -> bytes:
    return RENDERERS[fmt](doc)
