"""The one HTML allow-list every stored body goes through (HTML pages, markdown, JSON body_html).

    untrusted HTML | sanitize_html (nh3: allow-list, http/https/mailto only, relative URLs
        resolved against the page or dropped, rel="nofollow noopener") -> safe HTML

Nothing outside the list survives: no script/style (their content goes too), no event
handler, no style attribute, no `javascript:` or `data:` URL. Feeds and fediverse posts embed
this HTML as is, so this is the last line of defence.
"""

from __future__ import annotations

import re
from typing import Literal

import nh3

ALLOWED_TAGS = frozenset(
    {
        "p", "a", "strong", "em", "b", "i", "blockquote", "ul", "ol", "li",
        "h2", "h3", "h4", "figure", "figcaption", "img", "br",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed together with their content (the text of a script is never story text).
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
     "textarea", "select", "button", "title", "head"}
)  # fmt: skip
LINK_REL = "nofollow noopener"


_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")
# What nh3 leaves of a link whose URL was refused, and of an image without a source.
_DEAD_LINK = re.compile(r'<a rel="nofollow noopener">(.*?)</a>', re.DOTALL)
_DEAD_IMAGE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img":
        if attribute == "src":
            # An image from a mailto: URL is nonsense; only web (or relative) images are kept.
            scheme = _SCHEME.match(value)
            return None if scheme and scheme.group(1).lower() not in ("http", "https") else value
        if attribute in ("width", "height"):
            return value if value.isdigit() and len(value) <= 5 else None
    return value


def sanitize_html(html: str, *, base_url: str | None = None) -> str:
    """Clean a fragment. Relative URLs become absolute against `base_url`; without one they
    are dropped (a relative link in a feed points nowhere, W3C feed validator warning)."""
    relative: tuple[Literal["rewrite_with_base"], str] | Literal["deny"] = (
        ("rewrite_with_base", base_url) if base_url else "deny"
    )
    try:
        cleaned = _clean(html, relative)
    except ValueError:
        # nh3 parses the base with the WHATWG URL parser, stricter than urlsplit: a base it
        # refuses ("https://a b.example/", a bad IDN) is no base, not a failed article.
        if relative == "deny":
            raise
        cleaned = _clean(html, "deny")
    cleaned = _DEAD_LINK.sub(r"\1", cleaned)
    return _DEAD_IMAGE.sub("", cleaned).strip()


def _clean(html: str, relative: tuple[Literal["rewrite_with_base"], str] | Literal["deny"]) -> str:
    cleaned: str = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        url_relative=relative,
        strip_comments=True,
    )
    return cleaned
